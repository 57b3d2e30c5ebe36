"""Generation 3 of the DNA benchmark's content: shot kinds picked to be hard for a copy detector.

* ``fast``: large shapes crossing the frame in well under a second, spinning, over a background that
  whips (fast pans) and flashes: two samples a quarter second apart share little, and a crop loses
  whole objects;
* ``screen``: a screen recording: an editor or a document (monospace code with syntax colours and
  line numbers, or CJK prose in Noto Sans CJK) scrolling in bursts with pauses, a blinking cursor:
  fine, high-contrast strokes on a flat background, small vertical motion;
* ``title``: title cards: one or two lines of big text on a flat or gradient background, a new card
  every 1.5-3.5 s with a slow push-in: almost no texture and little motion;
* ``plasma``: smooth drifting noise (sums of low-frequency waves whose phases drift, through a smooth
  palette): low detail, no edges, slow change;
* ``bumper``: an animated channel intro/outro: ``params["anim"]`` fixes the animation (bars sweeping
  in, a spinning logo, the title sliding in), ``params["scheme"]`` its colours and ``params["title"]``
  its text; two library videos share one bumper and a negative kind has the same animation in other
  colours with another title.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from bench.dna.content import WORDS, Shot, font

MONO = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
CJK = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
_FONTS: dict[tuple[str, int], Any] = {}


def _font(path: str, size: int) -> Any:
    if (path, size) not in _FONTS:
        try:
            _FONTS[(path, size)] = ImageFont.truetype(path, size)
        except OSError:
            _FONTS[(path, size)] = font(size)
    return _FONTS[(path, size)]


def _col(rng: np.random.Generator, lo: int = 0, hi: int = 256) -> tuple[int, int, int]:
    r, g, b = (int(c) for c in rng.integers(lo, hi, 3))
    return (r, g, b)


def render3(shot: Shot, size: tuple[int, int], fps: float, n: int) -> Iterator[np.ndarray]:
    kind = shot.kind
    if kind == "fast":
        return _fast(shot.params, size, fps, n)
    if kind == "screen":
        return _screen(shot.params, size, fps, n)
    if kind == "title":
        return _title(shot.params, size, fps, n)
    if kind == "plasma":
        return _plasma(shot.params, size, fps, n)
    return _bumper(shot.params, size, fps, n)


# ----------------------------------------------------------------------------- fast motion
def _fast(p: dict[str, Any], size: tuple[int, int], fps: float, n: int) -> Iterator[np.ndarray]:
    w, h = size
    rng = np.random.default_rng(p["seed"])
    bw, bh = w * 3, h * 2
    small = rng.integers(0, 255, size=(3, 8, 3)).astype(np.uint8)
    bg = Image.fromarray(small).resize((bw, bh), Image.Resampling.BICUBIC)
    d = ImageDraw.Draw(bg)
    for _ in range(int(rng.integers(10, 20))):  # stripes and blocks so the whip pans are visible
        x0, y0 = float(rng.uniform(0, bw)), float(rng.uniform(0, bh))
        d.rectangle([x0, y0, x0 + float(rng.uniform(6, bw / 10)), y0 + float(rng.uniform(20, bh))], fill=_col(rng))
    # Camera: a new whip every 0.4-1.2 s, to a random place, at 1.5-4 frame widths per second.
    shapes = []
    for _ in range(int(rng.integers(4, 9))):
        shapes.append({"pos": rng.uniform(0, 1, 2) * [w, h], "vel": rng.uniform(0.6, 2.0) * w * rng.choice([-1, 1], 2) * [1, rng.uniform(0.2, 1)],
                       "size": float(rng.uniform(0.15, 0.4)) * h, "spin": float(rng.uniform(-6, 6)), "color": _col(rng),
                       "sides": int(rng.integers(3, 7))})
    cam = np.array([rng.uniform(0, bw - w), rng.uniform(0, bh - h)])
    target, t_next = cam.copy(), 0.0
    flash_at = set(int(x) for x in rng.integers(0, max(1, n), max(1, n // 40)))
    for i in range(n):
        t = i / fps
        if t >= t_next:
            target = np.array([rng.uniform(0, bw - w), rng.uniform(0, bh - h)])
            t_next = t + float(rng.uniform(0.4, 1.2))
        step = (target - cam) * min(1.0, 6.0 / fps)
        cam = np.clip(cam + step, 0, [bw - w, bh - h])
        frame = bg.crop((int(cam[0]), int(cam[1]), int(cam[0]) + w, int(cam[1]) + h))
        dd = ImageDraw.Draw(frame)
        for s in shapes:
            x, y = s["pos"] + s["vel"] * t
            r = s["size"]
            x, y = x % (w + 2 * r) - r, y % (h + 2 * r) - r
            ang = s["spin"] * t
            pts = [(x + r * np.cos(ang + 2 * np.pi * k / s["sides"]), y + r * np.sin(ang + 2 * np.pi * k / s["sides"])) for k in range(s["sides"])]
            dd.polygon(pts, fill=s["color"], outline=(0, 0, 0))
        arr = np.asarray(frame)
        if i in flash_at:
            arr = np.clip(arr.astype(np.int16) + 90, 0, 255).astype(np.uint8)
        yield arr


# ----------------------------------------------------------------------------- screen recording
KEYWORDS = ["def", "return", "if", "else", "for", "while", "import", "class", "yield", "with", "async", "await", "try", "raise"]
IDENTS = ["frame", "index", "buffer", "result", "count", "value", "offset", "stream", "parser", "config", "session", "node"]
CJK_CHARS = ("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行"
             "学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政"
             "四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想"
             "已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几")


def _code_lines(rng: np.random.Generator, k: int) -> list[list[tuple[str, str]]]:
    """Pseudo-code lines as (token, role) lists; role picks the colour."""
    lines: list[list[tuple[str, str]]] = []
    indent = 0
    for _ in range(k):
        toks: list[tuple[str, str]] = [("    " * indent, "text")]
        r = rng.random()
        if r < 0.15:
            toks += [("def ", "kw"), (str(rng.choice(IDENTS)) + "_" + str(rng.choice(IDENTS)), "fn"), ("(self, " + str(rng.choice(IDENTS)) + "):", "text")]
            indent = 1
        elif r < 0.3:
            toks += [("# " + " ".join(str(x) for x in rng.choice(WORDS, int(rng.integers(2, 7)))), "comment")]
        elif r < 0.4:
            toks += [("", "text")]
            indent = max(0, indent - 1)
        else:
            toks += [(str(rng.choice(IDENTS)) + " = ", "text"), (str(rng.choice(KEYWORDS)) + " ", "kw"),
                     (str(rng.choice(IDENTS)) + "." + str(rng.choice(IDENTS)) + "(", "text"),
                     ('"' + str(rng.choice(WORDS)) + '"' if rng.random() < 0.5 else str(int(rng.integers(0, 4096))), "lit"), (")", "text")]
            if rng.random() < 0.2:
                indent = min(3, indent + 1)
        lines.append(toks)
    return lines


def _screen_page(p: dict[str, Any], size: tuple[int, int]) -> tuple[Image.Image, int, tuple[int, int, int]]:
    """The whole document, drawn once: (tall image, line height, text colour)."""
    w, h = size
    rng = np.random.default_rng(p["seed"])
    dark = bool(rng.random() < 0.6)
    bg = (int(rng.integers(15, 45)),) * 3 if dark else (int(rng.integers(235, 256)),) * 3
    palette = {"text": (220, 220, 220) if dark else (30, 30, 30), "kw": _col(rng, 120, 256), "fn": _col(rng, 80, 256),
               "lit": _col(rng, 100, 256), "comment": (120, 140, 120)}
    cjk = bool(p.get("cjk"))
    fs = max(9, int(h * (0.055 if cjk else 0.05)))
    lh = int(fs * 1.35)
    n_lines = 140
    page = Image.new("RGB", (w, n_lines * lh + h), bg)
    d = ImageDraw.Draw(page)
    gutter = int(w * 0.08)
    d.rectangle([0, 0, gutter - 4, page.size[1]], fill=tuple(max(0, c - 10) if dark else c - 20 for c in bg))
    mono, cj = _font(MONO, fs), _font(CJK, fs)
    code = _code_lines(rng, n_lines)
    for k in range(n_lines):
        y = k * lh + 4
        d.text((4, y), f"{k + 1:3d}", fill=(110, 110, 110), font=_font(MONO, max(8, fs - 2)))
        if cjk:
            m = int(rng.integers(0, 28))
            line = "".join(CJK_CHARS[int(j)] for j in rng.integers(0, len(CJK_CHARS), m))
            if m and rng.random() < 0.3:
                line = line[: m // 2] + "，" + line[m // 2 :] + "。"
            d.text((gutter + 4, y), line, fill=palette["text"], font=cj)
        else:
            x = gutter + 4
            for tok, role in code[k]:
                d.text((x, y), tok, fill=palette[role], font=mono)
                x += int(d.textlength(tok, font=mono))
    return page, lh, palette["text"]


def _screen(p: dict[str, Any], size: tuple[int, int], fps: float, n: int) -> Iterator[np.ndarray]:
    w, h = size
    page, lh, fg = _screen_page(p, size)
    rng = np.random.default_rng(p["seed"] + 1)
    bar_h = int(h * 0.07)
    top = float(rng.uniform(0, 20)) * lh
    speed, t_next = 0.0, 0.0
    max_top = page.size[1] - h
    for i in range(n):
        t = i / fps
        if t >= t_next:  # scroll bursts (2-12 lines a second) and pauses
            speed = 0.0 if rng.random() < 0.35 else float(rng.uniform(2, 12)) * lh
            t_next = t + float(rng.uniform(0.5, 2.0))
        top = min(max_top, top + speed / fps)
        frame = page.crop((0, int(top), w, int(top) + h))
        d = ImageDraw.Draw(frame)
        d.rectangle([0, 0, w, bar_h], fill=(60, 63, 65))  # the window's title bar and tab
        d.rectangle([int(w * 0.1), int(bar_h * 0.2), int(w * 0.34), bar_h], fill=(43, 43, 43))
        if int(t * 2) % 2 == 0:  # blinking cursor
            cy = bar_h + (int(h * 0.5) // lh) * lh
            d.rectangle([int(w * 0.3), cy, int(w * 0.3) + 2, cy + lh - 2], fill=fg)
        yield np.asarray(frame)


# ----------------------------------------------------------------------------- title cards
def _title(p: dict[str, Any], size: tuple[int, int], fps: float, n: int) -> Iterator[np.ndarray]:
    w, h = size
    rng = np.random.default_rng(p["seed"])
    big, sub = _font("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", max(14, int(h * 0.16))), font(max(9, int(h * 0.07)))
    card: Image.Image | None = None
    card_end = -1.0
    t0 = 0.0
    for i in range(n):
        t = i / fps
        if t >= card_end or card is None:
            t0, card_end = t, t + float(rng.uniform(1.5, 3.5))
            card = Image.new("RGB", size, _col(rng))
            if rng.random() < 0.5:  # a vertical gradient between two colours
                c0, c1 = np.array(_col(rng)), np.array(_col(rng))
                ramp = np.linspace(0, 1, h)[:, None, None]
                card = Image.fromarray((c0 * (1 - ramp) + c1 * ramp).astype(np.uint8).repeat(w, axis=1))
            d = ImageDraw.Draw(card)
            fg = tuple(255 - c for c in card.getpixel((w // 2, h // 2)))  # type: ignore[union-attr]
            text = " ".join(str(x) for x in rng.choice(WORDS, int(rng.integers(1, 3)))).upper()
            tw = d.textlength(text, font=big)
            d.text(((w - tw) / 2, h * float(rng.uniform(0.25, 0.45))), text, fill=fg, font=big)
            if rng.random() < 0.7:
                line = " ".join(str(x) for x in rng.choice(WORDS, int(rng.integers(2, 5)))).capitalize()
                d.text(((w - d.textlength(line, font=sub)) / 2, h * 0.68), line, fill=fg, font=sub)
        z = 1.0 + 0.04 * (t - t0)  # slow push-in
        cw, ch = w / z, h / z
        yield np.asarray(card.resize(size, Image.Resampling.BILINEAR, box=((w - cw) / 2, (h - ch) / 2, (w + cw) / 2, (h + ch) / 2)))


# ----------------------------------------------------------------------------- plasma
def _plasma(p: dict[str, Any], size: tuple[int, int], fps: float, n: int) -> Iterator[np.ndarray]:
    w, h = size
    rng = np.random.default_rng(p["seed"])
    gw, gh = 64, 36
    yy, xx = np.mgrid[0:gh, 0:gw].astype(np.float32)
    xx, yy = xx / gw, yy / gh
    waves = [(rng.uniform(0.5, 3.0) * np.array([np.cos(a), np.sin(a)]), rng.uniform(0, 6.3), rng.uniform(0.2, 1.0) * rng.choice([-1, 1]))
             for a in rng.uniform(0, 2 * np.pi, 5)]
    drift = rng.uniform(-0.08, 0.08, 2)  # the whole field drifts slowly
    stops = np.array([_col(rng) for _ in range(4)], np.float32)
    for i in range(n):
        t = i / fps
        x, y = xx + drift[0] * t, yy + drift[1] * t
        v = sum(np.sin(2 * np.pi * (k[0] * x + k[1] * y) + ph + sp * t) for k, ph, sp in waves)
        u = (np.asarray(v, np.float32) / 10.0 + 0.5).clip(0, 1) * 3
        j = np.minimum(u.astype(int), 2)
        f = (u - j)[..., None]
        rgb = stops[j] * (1 - f) + stops[j + 1] * f
        yield np.asarray(Image.fromarray(rgb.astype(np.uint8)).resize(size, Image.Resampling.BICUBIC))


# ----------------------------------------------------------------------------- bumper
def _bumper(p: dict[str, Any], size: tuple[int, int], fps: float, n: int) -> Iterator[np.ndarray]:
    """Bars sweep in from alternating sides, a logo polygon spins and grows in the middle, the title
    slides up under it; an outro (``params["outro"]``) plays the same animation backwards."""
    w, h = size
    ar = np.random.default_rng(p["anim"])
    bars = [(float(ar.uniform(0, 0.8)), float(ar.uniform(0.05, 0.2)), float(ar.uniform(0, 0.5)), int(ar.choice([-1, 1]))) for _ in range(7)]
    sides = int(ar.integers(3, 7))
    cr = np.random.default_rng(p["scheme"])
    bg, logo, accent = _col(cr, 0, 100), _col(cr, 120, 256), _col(cr, 60, 256)
    bar_cols = [_col(cr) for _ in bars]
    fnt = _font("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", max(12, int(h * 0.11)))
    dur = n / fps
    for i in range(n):
        t = (n - 1 - i) / fps if p.get("outro") else i / fps
        u = t / max(dur, 1e-6)
        im = Image.new("RGB", size, bg)
        d = ImageDraw.Draw(im)
        for (y, bh, delay, side), c in zip(bars, bar_cols, strict=True):
            k = min(1.0, max(0.0, (u - delay * 0.6) * 2.5))
            x1 = w * k
            d.rectangle([0, y * h, x1, (y + bh) * h] if side > 0 else [w - x1, y * h, w, (y + bh) * h], fill=c)
        r = h * 0.22 * min(1.0, u * 1.8)
        ang = 4.0 * t
        cx, cy = w / 2, h * 0.42
        if r > 1:
            d.polygon([(cx + r * np.cos(ang + 2 * np.pi * k / sides), cy + r * np.sin(ang + 2 * np.pi * k / sides)) for k in range(sides)], fill=logo, outline=accent)
            d.ellipse([cx - r * 0.35, cy - r * 0.35, cx + r * 0.35, cy + r * 0.35], fill=accent)
        if u > 0.35:
            ty = h * (0.95 - 0.2 * min(1.0, (u - 0.35) * 3))
            tw = d.textlength(p["title"], font=fnt)
            d.text(((w - tw) / 2, ty - h * 0.11), p["title"], fill=(255, 255, 255), font=fnt, stroke_width=2, stroke_fill=accent)
        yield np.asarray(im)
