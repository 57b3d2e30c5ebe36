"""xval content: frame generators f(t) -> HxWx3 uint8 (W=320, H=180). Written from scratch for the
held-out check; independent of bench/dna. Sources: two photographs shipped in the Rust docs
(embedded-book assets), Pillow-drawn scenes, numpy plasma / noise / Julia fractals, text in DejaVu and
Noto CJK fonts, an animated bumper."""

from __future__ import annotations

import math
import os
from typing import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

W, H = 320, 180
Frame = Callable[[float], np.ndarray]
_DEFAULT_PHOTOS = [
    "/root/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/share/doc/rust/html/embedded-book/assets/f3.jpg",
    "/root/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/share/doc/rust/html/embedded-book/assets/verify.jpeg",
]
# Two photographs that ship with the Rust toolchain's docs on this machine kind; XVAL_PHOTOS=a.jpg:b.jpg overrides.
PHOTOS = os.environ.get("XVAL_PHOTOS", ":".join(_DEFAULT_PHOTOS)).split(":")
FONTS = {
    "mono": "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "serif": "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "cjk": "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "cjkserif": "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
}
YY, XX = np.mgrid[0:H, 0:W].astype(np.float32)


def _palette(rng: np.random.Generator) -> np.ndarray:
    """256x3 cyclic palette."""
    ph = rng.uniform(0, 2 * math.pi, 3)
    fr = rng.uniform(1, 3, 3)
    x = np.linspace(0, 2 * math.pi, 256)[:, None]
    return (127.5 + 127.5 * np.sin(x * fr + ph)).astype(np.uint8)


def _window(big: np.ndarray, x0: float, y0: float, scale: float) -> np.ndarray:
    """A W x H view of a big image: top-left (x0, y0) in big px, covering W*scale x H*scale px."""
    bh, bw = big.shape[:2]
    w, h = W * scale, H * scale
    x0 = min(max(0.0, x0), bw - w)
    y0 = min(max(0.0, y0), bh - h)
    im = Image.fromarray(big).resize((W, H), Image.BILINEAR, box=(x0, y0, x0 + w, y0 + h))
    return np.asarray(im)


def photo_pan(rng: np.random.Generator, path: str | None = None, img: np.ndarray | None = None) -> Frame:
    """Slow Ken-Burns pan/zoom over a photograph (or drawn image)."""
    big = np.asarray(Image.open(path).convert("RGB").resize((720, 477))) if img is None else img
    bh, bw = big.shape[:2]
    s0, s1 = rng.uniform(0.8, 1.4, 2) * min(bw / W, bh / H) * 0.7
    ax, ay = rng.uniform(0, 1, 2)
    bx, by = rng.uniform(0, 1, 2)

    def f(t: float) -> np.ndarray:
        u = min(1.0, t / 8.0)
        s = s0 + (s1 - s0) * u
        x = (ax + (bx - ax) * u) * (bw - W * s)
        y = (ay + (by - ay) * u) * (bh - H * s)
        return _window(big, x, y, s)
    return f


def drawn_scene(rng: np.random.Generator) -> np.ndarray:
    """A Pillow-drawn landscape/city, 720x400."""
    w, h = 720, 400
    im = Image.new("RGB", (w, h))
    d = ImageDraw.Draw(im)
    top, bot = rng.integers(0, 255, 3), rng.integers(0, 255, 3)
    for y in range(h):
        c = top + (bot - top) * y / h
        d.line([(0, y), (w, y)], fill=tuple(int(v) for v in c))
    sx, sy = rng.integers(50, w - 50), rng.integers(30, 150)
    d.ellipse([sx - 30, sy - 30, sx + 30, sy + 30], fill=tuple(int(v) for v in rng.integers(180, 255, 3)))
    for layer in range(3):
        base = 200 + layer * 60
        pts = [(0, h)] + [(x, base - rng.uniform(0, 120)) for x in np.linspace(0, w, rng.integers(5, 12))] + [(w, h)]
        d.polygon(pts, fill=tuple(int(v) for v in rng.integers(20, 200, 3)))
    for _ in range(rng.integers(5, 14)):
        x, bw_, bh_ = rng.integers(0, w - 40), rng.integers(20, 70), rng.integers(40, 180)
        col = tuple(int(v) for v in rng.integers(30, 230, 3))
        d.rectangle([x, h - bh_, x + bw_, h], fill=col)
        for wy in range(h - bh_ + 6, h - 8, 14):
            for wx in range(x + 4, x + bw_ - 6, 10):
                if rng.random() < 0.6:
                    d.rectangle([wx, wy, wx + 4, wy + 6], fill=(255, 240, 150))
    return np.asarray(im.filter(ImageFilter.SMOOTH))


