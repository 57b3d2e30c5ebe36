"""Shot sources for the second blind DNA suite: scikit-image's bundled photographs under Ken Burns motion,
FFmpeg lavfi procedural sources through PyAV (life, cellauto, mandelbrot, sierpinski, zoneplate, gradients,
testsrc2, smptebars), and Pillow-drawn scenes (scrolling credits, slide decks, a studio set, a painted
landscape with moving shapes). Every source returns a (n, H, W, 3) uint8 array; nothing is downloaded."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

W, H, FPS = 426, 240, 25
SKDATA = Path(__import__("skimage").__file__).parent / "data"
PHOTOS = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "hubble_deep_field.jpg", "retina.jpg",
          "motorcycle_left.png", "brick.png", "grass.png", "gravel.png", "ihc.png", "camera.png", "moon.png",
          "page.png", "text.png", "coins.png", "clock_motion.png", "cell.png", "color.png", "logo.png"]
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_B = "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf"
WORDS = ("river stone harbor lantern copper meadow violet signal orbit ember falcon quartz willow tundra "
         "cinder marble nomad prism saffron delta summit aurora basalt canyon juniper").split()


def photo(name: str) -> np.ndarray:
    im = Image.open(SKDATA / name).convert("RGB")
    a = np.asarray(im)
    if min(a.shape[:2]) < 400:  # small photos are upscaled so a zoomed crop still has pixels
        f = 400 / min(a.shape[:2])
        a = cv2.resize(a, (int(a.shape[1] * f), int(a.shape[0] * f)), interpolation=cv2.INTER_CUBIC)
    return a


def kenburns(img: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    ih, iw = img.shape[:2]
    base = min(iw / W, ih / H)
    z0, z1 = rng.uniform(1.0, 1.25), rng.uniform(1.3, 1.8)
    if rng.random() < 0.5:
        z0, z1 = z1, z0
    c0 = rng.uniform(0.3, 0.7, 2)
    c1 = rng.uniform(0.3, 0.7, 2)
    out = np.empty((n, H, W, 3), np.uint8)
    for i in range(n):
        t = i / max(n - 1, 1)
        t = t * t * (3 - 2 * t)
        z = z0 + (z1 - z0) * t
        s = base / z  # source pixels per output pixel
        cw, ch = W * s, H * s
        cx = np.clip(c0[0] + (c1[0] - c0[0]) * t, cw / 2 / iw, 1 - cw / 2 / iw) * iw
        cy = np.clip(c0[1] + (c1[1] - c0[1]) * t, ch / 2 / ih, 1 - ch / 2 / ih) * ih
        m = np.float32([[1 / s, 0, W / 2 - cx / s], [0, 1 / s, H / 2 - cy / s]])
        out[i] = cv2.warpAffine(img, m, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return out


def lavfi(spec: str, n: int, scale_nearest: bool = False) -> np.ndarray:
    c = av.open(spec, format="lavfi")
    out = np.empty((n, H, W, 3), np.uint8)
    i = 0
    for f in c.decode(video=0):
        a = f.to_ndarray(format="rgb24")
        if a.shape[:2] != (H, W):
            a = cv2.resize(a, (W, H), interpolation=cv2.INTER_NEAREST if scale_nearest else cv2.INTER_LINEAR)
        out[i] = a
        i += 1
        if i >= n:
            break
    c.close()
    return out[:i] if i < n else out


def procedural(kind: str, n: int, rng: np.random.Generator, pt: int | None = None) -> np.ndarray:
    seed = int(rng.integers(1, 2**31 - 1))
    col = lambda: "#%02x%02x%02x" % tuple(int(x) for x in rng.integers(40, 255, 3))  # noqa: E731
    if kind == "life":
        gw = int(rng.choice([80, 106, 142]))
        return lavfi(f"life=s={gw}x{gw * 9 // 16}:r={FPS}:seed={seed}:ratio={rng.uniform(0.1, 0.4):.2f}:mold={int(rng.integers(0, 40))}"
                     f":life_color={col()}:death_color={col()}:mold_color={col()}", n, True)
    if kind == "cellauto":
        rule = int(rng.choice([18, 30, 45, 60, 73, 90, 105, 110, 150]))
        gw = int(rng.choice([142, 213]))
        return lavfi(f"cellauto=s={gw}x{gw * 9 // 16}:r={FPS}:rule={rule}:seed={seed}:random_fill_ratio={rng.uniform(0.2, 0.6):.2f}", n, True)
    if kind == "mandelbrot":
        pts = [(-0.743643887, 0.131825904), (-0.7453, 0.1127), (-1.25066, 0.02012), (-0.16, 1.0405), (0.2549, 0.0005),
               (-1.7497, 0.0), (-0.7269, 0.1889), (0.3245, 0.04855)]
        x, y = pts[int(rng.integers(len(pts))) if pt is None else pt]
        return lavfi(f"mandelbrot=s={W // 2}x{H // 2}:r={FPS}:start_x={x}:start_y={y}:start_scale={rng.uniform(1.5, 3):.2f}"
                     f":end_scale={rng.uniform(0.001, 0.05):.4f}:end_pts={n / FPS * rng.uniform(1.5, 4):.1f}:maxiter=400"
                     f":outer={rng.choice(['iteration_count', 'normalized_iteration_count'])}", n)
    if kind == "sierpinski":
        return lavfi(f"sierpinski=s={W}x{H}:r={FPS}:seed={seed}:jump={int(rng.integers(20, 200))}:type={rng.choice(['carpet', 'triangle'])}", n)
    if kind == "zoneplate":
        return lavfi(f"zoneplate=s={W}x{H}:r={FPS}:k0={int(rng.integers(0, 60))}:kt={int(rng.integers(-8, 8))}:kx={int(rng.integers(-40, 40))}"
                     f":ky={int(rng.integers(-40, 40))}:kt2={int(rng.integers(1, 6))}:kx2={int(rng.integers(2, 30))}:ky2={int(rng.integers(2, 30))}"
                     f":kxt={int(rng.integers(-10, 10))}", n)
    if kind == "gradients":
        return lavfi(f"gradients=s={W}x{H}:r={FPS}:seed={seed}:nb_colors={int(rng.integers(2, 8))}:speed={rng.uniform(0.005, 0.05):.3f}"
                     f":type={rng.choice(['linear', 'radial', 'circular', 'spiral'])}", n)
    if kind == "testsrc2":
        return lavfi(f"testsrc2=s={W}x{H}:r={FPS}", n)
    raise ValueError(kind)


_FONTS: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}


def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    if (path, size) not in _FONTS:
        _FONTS[(path, size)] = ImageFont.truetype(path, size)
    return _FONTS[(path, size)]


def credits(n: int, rng: np.random.Generator, bg: tuple[int, int, int] | None = None) -> np.ndarray:
    """Scrolling end credits: role / name pairs on a dark background moving up."""
    bg = bg or tuple(int(x) for x in rng.integers(0, 40, 3))
    lines = []
    for _ in range(60):
        lines.append((" ".join(rng.choice(WORDS, 2)).upper(), " ".join(w.capitalize() for w in rng.choice(WORDS, 2))))
    tall = Image.new("RGB", (W, 60 * 34 + 2 * H), bg)
    d = ImageDraw.Draw(tall)
    fr, fn = _font(FONT, 11), _font(FONT_B, 17)
    for k, (role, name) in enumerate(lines):
        y = H + k * 34
        d.text((W // 2 - 8, y + 4), role, font=fr, fill=(170, 170, 170), anchor="ra")
        d.text((W // 2 + 8, y), name, font=fn, fill=(255, 255, 240), anchor="la")
    t = np.asarray(tall)
    speed = rng.uniform(0.8, 2.0)
    return np.stack([t[int(i * speed):int(i * speed) + H] for i in range(n)])


def slides(n: int, rng: np.random.Generator, template: int, sec_per_slide: float = 4.0) -> np.ndarray:
    """A slide deck on a fixed template (colour bar header, logo, footer), new title/bullets every few seconds,
    bullets appear one by one. ``template`` fixes the look, rng the words."""
    trng = np.random.default_rng(template)
    head = tuple(int(x) for x in trng.integers(0, 200, 3))
    paper = tuple(int(x) for x in trng.integers(215, 256, 3))
    out = np.empty((n, H, W, 3), np.uint8)
    per = int(sec_per_slide * FPS)
    ft, fb, fs = _font(FONT_B, 20), _font(FONT, 14), _font(FONT, 9)
    cache: dict[tuple[int, int], np.ndarray] = {}
    decks = [(" ".join(rng.choice(WORDS, 3)).title(), [" ".join(rng.choice(WORDS, int(rng.integers(3, 6)))) for _ in range(4)])
             for _ in range(n // per + 2)]
    for i in range(n):
        s, k = i // per, min(4, (i % per) * 5 // per + 1)
        if (s, k) not in cache:
            im = Image.new("RGB", (W, H), paper)
            d = ImageDraw.Draw(im)
            d.rectangle([0, 0, W, 40], fill=head)
            d.ellipse([W - 36, 6, W - 8, 34], fill=paper)
            d.text((12, 9), decks[s][0], font=ft, fill=paper)
            for b, txt in enumerate(decks[s][1][:k]):
                d.text((22, 56 + b * 30), "\u2022 " + txt, font=fb, fill=(30, 30, 30))
            d.rectangle([0, H - 16, W, H], fill=head)
            d.text((8, H - 13), f"OPENVOD QUARTERLY  |  {s + 1}", font=fs, fill=paper)
            cache[(s, k)] = np.asarray(im)
        out[i] = cache[(s, k)]
    return out


def studio(n: int, rng: np.random.Generator, show: int) -> np.ndarray:
    """One episode of a studio show: the set (wall panels, desk, screen) is fixed by ``show``; the presenter
    (a moving figure), the screen content and the lower-third caption differ per episode (rng)."""
    srng = np.random.default_rng(1000 + show)
    wall = tuple(int(x) for x in srng.integers(20, 120, 3))
    im = Image.new("RGB", (W, H), wall)
    d = ImageDraw.Draw(im)
    for k in range(7):
        c = tuple(int(x) for x in np.clip(np.array(wall) + srng.integers(-30, 60, 3), 0, 255))
        d.rectangle([k * 62, 10, k * 62 + 50, 150], fill=c)
    d.rectangle([0, 170, W, H], fill=(60, 40, 30))
    d.polygon([(60, 175), (W - 60, 175), (W - 30, 215), (30, 215)], fill=(150, 110, 70))
    base = np.asarray(im).copy()
    scr_col = rng.integers(0, 255, (2, 3))
    cap = " ".join(rng.choice(WORDS, 4)).upper()
    out = np.empty((n, H, W, 3), np.uint8)
    px0 = rng.uniform(120, 300)
    for i in range(n):
        t = i / FPS
        f = Image.fromarray(base)
        d = ImageDraw.Draw(f)
        # wall screen
        a = 0.5 + 0.5 * np.sin(t * 0.7 + scr_col[0, 0])
        d.rectangle([300, 30, 400, 95], fill=tuple(int(x) for x in scr_col[0] * a + scr_col[1] * (1 - a)))
        # presenter
        px = px0 + 40 * np.sin(t * 0.5)
        py = 110 + 3 * np.sin(t * 3)
        d.ellipse([px - 14, py - 50, px + 14, py - 22], fill=(230, 190, 160))
        d.rectangle([px - 24, py - 20, px + 24, py + 65], fill=tuple(int(x) for x in scr_col[1]))
        d.rectangle([0, 196, W, 222], fill=(200, 20, 30))
        d.text((8, 200), cap, font=_font(FONT_B, 15), fill=(255, 255, 255))
        out[i] = np.asarray(f)
    return out


def landscape(n: int, rng: np.random.Generator) -> np.ndarray:
    """A painted landscape (sky gradient, hills) with a panning camera and a few moving shapes."""
    big_w = W * 2
    sky0, sky1 = rng.integers(0, 255, 3), rng.integers(0, 255, 3)
    yy = np.linspace(0, 1, H)[:, None, None]
    img = (sky0 * (1 - yy) + sky1 * yy).astype(np.uint8).repeat(big_w, 1)
    im = Image.fromarray(img)
    d = ImageDraw.Draw(im)
    for layer in range(3):
        c = tuple(int(x) for x in rng.integers(0, 200, 3))
        xs = np.linspace(0, big_w, 12)
        ys = H * (0.45 + 0.15 * layer) + rng.uniform(-30, 30, 12)
        d.polygon([(0, H)] + list(zip(xs.tolist(), ys.tolist())) + [(big_w, H)], fill=c)
    base = np.asarray(im)
    shapes = [(rng.uniform(0, W), rng.uniform(20, H - 40), rng.uniform(-4, 4), rng.uniform(-1, 1), int(rng.integers(8, 30)),
               tuple(int(x) for x in rng.integers(0, 255, 3)), int(rng.integers(0, 2))) for _ in range(5)]
    pan = rng.uniform(0.5, 3) * rng.choice([-1, 1])
    out = np.empty((n, H, W, 3), np.uint8)
    for i in range(n):
        x0 = int((W / 2 + pan * i) % W)
        f = Image.fromarray(np.ascontiguousarray(base[:, x0:x0 + W]))
        d = ImageDraw.Draw(f)
        for sx, sy, vx, vy, r, c, kind in shapes:
            x, y = (sx + vx * i) % W, sy + 20 * np.sin(vy * i / 10)
            (d.ellipse if kind else d.rectangle)([x - r, y - r, x + r, y + r], fill=c)
        out[i] = np.asarray(f)
    return out


def bars(n: int) -> np.ndarray:
    return lavfi(f"smptebars=s={W}x{H}:r={FPS}", n)


def flat(n: int, rgb: tuple[int, int, int]) -> np.ndarray:
    return np.broadcast_to(np.array(rgb, np.uint8), (n, H, W, 3)).copy()
