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

from bench.dna.content import PHOTOS, ContentPool, Program, font, load_photo, render
from bench.dna.videoio import read_range, write_video

W, H = 480, 270
CLASSES = [
    "reencode", "scale", "crop", "letterbox", "photometric", "grayscale", "blur_noise", "overlay",
    "flip", "speed", "framerate", "pip", "combined", "partial", "splice", "reorder",
]


@dataclass
class Piece:
    """A stretch of the query timeline: filler content or a copy of a library segment."""

    duration: float
    program: Program | None = None  # filler
    ref: str = ""  # copy: library id
    r0: float = 0.0
    speed: float = 1.0


@dataclass
class QuerySpec:
    qid: str
    cls: str
    pieces: list[Piece]
    fps: float = 25.0
    crf: int = 26
    spatial: dict[str, Any] = field(default_factory=dict)
    background: Program | None = None  # for picture-in-picture


# ----------------------------------------------------------------------------- spatial transforms
def _gamma(a: np.ndarray, g: float) -> np.ndarray:
    lut = (255.0 * (np.arange(256) / 255.0) ** g).clip(0, 255).astype(np.uint8)
    return lut[a]


def spatial_fn(sp: dict[str, Any]) -> Callable[[np.ndarray, float, np.ndarray | None], np.ndarray]:
    """A per-frame transform: (copy frame, query time, background frame) -> output frame."""
    kind = sp.get("kind", "none")

    def f(a: np.ndarray, t: float, bg: np.ndarray | None) -> np.ndarray:
        img = a
        if kind in ("crop", "combined") and "crop" in sp:
            x, y, w, h = sp["crop"]
            x0, y0 = int(round(x * W)), int(round(y * H))
            img = np.asarray(Image.fromarray(img[y0 : y0 + int(round(h * H)), x0 : x0 + int(round(w * W))]).resize((W, H), Image.Resampling.BILINEAR))
        if sp.get("flip"):
            img = img[:, ::-1]
        if kind == "photometric":
            x = img.astype(np.float32)
            x = (x - 128.0) * sp["contrast"] + 128.0 + sp["brightness"]
            img = _gamma(np.clip(x, 0, 255).astype(np.uint8), sp["gamma"])
        elif kind == "grayscale":
            g = (img @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)
            img = np.repeat(g[:, :, None], 3, axis=2)
        elif kind == "blur_noise":
            im = Image.fromarray(img).filter(ImageFilter.GaussianBlur(sp["blur"]))
            rng = np.random.default_rng(int(t * 1000) + sp["seed"])
            x = np.asarray(im).astype(np.float32) + rng.normal(0, sp["noise"], img.shape)
            img = np.clip(x, 0, 255).astype(np.uint8)
        elif kind == "overlay":
            img = _overlay(img, t, sp)
        elif kind == "letterbox":
            img = _letterbox(img, sp)
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
        if sp.get("size") and tuple(sp["size"]) != (img.shape[1], img.shape[0]):
            img = np.asarray(Image.fromarray(img).resize(tuple(sp["size"]), Image.Resampling.BILINEAR))
        return img

    return f


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
        self.library: list[dict[str, Any]] = []
        self.queries: list[dict[str, Any]] = []

    # -------------------------------------------------------------- library
    def make_library(self, n: int) -> None:
        for i in range(n):
            lid = f"lib{i:03d}"
            dur = float(self.rng.uniform(20, 30))
            fps = float(self.rng.choice([24.0, 25.0, 30.0]))
            prog = self.lib_pool.program(dur)
            path = self.out / "library" / f"{lid}.mp4"
            write_video(path, render(prog, (W, H), fps), fps, crf=20)
            self.library.append({"id": lid, "file": str(path.relative_to(self.out)), "duration": prog.duration, "fps": fps,
                                 "shots": [s.kind for s in prog.shots]})

    # -------------------------------------------------------------- queries
    def filler(self, dur: float) -> Piece:
        return Piece(dur, program=self.fill_pool.program(dur, photos=1))

    def copy_piece(self, lib: dict[str, Any], length: float, speed: float = 1.0) -> Piece:
        length = min(length, lib["duration"] - 0.5)
        r0 = float(self.rng.uniform(0.0, lib["duration"] - length))
        return Piece(length / speed, ref=lib["id"], r0=r0, speed=speed)

    def pick(self, k: int = 1) -> list[dict[str, Any]]:
        idx = self.rng.choice(len(self.library), size=k, replace=False)
        return [self.library[int(i)] for i in idx]

    def spec(self, cls: str, k: int) -> QuerySpec:
        r = self.rng
        qid = f"q_{cls}_{k}"
        lib = self.pick()[0]
        sp: dict[str, Any] = {"kind": cls}
        fps, crf = float(r.choice([25.0, 30.0])), 26
        speed = 1.0
        length = float(r.uniform(8, 15))
        if cls == "reencode":
            sp["size"] = [320, 180]
            crf = 44
        elif cls == "scale":
            sp["size"] = [int(x) for x in [[640, 360], [256, 144], [320, 180]][int(r.integers(0, 3))]]
        elif cls == "crop":
            kw, kh = r.uniform(0.8, 0.95), r.uniform(0.8, 0.95)
            sp["crop"] = [float(r.uniform(0, 1 - kw)), float(r.uniform(0, 1 - kh)), float(kw), float(kh)]
        elif cls == "letterbox":
            sp["mode"] = str(r.choice(["letterbox", "pillarbox", "padding"]))
            sp["color"] = [0, 0, 0] if r.random() < 0.6 else [int(c) for c in r.integers(0, 255, 3)]
            sp["scale"] = float(r.uniform(0.7, 0.9))
        elif cls == "photometric":
            sp.update(brightness=float(r.uniform(-40, 40)), contrast=float(r.uniform(0.6, 1.5)), gamma=float(r.uniform(0.6, 1.6)))
        elif cls == "blur_noise":
            sp.update(blur=float(r.uniform(1.0, 2.5)), noise=float(r.uniform(6, 15)), seed=int(r.integers(0, 1000)))
        elif cls == "overlay":
            sp.update(logo=str(r.choice(PHOTOS)), logo_size=float(r.uniform(0.12, 0.2)), corner=str(r.choice(["tl", "tr", "bl", "br"])),
                      subs=["Breaking news at eleven", "Subscribe for more videos", "www.example.com/watch", "Exclusive footage"],
                      watermark="SAMPLE")
        elif cls == "flip":
            sp["flip"] = True
        elif cls == "speed":
            speed = float(r.choice([r.uniform(0.75, 0.9), r.uniform(1.1, 1.33)]))
        elif cls == "framerate":
            fps = float(r.choice([12.0, 15.0, 50.0, 60.0]))
        elif cls == "pip":
            s = float(r.uniform(0.72, 0.85))
            sp["pip"] = [float(r.uniform(0, 1 - s)), float(r.uniform(0, 1 - s)), s, s]
            sp["border"] = bool(r.random() < 0.5)
        elif cls == "combined":
            kw = r.uniform(0.85, 0.95)
            sp["crop"] = [float(r.uniform(0, 1 - kw)), float(r.uniform(0, 1 - kw)), float(kw), float(kw)]
            sp["flip"] = True
            speed = float(r.choice([r.uniform(0.8, 0.9), r.uniform(1.1, 1.25)]))
            crf = 36
        pieces: list[Piece]
        if cls == "partial":
            length = float(r.uniform(5, 7))
            before = float(r.uniform(15, 30))
            pieces = [self.filler(before), self.copy_piece(lib, length), self.filler(float(r.uniform(15, 25)))]
        elif cls == "splice":
            libs = self.pick(3)
            pieces = [self.filler(float(r.uniform(0, 2)))]
            for lb in libs:
                pieces.append(self.copy_piece(lb, float(r.uniform(5, 8))))
                if r.random() < 0.5:
                    pieces.append(self.filler(float(r.uniform(1, 3))))
        elif cls == "reorder":
            n = 3
            seg = min(float(r.uniform(5, 7)), (lib["duration"] - 1) / n)
            starts = [0.5 + i * (lib["duration"] - 1) / n for i in range(n)]
            order = [2, 0, 1] if r.random() < 0.5 else [1, 2, 0]
            pieces = [self.filler(float(r.uniform(1, 3)))]
            for o in order:
                pieces.append(Piece(seg, ref=lib["id"], r0=float(starts[o] + r.uniform(0, (lib["duration"] - 1) / n - seg))))
        else:
            pieces = [self.filler(float(r.uniform(1, 5))), self.copy_piece(lib, length, speed), self.filler(float(r.uniform(1, 5)))]
        # Pieces start on the query's frame grid so ground truth is exact.
        for p in pieces:
            p.duration = max(1.0 / fps, round(p.duration * fps) / fps)
        bg = None
        if cls == "pip":
            bg = self.fill_pool.program(sum(p.duration for p in pieces) + 1.0, photos=1)
        return QuerySpec(qid, cls, pieces, fps, crf, sp, bg)

    def negative(self, k: int) -> QuerySpec:
        dur = float(self.rng.uniform(15, 30))
        return QuerySpec(f"q_negative_{k}", "negative", [self.filler(dur)], float(self.rng.choice([25.0, 30.0])), 26, {"kind": "none"})

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
        write_video(path, self._frames(q, lib_by_id), q.fps, crf=q.crf)
        self.queries.append({"id": q.qid, "class": q.cls, "file": str(path.relative_to(self.out)), "duration": t,
                             "fps": q.fps, "gt": gt, "transform": {**q.spatial, "speed": q.pieces[1].speed if len(q.pieces) > 1 else 1.0}})

    def _frames(self, q: QuerySpec, lib_by_id: dict[str, Any]) -> Iterator[np.ndarray]:
        f = spatial_fn(q.spatial)
        bg_iter = render(q.background, (W, H), q.fps) if q.background is not None else None
        k = 0
        t_piece = 0.0
        for p in q.pieces:
            n = int(round((t_piece + p.duration) * q.fps)) - k
            if p.program is not None:
                src = render(p.program, (W, H), q.fps)
                for i in range(n):
                    fr = next(src)
                    bg = next(bg_iter) if bg_iter is not None else None
                    # Picture-in-picture queries show only the background outside the copy.
                    yield bg if bg is not None else f(fr, (k + i) / q.fps, None)
            else:
                lib = lib_by_id[p.ref]
                frames = read_range(self.out / lib["file"], p.r0 - 0.2, p.r0 + p.duration * p.speed + 0.2)
                times = np.array([x[0] for x in frames])
                for i in range(n):
                    ts = p.r0 + (i / q.fps) * p.speed
                    j = max(0, int(np.searchsorted(times, ts + 1e-4, side="right")) - 1)
                    bg = next(bg_iter) if bg_iter is not None else None
                    yield f(frames[j][1], (k + i) / q.fps, bg)
            k += n
            t_piece += p.duration


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("bench/dna/results/data"))
    ap.add_argument("--library", type=int, default=30)
    ap.add_argument("--per-class", type=int, default=4)
    ap.add_argument("--negatives", type=int, default=8)
    ap.add_argument("--classes", default=",".join(CLASSES))
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    t0 = time.time()
    b = Builder(args.out, args.seed, args.library)
    b.make_library(args.library)
    print(f"library: {len(b.library)} videos ({time.time() - t0:.0f}s)", flush=True)
    for cls in [c for c in args.classes.split(",") if c]:
        for k in range(args.per_class):
            b.make_query(b.spec(cls, k))
        print(f"  {cls}: {args.per_class} queries ({time.time() - t0:.0f}s)", flush=True)
    for k in range(args.negatives):
        b.make_query(b.negative(k))
    manifest = {"seed": args.seed, "library": b.library, "queries": b.queries}
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    print(f"wrote {args.out / 'manifest.json'}: {len(b.library)} library videos, {len(b.queries)} queries "
          f"({time.time() - t0:.0f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
