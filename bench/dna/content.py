"""Synthetic video content for the DNA benchmark: real photographs, lavfi sources and drawn scenes.

A *program* is a list of shots joined by hard cuts; rendering it is deterministic, so the benchmark
is reproducible from its seed. Three kinds of shot:

* ``photo``: a pan/zoom (Ken Burns) over a photograph that ships inside the scikit-image wheel;
* ``lavfi``: an FFmpeg source filter (life, cellauto, mandelbrot, sierpinski, gradients, testsrc2)
  run through PyAV's filter graph, so no ffmpeg binary is needed;
* ``drawn``: moving shapes and text drawn with Pillow over a textured, panning background.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import av
import av.filter
import numpy as np
from PIL import Image, ImageDraw, ImageFont

# Photographs in the scikit-image wheel (no download). Stereo pairs and near-duplicates are left out
# so that two different shots never share content by accident.
PHOTOS = [
    "astronaut.png", "brick.png", "camera.png", "chelsea.png", "coffee.png", "coins.png", "grass.png",
    "gravel.png", "horse.png", "hubble_deep_field.jpg", "ihc.png", "moon.png", "motorcycle_left.png",
    "page.png", "retina.jpg", "rocket.jpg", "text.png", "cell.png", "clock_motion.png", "color.png",
    "microaneurysms.png", "logo.png",
]

# sierpinski is left out: its pattern hardly depends on the seed, so two "different" shots would be copies.
LAVFI_KINDS = ["life", "cellauto", "mandelbrot", "gradients", "testsrc2"]
# Sources whose picture barely depends on the seed (testsrc2 is fixed, every mandelbrot zoom ends on the
# same bulbs, gradients are one rotating edge): at most one shot of each, and only in the library.
ONCE_KINDS = {"testsrc2", "mandelbrot", "gradients"}
# Generation 3 (adversarial content, bench/dna/content3.py): fast motion, screen recordings, title
# cards, smooth drifting noise; the shared bumper is placed by generate.py.
GEN3_KINDS = ["fast", "screen", "title", "plasma"]
# Generation 4 (bench/dna/content4.py): painted landscapes in the pool; scrolling credits are placed by
# generate.py (library ends and look-alike negatives); dissolves at some cuts (ContentPool.dissolve_rate).
POOL4_KINDS = ["landscape"]


def photo_path(name: str) -> str:
    import skimage

    return os.path.join(os.path.dirname(skimage.__file__), "data", name)


_PHOTO_CACHE: dict[str, Image.Image] = {}


def load_photo(name: str) -> Image.Image:
    if name not in _PHOTO_CACHE:
        img = Image.open(photo_path(name)).convert("RGB")
        # Small photos are upscaled so pans have room; very large ones are reduced for speed.
        w, h = img.size
        scale = max(720 / max(w, h), 1.0) if max(w, h) < 720 else min(1.0, 1400 / max(w, h))
        if scale != 1.0:
            img = img.resize((int(w * scale), int(h * scale)), Image.Resampling.LANCZOS)
        _PHOTO_CACHE[name] = img
    return _PHOTO_CACHE[name]


@dataclass
class Shot:
    """One shot of a program."""

    kind: str  # photo | lavfi | drawn
    duration: float
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Program:
    """Shots joined by hard cuts."""

    shots: list[Shot]

    @property
    def duration(self) -> float:
        return sum(s.duration for s in self.shots)


class ContentPool:
    """Hands out content that is never reused: photos, lavfi seeds and drawing seeds."""

    def __init__(self, rng: np.random.Generator, photos: list[str], allow_once_kinds: bool = True):
        self.rng = rng
        self.photos = list(photos)
        self.seed = int(rng.integers(1, 1 << 30))
        self.used_once: set[str] = set() if allow_once_kinds else set(ONCE_KINDS)
        self.exclude_lavfi: set[str] = set()
        self.template = int(rng.integers(0, 1 << 30))  # the slide template every deck of this pool shares
        self.caption_rate = 0.0  # share of shots that get burnt-in captions
        self.dissolve_rate = 0.0  # share of cuts that are dissolves (0.5-1 s crossfades) instead

    def _next_seed(self) -> int:
        self.seed += 7919
        return self.seed

    def shot(self, duration: float, allow_photo: bool = True, kind: str | None = None) -> Shot:
        kinds = ["drawn", "lavfi", "lavfi"] + GEN3_KINDS + POOL4_KINDS + (["photo", "photo", "photo"] if allow_photo and self.photos else [])
        kind = kind or str(self.rng.choice(kinds))
        seed = self._next_seed()
        if kind == "photo" and not self.photos:
            kind = "drawn"
        if kind in POOL4_KINDS or kind == "credits":  # generation 4 (bench/dna/content4.py)
            return Shot(kind, duration, {"seed": seed})
        if kind in GEN3_KINDS:  # generation 3 (bench/dna/content3.py)
            return Shot(kind, duration, {"seed": seed, "cjk": bool(self.rng.random() < 0.35)} if kind == "screen" else {"seed": seed})
        if kind in ("slides", "bars", "black", "mandelbrot"):
            params: dict[str, Any] = {"seed": seed}
            if kind == "slides":
                params["template"] = self.template
            if kind == "mandelbrot":  # a zoom of the one fractal, at a random place: a family of look-alikes
                return Shot("lavfi", duration, {"source": "mandelbrot", "seed": seed, "hue": float(self.rng.uniform(0, 360))})
            return Shot(kind, duration, params)
        if kind == "photo":
            name = self.photos.pop(0)
            img = load_photo(name)
            return Shot("photo", duration, {"photo": name, **_pan(self.rng, img.size)})
        if kind == "lavfi":
            choices = [k for k in LAVFI_KINDS if k not in self.used_once and k not in self.exclude_lavfi]
            lk = str(self.rng.choice(choices))
            if lk in ONCE_KINDS:
                self.used_once.add(lk)
            return Shot("lavfi", duration, {"source": lk, "seed": seed, "hue": float(self.rng.uniform(0, 360))})
        return Shot("drawn", duration, {"seed": seed})

    def captioned(self, shot: Shot) -> Shot:
        if self.rng.random() < self.caption_rate:
            shot.params["caption"] = int(self.rng.integers(0, 1 << 30))
        return shot

    def program(self, duration: float, shot_range: tuple[float, float] = (2.0, 6.0), photos: int = 1) -> Program:
        shots: list[Shot] = []
        photo_shots = 0
        total = 0.0
        while total < duration - 1e-6:
            d = float(min(self.rng.uniform(*shot_range), duration - total))
            if d < 1.0 and shots:
                shots[-1].duration += d
                break
            s = self.captioned(self.shot(d, allow_photo=photo_shots < photos))
            if shots and self.dissolve_rate and self.rng.random() < self.dissolve_rate:
                s.params["dissolve"] = float(self.rng.uniform(0.5, 1.0))
            photo_shots += s.kind == "photo"
            shots.append(s)
            total += d
        return Program(shots)


def _pan(rng: np.random.Generator, size: tuple[int, int]) -> dict[str, Any]:
    w, h = size
    aspect = 16 / 9

    def box(zoom: float) -> list[float]:
        bw = min(w, h * aspect) * zoom
        bh = bw / aspect
        x = rng.uniform(0, w - bw)
        y = rng.uniform(0, h - bh)
        return [x, y, bw, bh]

    return {"start": box(float(rng.uniform(0.55, 1.0))), "end": box(float(rng.uniform(0.55, 1.0)))}


# ----------------------------------------------------------------------------- rendering
def render(program: Program, size: tuple[int, int], fps: float) -> Iterator[np.ndarray]:
    """RGB frames ``uint8[H, W, 3]`` of a program at ``fps``."""
    n_total = int(round(program.duration * fps))
    if any(s.params.get("dissolve") for s in program.shots):
        from bench.dna.content4 import with_dissolves

        yield from with_dissolves(program.shots, size, fps, _render_shot)
        return
    k = 0
    t_shot = 0.0
    for shot in program.shots:
        end = t_shot + shot.duration
        n = int(round(end * fps)) - k
        yield from _render_shot(shot, size, fps, max(n, 0))
        k += max(n, 0)
        t_shot = end
    while k < n_total:  # rounding
        k += 1
        yield np.zeros((size[1], size[0], 3), np.uint8)


def _render_shot(shot: Shot, size: tuple[int, int], fps: float, n: int) -> Iterator[np.ndarray]:
    if n <= 0:
        return
    if shot.kind == "photo":
        frames = _render_photo(shot, size, n)
    elif shot.kind == "lavfi":
        frames = _render_lavfi(shot, size, fps, n)
    elif shot.kind == "slides":
        frames = _render_slides(shot, size, fps, n)
    elif shot.kind == "bars":
        frames = _render_bars(size, n)
    elif shot.kind == "studio":
        frames = _render_studio(shot, size, fps, n)
    elif shot.kind in GEN3_KINDS or shot.kind == "bumper":
        from bench.dna.content3 import render3

        frames = render3(shot, size, fps, n)
    elif shot.kind in ("credits", "landscape"):
        from bench.dna.content4 import render4

        frames = render4(shot.kind, shot.params, size, fps, n)
    elif shot.kind == "black":
        frames = (np.zeros((size[1], size[0], 3), np.uint8) for _ in range(n))
    else:
        frames = _render_drawn(shot, size, n)
    if "caption" in shot.params:
        frames = _captions(frames, shot.params["caption"], size, fps)
    yield from frames


WORDS = ("the", "city", "river", "night", "market", "report", "today", "new", "season", "after", "before", "team",
         "wins", "storm", "light", "people", "world", "music", "history", "inside", "story", "secret", "open", "road")


def _sentence(rng: np.random.Generator, k: int) -> str:
    return " ".join(str(w) for w in rng.choice(WORDS, k)).capitalize()


def _captions(frames: Iterator[np.ndarray], seed: int, size: tuple[int, int], fps: float) -> Iterator[np.ndarray]:
    """Burnt-in subtitles: a new line every 1.5-3 s at the bottom of the picture."""
    w, h = size
    rng = np.random.default_rng(seed)
    fnt = font(max(10, int(h * 0.06)))
    line, until = "", -1.0
    for i, arr in enumerate(frames):
        t = i / fps
        if t >= until:
            line, until = _sentence(rng, int(rng.integers(3, 7))), t + float(rng.uniform(1.5, 3.0))
        im = Image.fromarray(arr)
        ImageDraw.Draw(im).text((w * 0.06, h * 0.86), line, fill=(255, 255, 255), font=fnt, stroke_width=2, stroke_fill=(0, 0, 0))
        yield np.asarray(im)


def _render_slides(shot: Shot, size: tuple[int, int], fps: float, n: int) -> Iterator[np.ndarray]:
    """A slide deck: one shared template (title bar, colours, logo block, footer) with per-deck text;
    a new slide every 2-4 s, bullets appearing one by one."""
    w, h = size
    tr = np.random.default_rng(shot.params["template"])
    bg = tuple(int(c) for c in tr.integers(180, 256, 3))
    bar = tuple(int(c) for c in tr.integers(0, 120, 3))
    accent = tuple(int(c) for c in tr.integers(0, 256, 3))
    rng = np.random.default_rng(shot.params["seed"])
    title_f, body_f = font(max(10, int(h * 0.08))), font(max(8, int(h * 0.055)))
    slide_start, slide_len, title, bullets = -1.0, 0.0, "", []
    for i in range(n):
        t = i / fps
        if t >= slide_start + slide_len:
            slide_start, slide_len = t, float(rng.uniform(2.0, 4.0))
            title = _sentence(rng, int(rng.integers(2, 5)))
            bullets = [_sentence(rng, int(rng.integers(3, 7))) for _ in range(int(rng.integers(2, 5)))]
        im = Image.new("RGB", size, bg)
        d = ImageDraw.Draw(im)
        d.rectangle([0, 0, w, int(h * 0.16)], fill=bar)
        d.rectangle([int(w * 0.88), int(h * 0.03), int(w * 0.97), int(h * 0.13)], fill=accent)  # the logo block
        d.rectangle([0, int(h * 0.94), w, h], fill=bar)
        d.text((w * 0.04, h * 0.03), title, fill=(255, 255, 255), font=title_f)
        shown = 1 + int((t - slide_start) / 0.8)
        for k, b in enumerate(bullets[:shown]):
            y = h * (0.24 + 0.14 * k)
            d.ellipse([w * 0.05, y + h * 0.02, w * 0.07, y + h * 0.05], fill=accent)
            d.text((w * 0.09, y), b, fill=(20, 20, 20), font=body_f)
        yield np.asarray(im)


def _render_studio(shot: Shot, size: tuple[int, int], fps: float, n: int) -> Iterator[np.ndarray]:
    """One episode of a studio show. The *set* (``params["set"]``: backdrop, desk, wall screen frame,
    channel logo, lower-third bar and ticker bar, their colours and places) is the same in every
    episode of the show; the *episode* (``params["seed"]``) brings other presenters (colours, sizes,
    places, their swaying and gestures), other names in the lower third, other ticker text and other
    pictures on the wall screen, and its own camera cuts between a wide and a closer framing."""
    w, h = size
    sr = np.random.default_rng(shot.params["set"])
    # The set, in set units (a 1.25x wider canvas than the frame, so the close framing can crop it).
    cw, ch = int(w * 1.25), int(h * 1.25)
    small = sr.integers(20, 140, size=(3, 5, 3)).astype(np.uint8)
    backdrop = Image.fromarray(small).resize((cw, ch), Image.Resampling.BICUBIC)
    d = ImageDraw.Draw(backdrop)
    for _ in range(6):  # backdrop panels and light strips
        x0 = float(sr.uniform(0, cw))
        d.rectangle([x0, 0, x0 + float(sr.uniform(8, cw / 8)), ch * 0.62], fill=tuple(int(c) for c in sr.integers(40, 220, 3)))
    screen = [cw * 0.56, ch * 0.12, cw * 0.9, ch * 0.5]
    d.rectangle([screen[0] - 4, screen[1] - 4, screen[2] + 4, screen[3] + 4], fill=tuple(int(c) for c in sr.integers(0, 60, 3)))
    desk_col = tuple(int(c) for c in sr.integers(60, 200, 3))
    d.polygon([(cw * 0.12, ch * 0.66), (cw * 0.88, ch * 0.66), (cw * 0.95, ch), (cw * 0.05, ch)], fill=desk_col)
    d.rectangle([cw * 0.12, ch * 0.64, cw * 0.88, ch * 0.68], fill=tuple(min(255, c + 50) for c in desk_col))
    bar = tuple(int(c) for c in sr.integers(0, 120, 3))
    accent = tuple(int(c) for c in sr.integers(120, 256, 3))
    set_img = backdrop
    er = np.random.default_rng(shot.params["seed"])
    hosts = []
    for k in range(int(er.integers(1, 3))):
        hosts.append({"x": float(er.uniform(0.2, 0.48) if k == 0 else er.uniform(0.52, 0.8)) * cw, "size": float(er.uniform(0.16, 0.24)) * ch,
                      "skin": tuple(int(c) for c in er.integers(90, 240, 3)), "suit": tuple(int(c) for c in er.integers(0, 200, 3)),
                      "hair": tuple(int(c) for c in er.integers(0, 120, 3)), "phase": float(er.uniform(0, 6.3)),
                      "sway": float(er.uniform(0.5, 2.0))})
    names = [_sentence(er, 2).upper() for _ in range(4)]
    ticker = "   +++   ".join(_sentence(er, int(er.integers(4, 8))) for _ in range(12))
    logo_f, name_f, tick_f = font(max(9, int(h * 0.07))), font(max(9, int(h * 0.065))), font(max(8, int(h * 0.05)))
    shot_end, framing, screen_img, name, screen_end = -1.0, 0, None, "", -1.0
    for i in range(n):
        t = i / fps
        if t >= shot_end:  # a camera cut: wide or close, held 2-6 s
            shot_end, framing = t + float(er.uniform(2.0, 6.0)), int(er.integers(0, 3))
            name = names[int(er.integers(0, len(names)))]
        if t >= screen_end:  # a new picture on the wall screen
            screen_end = t + float(er.uniform(1.5, 4.0))
            s_small = er.integers(0, 255, size=(3, 4, 3)).astype(np.uint8)
            screen_img = Image.fromarray(s_small).resize((int(screen[2] - screen[0]), int(screen[3] - screen[1])), Image.Resampling.BICUBIC)
        canvas = set_img.copy()
        assert screen_img is not None
        canvas.paste(screen_img, (int(screen[0]), int(screen[1])))
        dd = ImageDraw.Draw(canvas)
        for hst in hosts:  # presenters behind the desk: body, head, hair, a gesturing arm
            sway = hst["sway"] * np.sin(2 * np.pi * 0.4 * t + hst["phase"]) * cw * 0.004
            x, s = hst["x"] + sway, hst["size"]
            top = ch * 0.66 - 1.6 * s
            dd.rounded_rectangle([x - 0.55 * s, top + 0.55 * s, x + 0.55 * s, ch * 0.7], radius=int(0.2 * s), fill=hst["suit"])
            dd.ellipse([x - 0.3 * s, top, x + 0.3 * s, top + 0.62 * s], fill=hst["skin"])
            dd.chord([x - 0.32 * s, top - 0.05 * s, x + 0.32 * s, top + 0.4 * s], 180, 360, fill=hst["hair"])
            ang = 0.6 * np.sin(2 * np.pi * 0.7 * t + 2 * hst["phase"])
            ax, ay = x + 0.5 * s, top + 0.8 * s
            dd.line([ax, ay, ax + 0.6 * s * np.cos(ang), ay + 0.6 * s * np.sin(ang)], fill=hst["suit"], width=max(2, int(0.14 * s)))
        if framing == 2:  # close: a 0.8 crop around the first presenter
            cx = min(max(hosts[0]["x"], 0.4 * cw), 0.6 * cw)
            view = canvas.crop((int(cx - 0.4 * cw), int(0.1 * ch), int(cx + 0.4 * cw), int(0.9 * ch)))
        else:  # wide (two slightly different wide positions)
            off = 0.05 * framing
            x0, y0 = int((0.1 + off) * w), int(0.12 * h)
            view = canvas.crop((x0, y0, x0 + w, y0 + h))
        frame = view.resize(size, Image.Resampling.BILINEAR)
        fd = ImageDraw.Draw(frame)
        # Graphics every episode shares: channel logo, lower-third bar, ticker bar.
        fd.rectangle([w * 0.03, h * 0.04, w * 0.17, h * 0.14], fill=accent)
        fd.text((w * 0.045, h * 0.05), "NEWS", fill=bar, font=logo_f)
        fd.rectangle([w * 0.05, h * 0.7, w * 0.62, h * 0.8], fill=bar)
        fd.rectangle([w * 0.05, h * 0.7, w * 0.07, h * 0.8], fill=accent)
        fd.text((w * 0.09, h * 0.71), name, fill=(255, 255, 255), font=name_f)
        fd.rectangle([0, h * 0.88, w, h], fill=accent)
        fd.text((w * 0.02 - (t * w * 0.12) % (w * 8), h * 0.895), ticker, fill=bar, font=tick_f)
        yield np.asarray(frame)


def _render_bars(size: tuple[int, int], n: int) -> Iterator[np.ndarray]:
    """SMPTE-like colour bars (every bars shot is the same picture)."""
    w, h = size
    cols = [(192, 192, 192), (192, 192, 0), (0, 192, 192), (0, 192, 0), (192, 0, 192), (192, 0, 0), (0, 0, 192)]
    im = Image.new("RGB", size)
    d = ImageDraw.Draw(im)
    for k, c in enumerate(cols):
        d.rectangle([k * w // 7, 0, (k + 1) * w // 7, int(h * 0.7)], fill=c)
    for k in range(4):
        d.rectangle([k * w // 4, int(h * 0.75), (k + 1) * w // 4, h], fill=(16 + 60 * k,) * 3)
    arr = np.asarray(im)
    for _ in range(n):
        yield arr


def _render_photo(shot: Shot, size: tuple[int, int], n: int) -> Iterator[np.ndarray]:
    img = load_photo(shot.params["photo"])
    a, b = np.array(shot.params["start"]), np.array(shot.params["end"])
    for i in range(n):
        u = i / max(1, n - 1)
        u = u * u * (3 - 2 * u)
        x, y, w, h = a + (b - a) * u
        yield np.asarray(img.resize(size, Image.Resampling.BILINEAR, box=(x, y, x + w, y + h)))


def _lavfi_args(source: str, seed: int, w: int, h: int, fps: float, point: int | None = None) -> str:
    """``point`` (mandelbrot): the seed of the zoom's centre alone (another zoom into the same point)."""
    rng = np.random.default_rng(seed)
    base = f"size={w}x{h}:rate={fps}"
    if source == "life":
        return f"{base}:seed={seed % 100000}:ratio={rng.uniform(0.1, 0.5):.2f}:mold={int(rng.integers(0, 30))}"
    if source == "cellauto":
        rule = int(rng.choice([18, 30, 45, 57, 60, 73, 90, 105, 110, 150]))
        return f"{base}:seed={seed % 100000}:rule={rule}:random_fill_ratio={rng.uniform(0.2, 0.8):.2f}:scroll=1"
    if source == "mandelbrot":
        prng = np.random.default_rng(point) if point is not None else rng
        sx, sy = prng.uniform(-1.5, 0.3), prng.uniform(-0.8, 0.8)
        # A library zoom never goes below its end_scale (>= 0.01); a zoom into the same point starts below
        # that, so it never shows the same picture (else it is a recoloured speed change of the library's
        # zoom: a true copy, not a look-alike).
        start = rng.uniform(0.003, 0.009) if point is not None else rng.uniform(0.5, 3.0)
        end = rng.uniform(0.01, 0.3) * (start / 0.3 if point is not None else 1.0)
        scales = f"start_scale={start:.4f}:end_scale={end:.5f}" if point is not None else f"start_scale={start:.3f}:end_scale={end:.3f}"
        return f"{base}:start_x={sx:.4f}:start_y={sy:.4f}:{scales}:maxiter=256"
    if source == "sierpinski":
        return f"{base}:seed={seed % 100000}:jump={int(rng.integers(1, 20))}:type={rng.choice(['carpet', 'triangle'])}"
    if source == "gradients":
        return f"{base}:seed={seed % 100000}:nb_colors={int(rng.integers(2, 8))}:speed={rng.uniform(0.01, 0.05):.3f}"
    return base