def scene_pan(rng: np.random.Generator) -> Frame:
    big = drawn_scene(rng)
    f0 = photo_pan(rng, img=big)
    col = tuple(int(v) for v in rng.integers(0, 255, 3))
    vy, vx = rng.uniform(-20, 20), rng.uniform(30, 80) * rng.choice([-1, 1])
    y0 = rng.uniform(40, 140)

    def f(t: float) -> np.ndarray:  # a bird/car crossing
        im = Image.fromarray(f0(t))
        d = ImageDraw.Draw(im)
        x = (rng_x0 + vx * t) % (W + 40) - 20
        y = y0 + vy * math.sin(t)
        d.ellipse([x - 8, y - 4, x + 8, y + 4], fill=col)
        return np.asarray(im)
    rng_x0 = rng.uniform(0, W)
    return f


def fast_motion(rng: np.random.Generator) -> Frame:
    """Many shapes moving fast over a moving gradient, with camera shake."""
    n = int(rng.integers(6, 16))
    pos = rng.uniform(0, 1, (n, 2)) * [W, H]
    vel = rng.uniform(-400, 400, (n, 2))
    rad = rng.uniform(6, 30, n)
    cols = rng.integers(0, 255, (n, 3))
    kinds = rng.integers(0, 3, n)
    g0, g1 = rng.integers(0, 255, 3), rng.integers(0, 255, 3)
    ang = rng.uniform(0, 2 * math.pi)
    shake = rng.uniform(0, 6)

    def f(t: float) -> np.ndarray:
        a = ang + 0.8 * t
        g = (np.cos(a) * XX / W + np.sin(a) * YY / H + t * 0.3) % 1.0
        bg = (g0 + (g1 - g0) * g[..., None]).astype(np.uint8)
        im = Image.fromarray(bg)
        d = ImageDraw.Draw(im)
        p = pos + vel * t
        p = np.abs(((p + [W, H]) % (2 * np.array([W, H]))) - [W, H])  # bounce
        dx, dy = shake * math.sin(37 * t), shake * math.cos(29 * t)
        for k in range(n):
            x, y, r = p[k, 0] + dx, p[k, 1] + dy, rad[k]
            c = tuple(int(v) for v in cols[k])
            if kinds[k] == 0:
                d.ellipse([x - r, y - r, x + r, y + r], fill=c)
            elif kinds[k] == 1:
                d.rectangle([x - r, y - r * 0.6, x + r, y + r * 0.6], fill=c)
            else:
                th = t * 6 + k
                d.polygon([(x + r * math.cos(th + i * 2.094), y + r * math.sin(th + i * 2.094)) for i in range(3)], fill=c)
        return np.asarray(im)
    return f


