"""Generation 4 of the DNA benchmark's content: look-alike families an independent suite found openvod
confusing, and dissolves.

* ``credits``: scrolling end credits: ``params["layout"]`` fixes the look (background black or a dark
  vertical gradient, text colour, font size, one centred column or two columns role | name, line
  spacing, scroll speed), ``params["seed"]`` the names (a name generator: Latin syllable names and
  about a quarter CJK names in Noto Sans CJK) and the order of roles. Credits of one layout with other
  names are the look-alikes: same font, same columns, same motion, other text;
* ``landscape``: a painted landscape (Pillow): a sky gradient, a sun, drifting clouds, three to five
  layers of hills (sums of sines, darker towards the front) and trees on the front hills, panned
  slowly sideways; every seed its own colours and shapes, all of them the same kind of picture;
* dissolves: a shot with ``params["dissolve"] = d`` (seconds) fades in over the previous shot, which
  keeps playing d seconds past the cut (``render4``, used by ``content.render``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from bench.dna.content import font
from bench.dna.content3 import CJK, CJK_CHARS, _col, _font

BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
GEN4_KINDS = ["credits", "landscape"]
ROLES = ["Director", "Producer", "Executive Producer", "Written by", "Director of Photography", "Editor", "Music",
         "Sound Design", "Production Designer", "Costume Design", "Casting", "Camera Operator", "Gaffer", "Key Grip",
         "Script Supervisor", "Visual Effects", "Colourist", "Location Manager", "Stunt Coordinator", "Makeup"]
ONSETS = ["b", "br", "c", "ch", "d", "f", "g", "gr", "h", "j", "k", "l", "m", "n", "p", "r", "s", "sh", "st", "t", "v", "w", "z"]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ie", "ou", "y"]
CODAS = ["", "", "n", "r", "s", "l", "m", "th", "rd", "ck", "nt", "ng"]
CJK_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"


def person_name(rng: np.random.Generator) -> tuple[str, bool]:
    """A made-up name: (text, is CJK)."""
    if rng.random() < 0.25:
        given = "".join(CJK_CHARS[int(j)] for j in rng.integers(0, len(CJK_CHARS), int(rng.integers(1, 3))))
        return CJK_SURNAMES[int(rng.integers(0, len(CJK_SURNAMES)))] + given, True

    def word(k: int) -> str:
        return "".join(str(rng.choice(ONSETS)) + str(rng.choice(VOWELS)) for _ in range(k)) + str(rng.choice(CODAS))

    return f"{word(int(rng.integers(1, 3))).capitalize()} {word(int(rng.integers(1, 4))).capitalize()}", False


# ----------------------------------------------------------------------------- credits
def _credits_roll(p: dict[str, Any], size: tuple[int, int]) -> tuple[Image.Image, float, Image.Image]:
    """(the roll of text on a transparent background, scroll speed px/s, the background frame)."""
    w, h = size
    lr = np.random.default_rng(p["layout"])
    fs = max(9, int(h * float(lr.uniform(0.05, 0.07))))
    two_col = bool(lr.random() < 0.6)
    spacing = float(lr.uniform(1.3, 1.8))
    speed = float(lr.uniform(0.12, 0.22)) * h  # px per second
    fg = (255, 255, 255) if lr.random() < 0.6 else _col(lr, 170, 256)
    role_col = tuple(int(c * 0.7) for c in fg)
    if lr.random() < 0.5:
        bg = Image.new("RGB", size, (0, 0, 0))
    else:
        c0, c1 = np.array(_col(lr, 0, 50)), np.array(_col(lr, 0, 25))
        ramp = np.linspace(0, 1, h)[:, None, None]
        bg = Image.fromarray((c0 * (1 - ramp) + c1 * ramp).astype(np.uint8).repeat(w, axis=1))
    rng = np.random.default_rng(p["seed"])
    lh = int(fs * spacing)
    n_lines = 90
    roll = Image.new("RGBA", (w, n_lines * lh + 2 * h), (0, 0, 0, 0))
    d = ImageDraw.Draw(roll)
    latin, cjk, head = _font(SANS, fs), _font(CJK, fs), _font(BOLD, int(fs * 1.2))
    y = h  # the roll starts below the frame
    roles = [str(x) for x in rng.permutation(ROLES)]
    k = 0
    while y < roll.size[1] - h - 3 * lh:
        role = roles[k % len(roles)]
        k += 1
        names = [person_name(rng) for _ in range(int(rng.integers(1, 4)))]
        if two_col:  # role right-aligned left of the centre, names left-aligned right of it
            d.text((w * 0.47 - d.textlength(role, font=latin), y), role, fill=role_col, font=latin)
            for name, is_cjk in names:
                d.text((w * 0.53, y), name, fill=fg, font=cjk if is_cjk else latin)
                y += lh
        else:  # one centred column: the role as a heading, the names under it
            d.text(((w - d.textlength(role.upper(), font=head)) / 2, y), role.upper(), fill=role_col, font=head)
            y += lh
            for name, is_cjk in names:
                f = cjk if is_cjk else latin
                d.text(((w - d.textlength(name, font=f)) / 2, y), name, fill=fg, font=f)
                y += lh
        y += int(lh * 0.8)
    return roll, speed, bg


def _credits(p: dict[str, Any], size: tuple[int, int], fps: float, n: int) -> Iterator[np.ndarray]:
    w, h = size
    roll, speed, bg = _credits_roll(p, size)
    start = float(np.random.default_rng(p["seed"] + 3).uniform(0.0, 0.6)) * h
    for i in range(n):
        top = int(start + speed * i / fps) % max(1, roll.size[1] - h)
        frame = bg.copy()
        frame.paste(roll.crop((0, top, w, top + h)), (0, 0), roll.crop((0, top, w, top + h)))
        yield np.asarray(frame)


# ----------------------------------------------------------------------------- painted landscape
def _landscape_image(seed: int, size: tuple[int, int]) -> tuple[Image.Image, list[dict[str, Any]]]:
    w, h = size
    rng = np.random.default_rng(seed)
    pw = int(w * 1.6)
    top, bottom = np.array(_col(rng, 40, 200)), np.array(_col(rng, 150, 256))
    ramp = np.linspace(0, 1, h)[:, None, None]
    img = Image.fromarray((top * (1 - ramp) + bottom * ramp).astype(np.uint8).repeat(pw, axis=1))
    d = ImageDraw.Draw(img)
    sx, sy, sr = float(rng.uniform(0.1, 0.9)) * pw, float(rng.uniform(0.1, 0.35)) * h, float(rng.uniform(0.05, 0.1)) * h
    d.ellipse([sx - sr, sy - sr, sx + sr, sy + sr], fill=_col(rng, 200, 256))
    layers = int(rng.integers(3, 6))
    base = np.array(_col(rng, 60, 220), np.float32)
    xs = np.arange(0, pw + 8, 8, dtype=np.float32)
    for k in range(layers):
        horizon = h * (0.45 + 0.45 * k / layers)
        amp = h * float(rng.uniform(0.04, 0.14))
        ys = horizon + sum(amp * float(rng.uniform(0.3, 1.0)) * np.sin(2 * np.pi * xs / pw * float(rng.integers(1, 6)) + float(rng.uniform(0, 6.3)))
                           for _ in range(3)) / 2
        shade = base * (1.0 - 0.6 * k / layers) + rng.uniform(-30, 30, 3)
        fill = tuple(int(c) for c in np.clip(shade, 0, 255))
        d.polygon([(0.0, float(h))] + [(float(x), float(y)) for x, y in zip(xs, ys, strict=True)] + [(float(pw), float(h))], fill=fill)
        if k >= layers - 2:  # trees on the front hills
            trunk = tuple(int(c) for c in np.clip(shade * 0.5, 0, 255))
            leaf = _col(rng, 0, 140)
            for x in rng.uniform(0, pw, int(rng.integers(4, 12))):
                y = float(np.interp(x, xs, ys))
                th = h * float(rng.uniform(0.08, 0.2))
                d.rectangle([x - th * 0.05, y - th * 0.4, x + th * 0.05, y + 2], fill=trunk)
                if rng.random() < 0.5:
                    d.polygon([(x - th * 0.3, y - th * 0.3), (x + th * 0.3, y - th * 0.3), (x, y - th * 1.1)], fill=leaf)
                else:
                    d.ellipse([x - th * 0.3, y - th * 1.0, x + th * 0.3, y - th * 0.3], fill=leaf)
    clouds = [{"x": float(rng.uniform(0, w)), "y": float(rng.uniform(0.05, 0.35)) * h, "r": float(rng.uniform(0.05, 0.12)) * h,
               "v": float(rng.uniform(4, 15)), "col": _col(rng, 200, 256)} for _ in range(int(rng.integers(2, 6)))]
    return img, clouds


def _landscape(p: dict[str, Any], size: tuple[int, int], fps: float, n: int) -> Iterator[np.ndarray]:
    w, h = size
    img, clouds = _landscape_image(p["seed"], size)
    rng = np.random.default_rng(p["seed"] + 1)
    x0 = float(rng.uniform(0, img.size[0] - w))
    v = float(rng.uniform(5, 20)) * float(rng.choice([-1, 1]))
    for i in range(n):
        t = i / fps
        x = float(np.clip(x0 + v * t, 0, img.size[0] - w))
        frame = img.crop((int(x), 0, int(x) + w, h))
        d = ImageDraw.Draw(frame)
        for c in clouds:
            cx = (c["x"] + c["v"] * t) % (w + 4 * c["r"]) - 2 * c["r"]
            r = c["r"]
            for dx in (-r, 0.0, r):
                d.ellipse([cx + dx - r, c["y"] - r * 0.6, cx + dx + r, c["y"] + r * 0.6], fill=c["col"])
        yield np.asarray(frame)


def render4(kind: str, params: dict[str, Any], size: tuple[int, int], fps: float, n: int) -> Iterator[np.ndarray]:
    if kind == "credits":
        return _credits(params, size, fps, n)
    return _landscape(params, size, fps, n)


def dissolve(a: np.ndarray, b: np.ndarray, alpha: float) -> np.ndarray:
    """``a`` faded into ``b`` by ``alpha`` (0: all a, 1: all b)."""
    return (a.astype(np.float32) * (1.0 - alpha) + b.astype(np.float32) * alpha + 0.5).astype(np.uint8)


def with_dissolves(shots: list[Any], size: tuple[int, int], fps: float, render_shot: Any) -> Iterator[np.ndarray]:
    """Frames of ``shots`` (cuts on the program's frame grid, as ``content.render``); a shot with
    ``params["dissolve"]`` fades in over the previous shot, rendered that much longer."""
    k = 0
    t_shot = 0.0
    carry: list[np.ndarray] = []  # the previous shot's frames past its cut
    for si, shot in enumerate(shots):
        end = t_shot + shot.duration
        n = max(int(round(end * fps)) - k, 0)
        nxt = shots[si + 1] if si + 1 < len(shots) else None
        m_out = int(round(float(nxt.params.get("dissolve", 0.0)) * fps)) if nxt is not None else 0
        m_out = min(m_out, max(0, int(round(nxt.duration * fps)) - 1)) if nxt is not None else 0
        new_carry: list[np.ndarray] = []
        for i, fr in enumerate(render_shot(shot, size, fps, n + m_out)):
            if i >= n:
                new_carry.append(fr)
                continue
            if i < len(carry):
                fr = dissolve(carry[i], fr, (i + 0.5) / len(carry))
            yield fr
        carry = new_carry
        k += n
        t_shot = end