# Cellular automata are run on a coarser grid and scaled up (nearest neighbour), so that cells form
# visible structure rather than pixel noise that no picture survives a re-encode with.
CELL_SCALE = {"life": 6, "cellauto": 4}


def _render_lavfi(shot: Shot, size: tuple[int, int], fps: float, n: int) -> Iterator[np.ndarray]:
    w, h = size
    src = shot.params["source"]
    cs = CELL_SCALE.get(src, 1)
    g = av.filter.Graph()
    s = g.add(src, _lavfi_args(src, shot.params["seed"], w // cs, h // cs, fps, shot.params.get("point")))
    hue = g.add("hue", f"h={shot.params['hue']:.1f}")
    fmt = g.add("format", "rgb24")
    sink = g.add("buffersink")
    s.link_to(hue)
    hue.link_to(fmt)
    fmt.link_to(sink)
    g.configure()
    for _ in range(n):
        frame = sink.pull()
        arr = frame.to_ndarray()
        if arr.shape[0] != h or arr.shape[1] != w:
            arr = np.asarray(Image.fromarray(arr).resize((w, h), Image.Resampling.NEAREST))
        yield arr


_FONT_CACHE: dict[int, Any] = {}


def font(size: int) -> Any:
    if size not in _FONT_CACHE:
        for p in ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"):
            if os.path.exists(p):
                _FONT_CACHE[size] = ImageFont.truetype(p, size)
                break
        else:
            _FONT_CACHE[size] = ImageFont.load_default(size)
    return _FONT_CACHE[size]


def _render_drawn(shot: Shot, size: tuple[int, int], n: int) -> Iterator[np.ndarray]:
    w, h = size
    rng = np.random.default_rng(shot.params["seed"])
    # Background: a random low-frequency colour field plus blocks, larger than the frame so it can pan.
    bw, bh = int(w * 1.4), int(h * 1.4)
    small = rng.integers(0, 255, size=(4, 6, 3)).astype(np.uint8)
    bg = Image.fromarray(small).resize((bw, bh), Image.Resampling.BICUBIC)
    d = ImageDraw.Draw(bg)
    for _ in range(int(rng.integers(4, 12))):
        x0, y0 = rng.uniform(0, bw), rng.uniform(0, bh)
        d.rectangle([x0, y0, x0 + rng.uniform(10, bw / 3), y0 + rng.uniform(10, bh / 3)],
                    fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
    pan = rng.uniform(-1, 1, 2) * np.array([bw - w, bh - h]) / max(1, n)
    start = np.array([rng.uniform(0, bw - w), rng.uniform(0, bh - h)])
    shapes = []
    for _ in range(int(rng.integers(3, 8))):
        shapes.append({
            "kind": str(rng.choice(["ellipse", "rect", "poly"])),
            "pos": rng.uniform(0, 1, 2) * [w, h],
            "vel": rng.uniform(-3, 3, 2),
            "size": rng.uniform(0.08, 0.3) * h,
            "color": tuple(int(c) for c in rng.integers(0, 255, 3)),
            "seed": int(rng.integers(0, 1 << 30)),
        })
    words = "".join(chr(int(c)) for c in rng.integers(65, 91, 8))
    text_pos = rng.uniform(0.05, 0.6, 2) * [w, h]
    fnt = font(int(h * 0.09))
    for i in range(n):
        off = np.clip(start + pan * i, 0, [bw - w, bh - h])
        frame = bg.crop((int(off[0]), int(off[1]), int(off[0]) + w, int(off[1]) + h)).copy()
        dd = ImageDraw.Draw(frame)
        for s in shapes:
            x, y = s["pos"] + s["vel"] * i
            x, y = x % (w + s["size"]) - s["size"] / 2, y % (h + s["size"]) - s["size"] / 2
            r = s["size"]
            if s["kind"] == "ellipse":
                dd.ellipse([x, y, x + r, y + r * 0.7], fill=s["color"])
            elif s["kind"] == "rect":
                dd.rectangle([x, y, x + r * 1.3, y + r * 0.6], fill=s["color"])
            else:
                prng = np.random.default_rng(s["seed"])
                pts = [(x + float(px) * r, y + float(py) * r) for px, py in prng.uniform(0, 1, (5, 2))]
                dd.polygon(pts, fill=s["color"])
        dd.text(tuple(text_pos), words, fill=(255, 255, 255), font=fnt, stroke_width=2, stroke_fill=(0, 0, 0))
        yield np.asarray(frame)
