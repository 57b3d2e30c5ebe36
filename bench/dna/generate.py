"""Generate the DNA benchmark: a library of originals and query videos with ground truth.

    python -m bench.dna.generate --out bench/dna/results/data [--library 30] [--per-class 4] [--negatives 8]

Every query copies from library videos through one transform class (or none, for negatives), with
unrelated filler around the copy, and is re-encoded. ``manifest.json`` records, per query, each
copied segment on both timelines (seconds) and the transform parameters. Copies are made from the
*encoded* library files (decode, transform, encode again), as a real re-upload would be.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from bench.dna.content import PHOTOS, ContentPool, Program, Shot, font, load_photo, render
from bench.dna import gen5
from bench.dna.content4 import dissolve
from bench.dna.videoio import read_range, stream_frames, write_video

W, H = 480, 270  # the frame every copy is transformed in (library videos are rescaled to it first)
CLASSES = [
    "reencode", "scale", "crop", "letterbox", "vertical", "photometric", "grayscale", "blur_noise", "overlay",
    "flip", "vflip", "rotate", "speed", "reverse", "framerate", "pip", "combined", "partial", "whole", "splice",
    "reorder",
    # generation 4 (an independent held-out suite's failure modes)
    "pip_small", "split", "reframe", "rotate180", "short", "timelapse", "slowmo_blend", "dissolve",
]
NEGATIVE_KINDS = ["filler", "credits", "fractal", "landscape", "slides", "bars", "studio", "bumper", "plasma", "credits",
                  "mandel_point"]
# Generation 4: the library videos that end with scrolling credits (one layout, each its own names)
# and those that open with a painted landscape; the rest of the library gets landscapes by chance.
CREDITS_LIBS = (3, 8, 13)
LANDSCAPE_LIBS = (9, 12)
# Classes whose queries are always embedded in unrelated footage (the suite found embedded copies weak).
ALWAYS_EMBEDDED = {"pip_small", "split", "reframe", "rotate180", "short"}
# Generation 3: half of the queries of these classes copy around a shot of the named kinds (the
# combinations an independent held-out suite found weak: crops of fast motion, picture-in-picture of
# screen recordings, rotated title cards, smooth drifting noise under mild transforms).
TARGETS = {"crop": ["fast"], "pip": ["screen"], "rotate": ["title"], "reencode": ["plasma"], "vflip": ["plasma"],
           "speed": ["plasma"], "flip": ["plasma", "screen"], "scale": ["title", "screen"], "overlay": ["fast"]}
BUMPER_LIBS = (5, 6)  # two library videos open and close with the same animated bumper
BUMPER_S = 3.0
# The seeds: parameters (thresholds) are chosen on TUNING only; HELDOUT is scored, never tuned on.
SPLITS = {"tuning": 7, "heldout": 20261203}
LIB_SIZES = [(480, 270), (640, 360), (426, 240), (512, 288)]
LIB_FPS = [24.0, 25.0, 30.0, 30.0, 50.0]
SUBS = ["Breaking news at eleven", "Subscribe for more videos", "www.example.com/watch", "Exclusive footage"]
COMBO_PARTS = ["crop", "flip", "speed", "photometric", "scale", "overlay", "blur", "framerate", "grayscale"]


@dataclass
class Piece:
    """A stretch of the query timeline: filler content or a copy of a library segment."""

    duration: float
    program: Program | None = None  # filler
    ref: str = ""  # copy: library id
    r0: float = 0.0
    speed: float = 1.0
    reverse: bool = False  # the copy plays backwards
    fade: float = 0.0  # a crossfade (seconds) centred on the join with the previous piece


@dataclass
class QuerySpec:
    qid: str
    cls: str
    pieces: list[Piece]
    fps: float = 25.0
    crf: int = 26
    spatial: dict[str, Any] = field(default_factory=dict)
    background: Program | None = None  # for picture-in-picture
    embedded: bool = True  # unrelated footage around the copy (else the query is the copy alone)


# ----------------------------------------------------------------------------- spatial transforms
def _gamma(a: np.ndarray, g: float) -> np.ndarray:
    lut = (255.0 * (np.arange(256) / 255.0) ** g).clip(0, 255).astype(np.uint8)
    return lut[a]


def spatial_fn(sp: dict[str, Any]) -> Callable[[np.ndarray, float, np.ndarray | None], np.ndarray]:
    """A per-frame transform: (copy frame, query time, background frame) -> output frame."""
    kind = sp.get("kind", "none")

    def f(a: np.ndarray, t: float, bg: np.ndarray | None) -> np.ndarray:
        img = a
        if "crop" in sp:
            x, y, w, h = sp["crop"]
            x0, y0 = int(round(x * W)), int(round(y * H))
            img = np.asarray(Image.fromarray(img[y0 : y0 + int(round(h * H)), x0 : x0 + int(round(w * W))]).resize((W, H), Image.Resampling.BILINEAR))
        if sp.get("flip"):
            img = img[:, ::-1]
        if sp.get("vflip"):
            img = img[::-1]
        if sp.get("photometric"):
            img = _photometric(img, sp["photometric"])
        if sp.get("gray"):
            g = (img @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)
            img = np.repeat(g[:, :, None], 3, axis=2)
        if sp.get("blur"):
            img = np.asarray(Image.fromarray(img).filter(ImageFilter.GaussianBlur(sp["blur"])))
        if sp.get("logo"):
            img = _overlay(img, t, sp)
        if kind == "blur_noise":
            im = Image.fromarray(img)
            rng = np.random.default_rng(int(t * 1000) + sp["seed"])
            x = np.asarray(im).astype(np.float32) + rng.normal(0, sp["noise"], img.shape)
            img = np.clip(x, 0, 255).astype(np.uint8)
        elif kind == "vertical":
            img = _vertical(img, sp)
        elif kind == "letterbox":
            img = _letterbox(img, sp)
        elif kind == "vcrop":  # a 9:16 centre crop of the 16:9 picture, as a 270x480 frame
            cw = int(round(H * 9 / 16))
            x0 = min(max((W - cw) // 2 + round(sp.get("x_shift", 0.0) * W), 0), W - cw)
            img = np.asarray(Image.fromarray(img[:, x0 : x0 + cw]).resize((270, 480), Image.Resampling.BILINEAR))
        elif kind == "split":  # the copy on one half of the frame, other footage on the other half
            assert bg is not None
            half = W // 2
            own = (np.asarray(Image.fromarray(img).resize((half, H), Image.Resampling.BILINEAR)) if sp["mode"] == "squeeze"
                   else img[:, W // 4 : W // 4 + half])
            other = bg[:, W // 4 : W // 4 + half]
            img = np.ascontiguousarray(np.concatenate([own, other] if sp["side"] == "left" else [other, own], axis=1))
            img[:, half - 1 : half + 1] = 0  # a thin divider
        elif kind == "pip":
            assert bg is not None
            out = Image.fromarray(bg)
            px, py, pw, ph = sp["pip"]
            iw, ih = int(round(pw * W)), int(round(ph * H))
            inner = Image.fromarray(img).resize((iw, ih), Image.Resampling.BILINEAR)
            if sp.get("border"):
                ImageDraw.Draw(out).rectangle([int(px * W) - 3, int(py * H) - 3, int(px * W) + iw + 2, int(py * H) + ih + 2], fill=(240, 240, 240))
            out.paste(inner, (int(round(px * W)), int(round(py * H))))
            img = np.asarray(out)
        return frame_level(img, sp)

    return f


def frame_level(img: np.ndarray, sp: dict[str, Any]) -> np.ndarray:
    """The edits of the whole output frame (rotation, size), also applied to a picture-in-picture's
    background where it shows alone."""
    if sp.get("rotate"):
        img = np.ascontiguousarray(np.rot90(img, k=sp["rotate"] // 90))
    if sp.get("size") and tuple(sp["size"]) != (img.shape[1], img.shape[0]):
        img = np.asarray(Image.fromarray(img).resize(tuple(sp["size"]), Image.Resampling.BILINEAR))
    return img


def full_frame(shape: tuple[int, ...]) -> Callable[[np.ndarray], np.ndarray]:
    """A frame -> the same picture filling an output frame of ``shape`` (centre-cropped to its aspect, resized)."""
    oh, ow = shape[:2]

    def fill(img: np.ndarray) -> np.ndarray:
        h, w = img.shape[:2]
        cw, ch = (w, int(round(w * oh / ow))) if w * oh <= h * ow else (int(round(h * ow / oh)), h)
        x0, y0 = (w - cw) // 2, (h - ch) // 2
        return np.asarray(Image.fromarray(img[y0 : y0 + ch, x0 : x0 + cw]).resize((ow, oh), Image.Resampling.BILINEAR))

    return fill


def draw_photometric(r: np.random.Generator) -> dict[str, float]:
    """A brightness/contrast/gamma change (the parameters ``_photometric`` applies)."""
    return {"brightness": float(r.uniform(-40, 40)), "contrast": float(r.uniform(0.6, 1.5)), "gamma": float(r.uniform(0.6, 1.6))}


def draw_overlay(r: np.random.Generator) -> dict[str, Any]:
    """A logo in a corner, changing subtitles and a watermark (the parameters ``_overlay`` draws)."""
    return dict(logo=str(r.choice(PHOTOS)), logo_size=float(r.uniform(0.12, 0.2)), corner=str(r.choice(["tl", "tr", "bl", "br"])),
                subs=SUBS, watermark="SAMPLE")


def draw_vertical(r: np.random.Generator) -> dict[str, Any]:
    """A 9:16 frame over a blurred copy or a solid colour, the picture at height ``y`` (``_vertical``)."""
    return dict(background="blur" if r.random() < 0.6 else "color", color=[int(c) for c in r.integers(0, 255, 3)],
                y=float(r.uniform(0.35, 0.65)))


def _photometric(img: np.ndarray, ph: dict[str, float]) -> np.ndarray:
    x = img.astype(np.float32)
    x = (x - 128.0) * ph["contrast"] + 128.0 + ph["brightness"]
    return _gamma(np.clip(x, 0, 255).astype(np.uint8), ph["gamma"])


def _vertical(img: np.ndarray, sp: dict[str, Any]) -> np.ndarray:
    """A 9:16 vertical frame: the 16:9 picture across its width, over a blurred, enlarged copy of itself
    (or a solid colour)."""
    vw, vh = 270, 480
    src = Image.fromarray(img)
    if sp["background"] == "blur":
        bh = vh
        bw = int(round(W * bh / H))
        canvas = src.resize((bw, bh), Image.Resampling.BILINEAR).crop(((bw - vw) // 2, 0, (bw - vw) // 2 + vw, vh))
        canvas = canvas.filter(ImageFilter.GaussianBlur(sp.get("radius", 14)))
        canvas = Image.fromarray((np.asarray(canvas).astype(np.float32) * 0.7).astype(np.uint8))
    else:
        canvas = Image.new("RGB", (vw, vh), tuple(sp["color"]))
    ih = int(round(vw * H / W))
    canvas.paste(src.resize((vw, ih), Image.Resampling.BILINEAR), (0, int((vh - ih) * sp.get("y", 0.5))))
    return np.asarray(canvas)


def _letterbox(img: np.ndarray, sp: dict[str, Any]) -> np.ndarray:
    mode = sp["mode"]
    color = tuple(sp.get("color", (0, 0, 0)))
    if mode == "letterbox":  # 16:9 inside a 4:3 frame
        canvas = Image.new("RGB", (W, int(W * 3 / 4)), color)
        canvas.paste(Image.fromarray(img), (0, (canvas.size[1] - H) // 2))
    elif mode == "pillarbox":  # squeezed to 4:3 inside the 16:9 frame
        canvas = Image.new("RGB", (W, H), color)
        cw = int(H * 4 / 3)
        canvas.paste(Image.fromarray(img).resize((cw, H)), ((W - cw) // 2, 0))
    else:  # padding: a coloured frame all around
        canvas = Image.new("RGB", (W, H), color)
        s = sp["scale"]
        cw, ch = int(W * s), int(H * s)
        canvas.paste(Image.fromarray(img).resize((cw, ch)), ((W - cw) // 2, (H - ch) // 2))
    return np.asarray(canvas)


def _overlay(img: np.ndarray, t: float, sp: dict[str, Any]) -> np.ndarray:
    im = Image.fromarray(img).convert("RGBA")
    logo = load_photo(sp["logo"]).resize((int(W * sp["logo_size"]), int(W * sp["logo_size"] * 0.6)))
    lx = 8 if sp["corner"] in ("tl", "bl") else W - logo.size[0] - 8
    ly = 8 if sp["corner"] in ("tl", "tr") else H - logo.size[1] - 8
    im.paste(logo.convert("RGBA"), (lx, ly))
    layer = Image.new("RGBA", im.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    line = sp["subs"][int(t / 2.0) % len(sp["subs"])]
    d.text((W * 0.08, H * 0.84), line, fill=(255, 255, 255, 255), font=font(int(H * 0.07)), stroke_width=2, stroke_fill=(0, 0, 0, 255))
    d.text((W * 0.3, H * 0.4), sp["watermark"], fill=(255, 255, 255, 90), font=font(int(H * 0.12)))
    return np.asarray(Image.alpha_composite(im, layer).convert("RGB"))


def _write_once(path: Path, write: Callable[[Path], Any]) -> None:
    """Write through a temporary name; a file already there is kept (a rerun resumes: every random
    choice is drawn before rendering, so the same seed gives the same specs)."""
    if path.exists():
        return
    tmp = path.with_name(path.stem + ".partial.mp4")
    write(tmp)
    tmp.rename(path)


# ----------------------------------------------------------------------------- dataset
class Builder:
    def __init__(self, out: Path, seed: int, n_library: int):
        self.out = out
        self.rng = np.random.default_rng(seed)
        photos = list(PHOTOS)
        self.rng.shuffle(photos)
        n_lib_photos = min(len(photos) - 6, n_library)
        self.lib_pool = ContentPool(self.rng, photos[:n_lib_photos])
        self.fill_pool = ContentPool(self.rng, photos[n_lib_photos:], allow_once_kinds=False)
        self.template = int(self.rng.integers(0, 1 << 30))
        self.bumper = {"anim": int(self.rng.integers(0, 1 << 30)), "scheme": int(self.rng.integers(0, 1 << 30)), "title": "CHANNEL ONE"}
        self.lib_pool.caption_rate = 0.3
        self.fill_pool.caption_rate = 0.3
        self.credits_layout = int(self.rng.integers(0, 1 << 30))  # generation 4: the credits look every credits shot shares
        self.lib_pool.dissolve_rate = 0.25
        self.fill_pool.dissolve_rate = 0.15
        self.library: list[dict[str, Any]] = []
        self.queries: list[dict[str, Any]] = []

    # -------------------------------------------------------------- library
    def make_library(self, n: int, duration: tuple[float, float] = (30.0, 65.0)) -> None:
        """Programs of 2-15 s shots with hard cuts, at varied sizes and frame rates. Two videos are
        mostly fractal zooms (different centres: near-identical families), one is a slide deck (the
        template the same-template negatives share), one ends with an episode of a studio show (the set
        the studio negatives share), some carry colour bars and black."""
        for i in range(n):
            lid = f"lib{i:03d}"
            dur = float(self.rng.uniform(*duration))
            fps = float(self.rng.choice(LIB_FPS))
            size = LIB_SIZES[int(self.rng.integers(0, len(LIB_SIZES)))]
            prog = self.lib_pool.program(dur, shot_range=(2.0, 15.0), photos=3)
            if i in (0, 1):  # fractal zoom families
                prog.shots[0] = Shot("lavfi", max(prog.shots[0].duration, 8.0), {"source": "mandelbrot", "seed": 1000 + i, "hue": 30.0 * i})
            if i == 2:
                prog.shots[-1] = Shot("slides", max(prog.shots[-1].duration, 10.0), {"template": self.template, "seed": 77})
            if i == 4:  # an episode of a studio show (the set and graphics the studio negatives share)
                prog.shots[-1] = Shot("studio", max(prog.shots[-1].duration, 10.0), {"set": self.template ^ 0x5EED, "seed": 88})
            if i in CREDITS_LIBS:  # end credits: the shared layout, this video's own names
                prog.shots[-1] = Shot("credits", max(prog.shots[-1].duration, 6.0), {"layout": self.credits_layout, "seed": 300 + i})
            if i in LANDSCAPE_LIBS:
                prog.shots[0] = Shot("landscape", max(prog.shots[0].duration, 5.0), {"seed": self.lib_pool._next_seed()})
            if i in BUMPER_LIBS:  # the shared intro/outro bumper around a different middle
                prog.shots.insert(0, Shot("bumper", BUMPER_S, dict(self.bumper)))
                prog.shots.append(Shot("bumper", BUMPER_S, {**self.bumper, "outro": True}))
            if i % 5 == 3:  # colour bars and black leaders, as broadcast masters have
                prog.shots.insert(0, Shot("bars", 2.0))
                prog.shots.insert(1, Shot("black", 1.0))
            path = self.out / "library" / f"{lid}.mp4"
            _write_once(path, lambda p: write_video(p, render(prog, size, fps), fps, crf=20))
            self.library.append({"id": lid, "file": str(path.relative_to(self.out)), "duration": prog.duration, "fps": fps,
                                 "size": list(size), "shots": [s.kind if s.kind != "lavfi" else s.params["source"] for s in prog.shots],
                                 "shot_times": _shot_times(prog),
                                 "bumper": [[0.0, BUMPER_S], [prog.duration - BUMPER_S, prog.duration]] if i in BUMPER_LIBS else []})

    # -------------------------------------------------------------- queries
    def filler(self, dur: float) -> Piece:
        return Piece(dur, program=self.fill_pool.program(dur, photos=1))

    def copy_piece(self, lib: dict[str, Any], length: float, speed: float = 1.0, whole: bool = False,
                   around: tuple[float, float] | None = None) -> Piece:
        """A copied stretch of ``lib``; never inside its bumper (a bumper is no copy source: see README),
        centred on the shot ``around`` (start, duration) when given."""
        if whole:
            return Piece(lib["duration"] / speed, ref=lib["id"], r0=0.0, speed=speed)
        lo = lib["bumper"][0][1] if lib.get("bumper") else 0.0
        hi = lib["bumper"][1][0] if lib.get("bumper") else lib["duration"]
        length = min(length, hi - lo - 0.5)
        if around is not None:
            r0 = float(np.clip(around[0] + around[1] / 2 - length / 2 + self.rng.uniform(-1, 1), lo, hi - length))
        else:
            r0 = float(self.rng.uniform(lo, hi - length))
        return Piece(length / speed, ref=lib["id"], r0=r0, speed=speed)

    def pick(self, k: int = 1, no_bumper: bool = False) -> list[dict[str, Any]]:
        pool = [x for x in self.library if not (no_bumper and x.get("bumper"))]
        idx = self.rng.choice(len(pool), size=k, replace=False)
        return [pool[int(i)] for i in idx]

    def target(self, cls: str) -> tuple[dict[str, Any], tuple[float, float]] | None:
        """For half of a targeted class's queries: a library video and one of its shots of the class's target kinds."""
        kinds = TARGETS.get(cls)
        if not kinds or self.rng.random() < 0.5:
            return None
        cands = [(lib, (st, d)) for lib in self.library for kind, st, d in lib["shot_times"] if kind in kinds and d >= 2.0]
        if not cands:
            return None
        lib, shot = cands[int(self.rng.integers(0, len(cands)))]
        return lib, shot

    def spec(self, cls: str, k: int) -> QuerySpec:
        """Query k of a class: even k embedded in unrelated footage, odd k bare (the copy only)."""
        r = self.rng
        qid = f"q_{cls}_{k}"
        embedded = k % 2 == 0 or cls in ALWAYS_EMBEDDED
        lib = self.pick(no_bumper=cls in ("whole", "reorder"))[0]
        tgt = self.target(cls)
        if tgt is not None:
            lib = tgt[0]
        sp: dict[str, Any] = {"kind": cls}
        if tgt is not None:
            sp["target"] = [k for k, st, d in lib["shot_times"] if (st, d) == tgt[1]][0]
        fps, crf = float(r.choice([25.0, 30.0])), 26
        speed = 1.0
        reverse = False
        length = float(r.uniform(8, 15))
        parts = [str(x) for x in r.choice(COMBO_PARTS, 3, replace=False)] if cls == "combined" else []
        if cls == "combined":
            sp["parts"] = parts
        if cls == "reencode":
            sp["size"] = [320, 180]
            crf = 44
        elif cls == "scale":
            sp["size"] = [int(x) for x in [[640, 360], [256, 144], [320, 180], [854, 480]][int(r.integers(0, 4))]]
        if cls == "crop" or "crop" in parts:
            lo = 0.8 if cls == "crop" else 0.85
            kw, kh = r.uniform(lo, 0.95), r.uniform(lo, 0.95)
            sp["crop"] = [float(r.uniform(0, 1 - kw)), float(r.uniform(0, 1 - kh)), float(kw), float(kh)]
            if cls == "crop" and tgt is not None:  # a centre crop keeping 75-85 % of fast motion
                kw = kh = float(r.uniform(0.75, 0.85))
                sp["crop"] = [(1 - kw) / 2, (1 - kh) / 2, kw, kh]
            sp["kind"] = "crop"
        if cls == "letterbox":
            sp["mode"] = str(r.choice(["letterbox", "pillarbox", "padding"]))
            sp["color"] = [0, 0, 0] if r.random() < 0.5 else [int(c) for c in r.integers(0, 255, 3)]
            sp["scale"] = float(r.uniform(0.7, 0.9))
        elif cls == "vertical":
            sp.update(draw_vertical(r))
        if cls == "photometric" or "photometric" in parts:
            sp["photometric"] = draw_photometric(r)
            if cls == "photometric":
                sp["kind"] = "none"
        if cls == "grayscale" or "grayscale" in parts:
            sp["gray"] = True
        if cls == "blur_noise":
            sp.update(blur=float(r.uniform(1.0, 2.5)), noise=float(r.uniform(6, 15)), seed=int(r.integers(0, 1000)))
        if "blur" in parts:
            sp["blur"] = float(r.uniform(1.0, 2.0))
        if cls == "overlay" or "overlay" in parts:
            sp.update(draw_overlay(r))
        if cls == "flip" or "flip" in parts:
            sp["flip"] = True
        if cls == "vflip":
            sp["vflip"] = True
        if cls == "rotate":
            sp["rotate"] = int(r.choice([90, 270] if tgt is not None else [90, 180, 270]))
        if cls == "speed":
            speed = float(r.choice([r.uniform(0.5, 0.8), r.uniform(1.25, 2.0)]))
        if "speed" in parts:
            speed = float(r.choice([r.uniform(0.75, 0.9), r.uniform(1.1, 1.4)]))
        if cls == "reverse":
            reverse = True
        if cls == "framerate" or "framerate" in parts:
            fps = float(r.choice([12.0, 15.0, 24.0, 50.0, 60.0]))
            sp["size"] = [int(x) for x in [[480, 270], [640, 360], [320, 180]][int(r.integers(0, 3))]]
        if "scale" in parts:
            sp["size"] = [int(x) for x in [[640, 360], [320, 180]][int(r.integers(0, 2))]]
        if cls == "pip":
            sc = float(r.uniform(0.5, 0.75))  # linear: 25-56 % of the frame area
            sp["pip"] = [float(r.uniform(0, 1 - sc)), float(r.uniform(0, 1 - sc)), sc, sc]
            sp["border"] = bool(r.random() < 0.5)
        if cls == "combined":
            crf = 32
        if cls in ("pip_small", "split", "reframe", "rotate180", "timelapse", "slowmo_blend"):
            self._spec4(cls, sp)
            if cls == "timelapse":
                speed = float(r.uniform(3.0, 4.0))
                length = float(r.uniform(12, 24))  # on the library's timeline: 3-8 s in the query
            elif cls == "slowmo_blend":
                speed = float(r.uniform(0.33, 0.5))
                length = float(r.uniform(4, 7))
        pieces: list[Piece]
        if cls == "short":  # a 3-4 s copy inside a 30-60 s unrelated video
            length = float(r.uniform(3, 4))
            pieces = [self.filler(float(r.uniform(13, 28))), self.copy_piece(lib, length), self.filler(float(r.uniform(13, 28)))]
        elif cls == "dissolve":  # a splice whose joins are 0.5-1 s crossfades
            libs = self.pick(2 if r.random() < 0.5 else 3)
            pieces = [self.filler(float(r.uniform(2, 4)))] if embedded else []
            for lb in libs:
                pieces.append(self.copy_piece(lb, float(r.uniform(5, 9))))
            if embedded:
                pieces.append(self.filler(float(r.uniform(2, 4))))
            for p in pieces[1:]:
                p.fade = float(r.uniform(0.5, 1.0))
            sp["fades"] = [p.fade for p in pieces[1:]]
        elif cls == "partial":  # a short copy inside a long video
            length = float(r.uniform(3, 5))
            pieces = [self.filler(float(r.uniform(15, 30))), self.copy_piece(lib, length), self.filler(float(r.uniform(15, 25)))]
            if not embedded:  # a long video made of the library one, the copy inside it: 3-5 s alone
                pieces = [self.copy_piece(lib, length)]
        elif cls == "whole":
            pieces = [self.copy_piece(lib, lib["duration"], 1.0, whole=True)]
            fps = float(r.choice([24.0, 25.0, 30.0]))
            sp["size"] = [int(x) for x in [[480, 270], [640, 360], [426, 240]][int(r.integers(0, 3))]]
            if embedded:
                pieces = [self.filler(float(r.uniform(2, 6)))] + pieces + [self.filler(float(r.uniform(2, 6)))]
        elif cls == "splice":
            libs = self.pick(2 if r.random() < 0.5 else 3)
            pieces = [self.filler(float(r.uniform(1, 3)))] if embedded else []
            for lb in libs:
                pieces.append(self.copy_piece(lb, float(r.uniform(5, 9))))
                if embedded and r.random() < 0.5:
                    pieces.append(self.filler(float(r.uniform(1, 3))))
        elif cls == "reorder":
            n = 3
            seg = min(float(r.uniform(5, 8)), (lib["duration"] - 1) / n)
            starts = [0.5 + i * (lib["duration"] - 1) / n for i in range(n)]
            order = [2, 0, 1] if r.random() < 0.5 else [1, 2, 0]
            pieces = [self.filler(float(r.uniform(1, 3)))] if embedded else []
            for o in order:
                pieces.append(Piece(seg, ref=lib["id"], r0=float(starts[o] + r.uniform(0, (lib["duration"] - 1) / n - seg))))
        else:
            copy = self.copy_piece(lib, length, speed, around=tgt[1] if tgt is not None else None)
            copy.reverse = reverse
            pieces = [self.filler(float(r.uniform(2, 6))), copy, self.filler(float(r.uniform(2, 6)))] if embedded else [copy]
        # Pieces start on the query's frame grid so ground truth is exact.
        for p in pieces:
            p.duration = max(1.0 / fps, round(p.duration * fps) / fps)
        bg = None
        if cls in ("pip", "split"):
            bg = self.fill_pool.program(sum(p.duration for p in pieces) + 1.0, photos=1)
        elif cls == "pip_small":  # busy footage under a small picture
            bg = self.busy_program(sum(p.duration for p in pieces) + 1.0)
        return QuerySpec(qid, cls, pieces, fps, crf, sp, bg, embedded)

    def _spec4(self, cls: str, sp: dict[str, Any]) -> None:
        """Generation 4's spatial parameters."""
        r = self.rng
        if cls == "pip_small":  # 25-30 % of the frame's area in a corner, over busy footage
            sc = float(np.sqrt(r.uniform(0.25, 0.30)))
            m = float(r.uniform(0.02, 0.05))
            corner = str(r.choice(["tl", "tr", "bl", "br"]))
            x = m if corner in ("tl", "bl") else 1 - sc - m
            y = m if corner in ("tl", "tr") else 1 - sc - m
            sp.update(kind="pip", pip=[x, y, sc, sc], border=bool(r.random() < 0.3), corner=corner)
        elif cls == "split":
            sp.update(kind="split", mode=str(r.choice(["squeeze", "centre"])), side=str(r.choice(["left", "right"])))
        elif cls == "reframe":  # 9:16 vertical (blurred background or centre crop) or 4:3 with coloured padding
            mode = str(r.choice(["vertical_blur", "vertical_crop", "letterbox_color"]))
            sp["reframe"] = mode
            if mode == "vertical_blur":
                sp.update(kind="vertical", background="blur", y=float(r.uniform(0.35, 0.65)))
            elif mode == "vertical_crop":
                sp["kind"] = "vcrop"
            else:
                sp.update(kind="letterbox", mode="letterbox", color=[int(c) for c in r.integers(40, 255, 3)])
        elif cls == "rotate180":  # the copy alone turned upside down, the footage around it upright
            sp.update(kind="none", rotate=180, copy_only=True)
        elif cls == "timelapse":  # 3-4x; half of them average the frames each output frame spans
            sp.update(kind="none", blend="avg" if r.random() < 0.5 else "")
        elif cls == "slowmo_blend":  # 0.33-0.5x with frame blending between neighbouring frames
            sp.update(kind="none", blend="interp")

    def busy_program(self, dur: float) -> Program:
        shots: list[Shot] = []
        while sum(s.duration for s in shots) < dur - 1e-6:
            d = min(float(self.rng.uniform(2.0, 5.0)), dur - sum(s.duration for s in shots))
            shots.append(self.fill_pool.shot(max(d, 0.5), allow_photo=False, kind=str(self.rng.choice(["fast", "drawn", "lavfi"]))))
        return Program(shots)

    def negative(self, k: int) -> QuerySpec:
        """Copy-free queries, most of them look-alikes of library content."""
        kind = NEGATIVE_KINDS[k % len(NEGATIVE_KINDS)]
        dur = float(self.rng.uniform(15, 30))
        fps = float(self.rng.choice([25.0, 30.0]))
        if kind == "fractal":  # another zoom into the same fractal (as two library videos are)
            prog = Program([Shot("lavfi", dur, {"source": "mandelbrot", "seed": 5000 + k, "hue": float(self.rng.uniform(0, 360))})])
        elif kind == "slides":  # a deck on the library deck's template, with other text
            prog = Program([Shot("slides", dur, {"template": self.template, "seed": 9000 + k})])
        elif kind == "studio":  # another episode of the library's studio show: same set and graphics, other presenters and text
            prog = Program([Shot("studio", dur, {"set": self.template ^ 0x5EED, "seed": 9500 + k})])
        elif kind == "bumper":  # the library's bumper animation in other colours with another title, around unrelated footage
            other = {"anim": self.bumper["anim"], "scheme": 777 + k, "title": "CHANNEL " + ("TWO", "NINE", "PLUS")[k % 3]}
            prog = Program([Shot("bumper", BUMPER_S, other)] + self.fill_pool.program(dur - 2 * BUMPER_S, photos=1).shots
                           + [Shot("bumper", BUMPER_S, {**other, "outro": True})])
        elif kind == "credits":  # the library's credits layout (font, columns, colours, scroll) with other names
            prog = Program([Shot("credits", dur, {"layout": self.credits_layout, "seed": 41000 + k})])
        elif kind == "landscape":  # painted landscapes of its own (the library has some)
            prog = Program([Shot("landscape", dur / 2, {"seed": 43000 + k}), Shot("landscape", dur - dur / 2, {"seed": 43500 + k})])
        elif kind == "mandel_point":  # another zoom (other scales, colours) into the point lib000 zooms into
            prog = Program([Shot("lavfi", dur, {"source": "mandelbrot", "seed": 45000 + k, "point": 1000, "hue": float(self.rng.uniform(0, 360))})])
        elif kind == "plasma":  # smooth drifting noise of its own (the library has plasma shots)
            prog = Program([Shot("plasma", dur, {"seed": 31000 + k})])
        elif kind == "bars":  # colour bars, black and flat colour around unrelated footage
            prog = Program([Shot("bars", 3.0), Shot("black", 2.0)] + self.fill_pool.program(dur - 5.0, photos=1).shots)
        else:
            prog = self.fill_pool.program(dur, photos=1)
        return QuerySpec(f"q_negative_{k}", "negative", [Piece(prog.duration, program=prog)], fps, 26, {"kind": "none", "negative": kind})

    def make_query(self, q: QuerySpec) -> None:
        lib_by_id = {x["id"]: x for x in self.library}
        gt = []
        t = 0.0
        for p in q.pieces:
            if p.ref:
                gt.append({"ref": p.ref, "q": [round(t, 4), round(t + p.duration, 4)],
                           "r": [round(p.r0, 4), round(p.r0 + p.duration * p.speed, 4)]})
            t += p.duration
        path = self.out / "queries" / f"{q.qid}.mp4"
        _write_once(path, lambda p: write_video(p, self._frames(q, lib_by_id), q.fps, crf=q.crf))
        copies = [p for p in q.pieces if p.ref]
        self.queries.append({"id": q.qid, "class": q.cls, "file": str(path.relative_to(self.out)), "duration": t,
                             "fps": q.fps, "gt": gt, "embedded": q.embedded,
                             "transform": {**q.spatial, "speed": copies[0].speed if copies else 1.0,
                                           "reverse": bool(copies and copies[0].reverse)}})

    def _frames(self, q: QuerySpec, lib_by_id: dict[str, Any]) -> Iterator[np.ndarray]:
        """The query's frames. A piece with ``fade`` crossfades with the previous one over ``fade`` seconds
        centred on their join: the previous piece plays on past the join, this one starts before it
        (a filler holds its first / last frame); the ground truth keeps the join as the boundary."""
        f = spatial_fn(q.spatial)
        copy_only = bool(q.spatial.get("copy_only"))
        # Unrelated footage filling the whole output frame, while the copy is reframed in it (generation 5).
        fill = full_frame(f(np.zeros((H, W, 3), np.uint8), 0.0, None).shape) if q.spatial.get("fill_frame") else None
        bg_iter = render(q.background, (W, H), q.fps) if q.background is not None else None
        ns: list[int] = []
        k = 0
        t_piece = 0.0
        for p in q.pieces:
            ns.append(int(round((t_piece + p.duration) * q.fps)) - k)
            k += ns[-1]
            t_piece += p.duration

        def half(i: int) -> int:  # frames on each side of the join before piece i
            if i <= 0 or i >= len(q.pieces) or not q.pieces[i].fade:
                return 0
            return max(1, min(int(round(q.pieces[i].fade * q.fps / 2)), ns[i - 1] // 2, ns[i] // 2))

        k = 0
        for pi, p in enumerate(q.pieces):
            n = ns[pi]
            m_in, m_out = half(pi), half(pi + 1)
            pre = list(self._piece_frames(q.pieces[pi - 1], ns[pi - 1], ns[pi - 1] + m_in, q, lib_by_id)) if m_in else []
            post = list(self._piece_frames(q.pieces[pi + 1], -m_out, 0, q, lib_by_id)) if m_out else []
            for i, fr in enumerate(self._piece_frames(p, 0, n, q, lib_by_id)):
                if i < m_in:
                    fr = dissolve(pre[i], fr, (m_in + i + 0.5) / (2 * m_in))
                elif i >= n - m_out:
                    j = i - (n - m_out)
                    fr = dissolve(fr, post[j], (j + 0.5) / (2 * m_out))
                bg = next(bg_iter) if bg_iter is not None else None
                t = (k + i) / q.fps
                if p.program is not None:
                    # Picture-in-picture / split queries show only the background outside the copy.
                    yield (frame_level(bg, q.spatial) if bg is not None else fr if copy_only else fill(fr) if fill is not None
                           else f(fr, t, None))
                else:
                    yield f(fr, t, bg)
            k += n

    def _piece_frames(self, p: Piece, lo: int, hi: int, q: QuerySpec, lib_by_id: dict[str, Any]) -> Iterator[np.ndarray]:
        """Frames ``lo`` to ``hi`` (may reach before 0 or past the piece's end) of one piece, at 480x270."""
        fps = q.fps
        if p.program is not None:
            n = int(round(p.program.duration * fps))
            last: np.ndarray | None = None
            first: np.ndarray | None = None
            for i, fr in enumerate(render(p.program, (W, H), fps)):
                if first is None:
                    first = fr
                    for _ in range(lo, min(0, hi)):
                        yield first
                last = fr
                if lo <= i < hi:
                    yield fr
                if i + 1 >= hi:
                    return
            for _ in range(max(lo, n), hi):
                assert last is not None
                yield last
            return
        lib = lib_by_id[p.ref]
        n = int(round(p.duration * fps))
        ts = [p.r0 + ((n - 1 - i if p.reverse else i) / fps) * p.speed for i in range(lo, hi)]
        ts = [min(max(0.0, t), lib["duration"] - 1e-3) for t in ts]
        blend = q.spatial.get("blend", "")
        if blend:
            frames = stream_frames(self.out / lib["file"], ts, blend, p.speed / fps)
        else:
            got = read_range(self.out / lib["file"], min(ts) - 0.2, max(ts) + 0.2)
            times = np.array([x[0] for x in got])
            frames = (got[max(0, int(np.searchsorted(times, t + 1e-4, side="right")) - 1)][1] for t in ts)
        for img in frames:
            if img.shape[:2] != (H, W):
                img = np.asarray(Image.fromarray(img).resize((W, H), Image.Resampling.BILINEAR))
            yield img


def _shot_times(prog: Program) -> list[list[Any]]:
    out: list[list[Any]] = []
    t = 0.0
    for s in prog.shots:
        out.append([s.kind if s.kind != "lavfi" else s.params["source"], round(t, 4), round(s.duration, 4)])
        t += s.duration
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("bench/dna/results/data"))
    ap.add_argument("--split", choices=sorted(SPLITS), help="tuning or heldout: sets the seed")
    ap.add_argument("--seed", type=int, help="any other seed (default: the tuning seed)")
    ap.add_argument("--library", type=int, default=20)
    ap.add_argument("--per-class", type=int, default=4)
    ap.add_argument("--negatives", type=int, default=12)
    ap.add_argument("--classes", default=",".join(CLASSES))
    ap.add_argument("--gen5", default=",".join(gen5.CLASSES), help="generation-5 classes ('' for none)")
    args = ap.parse_args(argv)
    seed = args.seed if args.seed is not None else SPLITS[args.split or "tuning"]
    split = args.split or next((k for k, v in SPLITS.items() if v == seed), "custom")
    t0 = time.time()
    b = Builder(args.out, seed, args.library)
    b.make_library(args.library)
    print(f"library: {len(b.library)} videos ({time.time() - t0:.0f}s)", flush=True)
    for cls in [c for c in args.classes.split(",") if c]:
        for k in range(args.per_class):
            b.make_query(b.spec(cls, k))
        print(f"  {cls}: {args.per_class} queries ({time.time() - t0:.0f}s)", flush=True)
    for k in range(args.negatives):
        b.make_query(b.negative(k))
    gen5.seed_stream(b, seed)  # generation 5 draws from its own stream: generation 4 stays as it was
    for cls in [c for c in args.gen5.split(",") if c]:
        for k in range(args.per_class):
            b.make_query(gen5.spec(b, cls, k))
        print(f"  {cls}: {args.per_class} queries ({time.time() - t0:.0f}s)", flush=True)
    manifest = {"seed": seed, "split": split, "library": b.library, "queries": b.queries}
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    print(f"wrote {args.out / 'manifest.json'}: {len(b.library)} library videos, {len(b.queries)} queries "
          f"({time.time() - t0:.0f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