def plasma(rng: np.random.Generator) -> Frame:
    pal = _palette(rng)
    k = rng.uniform(0.01, 0.06, (4, 2)) * rng.choice([-1, 1], (4, 2))
    w = rng.uniform(0.5, 2.5, 4)
    cx, cy = rng.uniform(0, W), rng.uniform(0, H)

    def f(t: float) -> np.ndarray:
        v = (np.sin(XX * k[0, 0] + YY * k[0, 1] + w[0] * t) + np.sin(XX * k[1, 0] + YY * k[1, 1] - w[1] * t)
             + np.sin(np.hypot(XX - cx - 30 * math.sin(t), YY - cy) * abs(k[2, 0]) + w[2] * t)
             + np.sin((XX * k[3, 0] + YY * k[3, 1]) * math.cos(t * 0.3) + w[3] * t))
        idx = ((v + 4) * 32).astype(np.int32) & 255
        return pal[idx]
    return f


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cell: int) -> np.ndarray:
    g = rng.uniform(0, 1, (h // cell + 3, w // cell + 3)).astype(np.float32)
    return np.asarray(Image.fromarray(g, mode="F").resize(((w // cell + 3) * cell, (h // cell + 3) * cell), Image.BICUBIC))


def noise_flow(rng: np.random.Generator) -> Frame:
    """Cloud-like value-noise field drifting; two octaves moving differently."""
    a = _smooth_noise(rng, 2 * H, 2 * W, int(rng.integers(24, 60)))
    b = _smooth_noise(rng, 2 * H, 2 * W, int(rng.integers(8, 20)))
    c0, c1 = rng.integers(0, 255, 3).astype(np.float32), rng.integers(0, 255, 3).astype(np.float32)
    va, vb = rng.uniform(-25, 25, 2), rng.uniform(-40, 40, 2)

    def f(t: float) -> np.ndarray:
        ax, ay = int(abs(va[0] * t)) % W, int(abs(va[1] * t)) % H
        bx, by = int(abs(vb[0] * t)) % W, int(abs(vb[1] * t)) % H
        v = 0.7 * a[ay:ay + H, ax:ax + W] + 0.3 * b[by:by + H, bx:bx + W]
        v = np.clip((v - 0.2) / 0.6, 0, 1)[..., None]
        return (c0 + (c1 - c0) * v).astype(np.uint8)
    return f


def julia(rng: np.random.Generator, c: complex | None = None) -> Frame:
    pal = _palette(rng)
    c = c if c is not None else complex(*(rng.uniform(-0.8, 0.4), rng.uniform(-0.8, 0.8)))
    z0 = rng.uniform(1.2, 1.8)
    rot = rng.uniform(-0.4, 0.4)

    def f(t: float) -> np.ndarray:
        s = z0 * math.exp(-0.08 * t)
        a = rot * t
        x = (XX - W / 2) / (H / 2) * s
        y = (YY - H / 2) / (H / 2) * s
        z = (x * math.cos(a) - y * math.sin(a)) + 1j * (x * math.sin(a) + y * math.cos(a))
        cc = c * complex(math.cos(0.05 * t), math.sin(0.05 * t))
        n = np.zeros(z.shape, np.int32)
        for i in range(24):
            m = np.abs(z) < 4
            z[m] = z[m] * z[m] + cc
            n += m
        return pal[(n * 10) & 255]
    return f


CODE_LINES = [
    "def handle(request):", "    user = auth.check(request.headers)", "    if not user:",
    "        return Response(status=401)", "    rows = db.query(Order).filter_by(owner=user.id)",
    "    for r in rows:", "        total += r.amount * r.qty", "    log.info('total=%s', total)",
    "class Cache(dict):", "    def __missing__(self, key):", "        self[key] = v = load(key)", "        return v",
    "$ make test -j8", "PASSED tests/test_api.py::test_upload", "FAILED tests/test_api.py::test_quota",
    "import numpy as np", "x = np.linspace(0, 1, 101)", "# TODO: retry with backoff", "}", "fn main() {",
    "    let v: Vec<u32> = (0..10).collect();", "    println!(\"{:?}\", v);", "SELECT id, name FROM users;",
]
CJK_LINES = [
    "视频内容分析平台", "第一章 系统架构", "上传文件到存储桶后，系统会自动转码。", "指纹比对用于发现重复内容。",
    "会议记录：二〇二六年十二月", "请在截止日期前提交报告。", "春眠不觉晓，处处闻啼鸟。", "夜来风雨声，花落知多少。",
    "图像识别与语音识别", "服务器负载过高，请稍后再试。", "数据库迁移已完成", "东京・大阪・名古屋 出張予定",
]


def text_scroll(rng: np.random.Generator, font: str = "mono", lines: list[str] | None = None,
                dark: bool | None = None) -> Frame:
    """A screen-recording-like window whose text scrolls up."""
    lines = lines or (CJK_LINES if font.startswith("cjk") else CODE_LINES)
    size = int(rng.integers(12, 18))
    fnt = ImageFont.truetype(FONTS[font], size)
    n = 80
    dark = bool(rng.random() < 0.5) if dark is None else dark
    bg, fg = ((30, 30, 36), (220, 220, 210)) if dark else ((250, 250, 245), (20, 20, 30))
    page = Image.new("RGB", (W, n * (size + 6) + H), bg)
    d = ImageDraw.Draw(page)
    accent = tuple(int(v) for v in rng.integers(60, 255, 3))
    for i in range(n):
        ln = lines[int(rng.integers(0, len(lines)))]
        indent = int(rng.integers(0, 3)) * 16
        d.text((28 + indent, 8 + i * (size + 6)), ln, font=fnt, fill=accent if rng.random() < 0.15 else fg)
        d.text((2, 8 + i * (size + 6)), f"{i + 1:>2}", font=ImageFont.truetype(FONTS["mono"], 9), fill=(128, 128, 128))
    page_a = np.asarray(page)
    speed = rng.uniform(15, 60)
    chrome = np.zeros((14, W, 3), np.uint8)
    chrome[:] = (70, 70, 80) if dark else (200, 200, 210)
    for i, c in enumerate([(255, 95, 86), (255, 189, 46), (39, 201, 63)]):
        chrome[4:10, 6 + i * 10:12 + i * 10] = c
    jumpy = rng.random() < 0.5  # page-at-a-time scrolling

    def f(t: float) -> np.ndarray:
        off = speed * t
        if jumpy:
            off = (int(t / 1.5) * 90) + 0.0
        off = int(off) % (page_a.shape[0] - H)
        out = page_a[off:off + H].copy()
        out[:14] = chrome
        return out
    return f


def slide(rng: np.random.Generator, font: str, text: str) -> Frame:
    """A static-ish title slide (slow zoom)."""
    im = Image.new("RGB", (W * 2, H * 2), tuple(int(v) for v in rng.integers(0, 255, 3)))
    d = ImageDraw.Draw(im)
    fnt = ImageFont.truetype(FONTS[font], 34)
    d.text((40, 120), text, font=fnt, fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    d.rectangle([40, 100, 600, 106], fill=(255, 255, 255))
    return photo_pan(rng, img=np.asarray(im))


def bumper(title: str, c0: tuple[int, int, int], c1: tuple[int, int, int], font: str = "serif") -> Frame:
    """An animated logo bumper: expanding ring, rotating bars, title fading in."""
    fnt = ImageFont.truetype(FONTS[font], 28)

    def f(t: float) -> np.ndarray:
        im = Image.new("RGB", (W, H), c0)
        d = ImageDraw.Draw(im)
        r = 10 + 60 * min(1.0, t / 1.2)
        d.ellipse([W / 2 - r, H / 2 - r, W / 2 + r, H / 2 + r], outline=c1, width=6)
        for i in range(6):
            a = t * 2 + i * math.pi / 3
            d.line([(W / 2, H / 2), (W / 2 + r * math.cos(a), H / 2 + r * math.sin(a))], fill=c1, width=3)
        alpha = min(1.0, max(0.0, (t - 0.8) / 1.0))
        col = tuple(int(c0[k] + (255 - c0[k]) * alpha) for k in range(3))
        d.text((W / 2 - 14 * len(title) / 2 * 1.1, H - 50), title, font=fnt, fill=col)
        return np.asarray(im)
    return f


def colour_bars(_: np.random.Generator) -> Frame:
    bars = [(192, 192, 192), (192, 192, 0), (0, 192, 192), (0, 192, 0), (192, 0, 192), (192, 0, 0), (0, 0, 192)]
    img = np.zeros((H, W, 3), np.uint8)
    for i, c in enumerate(bars):
        img[: int(H * 0.7), i * W // 7:(i + 1) * W // 7] = c
    img[int(H * 0.7):, :] = 16
    img[int(H * 0.75):int(H * 0.95), 20:80] = 235
    return lambda t: img


def black(_: np.random.Generator) -> Frame:
    img = np.full((H, W, 3), 2, np.uint8)
    return lambda t: img
