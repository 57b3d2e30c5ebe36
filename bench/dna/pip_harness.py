"""A picture-in-picture harness: a small generated library and PiP queries of many shapes, with ground truth.

    python -m bench.dna.pip_harness --out /tmp/pip/A --seed 101 [--library 10] [--queries 24]
    python -m bench.dna.run_openvod /tmp/pip/A --out out/pipA/openvod.json   # then bench.dna.report / targets

The manifest has the layout of ``bench.dna.generate`` (the same scoring). Library: 20-40 s programs of
2-8 s shots with hard cuts (photo pans and zooms, lavfi automata and fractals, drawn shapes and text,
screen recordings, fast motion). Query classes (``transform`` records every parameter):

* ``pip_large``: a 4-12 s copy shrunk to 60-75 % of the frame side (36-56 % of the area) anywhere;
* ``pip_small``: 50-55 % of the side (25-30 % of the area) in a corner, a few pixels from its edges;
* ``pip_flip``: a PiP whose copy is also mirrored; ``pip_pad``: a PiP whose whole frame is then padded
  (a coloured frame around it, as an upload to another aspect);
* ``negative``: an unrelated program shown in a box over another (PiP of nothing in the library).

The background (``bg``) is a busy photo pan, a cellular automaton, or another video (a mixed program);
about half the queries embed the PiP between unrelated full-frame footage, half are the PiP alone; half
have a light border. Choose parameters on one seed and report another: the two are independent draws.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from collections.abc import Iterator
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from bench.dna.content import Program, Shot, render
from bench.dna.generate import H, W, Builder, Piece, QuerySpec, _shot_times, _write_once
from bench.dna.videoio import read_range, write_video

KINDS = ["pip_large", "pip_small", "pip_flip", "pip_pad"]
BACKGROUNDS = ["photo", "automaton", "video"]


def _pip_frame(img: np.ndarray, bg: np.ndarray, sp: dict[str, Any]) -> np.ndarray:
    """The copy (mirrored if asked) shrunk into its box over the background, then padded if asked."""
    if sp.get("flip"):
        img = img[:, ::-1]
    out = Image.fromarray(bg)
    px, py, pw, ph = sp["pip"]
    iw, ih = int(round(pw * W)), int(round(ph * H))
    x0, y0 = int(round(px * W)), int(round(py * H))
    inner = Image.fromarray(np.ascontiguousarray(img)).resize((iw, ih), Image.Resampling.BILINEAR)
    if sp.get("border"):
        ImageDraw.Draw(out).rectangle([x0 - 3, y0 - 3, x0 + iw + 2, y0 + ih + 2], fill=(240, 240, 240))
    out.paste(inner, (x0, y0))
    if sp.get("pad"):
        s = sp["pad"]
        canvas = Image.new("RGB", (W, H), tuple(sp["pad_color"]))
        cw, ch = int(W * s), int(H * s)
        canvas.paste(out.resize((cw, ch), Image.Resampling.BILINEAR), ((W - cw) // 2, (H - ch) // 2))
        out = canvas
    return np.asarray(out)


class PipBuilder(Builder):
    def make_library(self, n: int, duration: tuple[float, float] = (20.0, 40.0)) -> None:
        kinds = ["photo", "lavfi", "drawn", "screen", "fast", "lavfi", "photo", "title"]
        for i in range(n):
            lid = f"lib{i:03d}"
            dur = float(self.rng.uniform(*duration))
            fps = float(self.rng.choice([24.0, 25.0, 30.0]))
            size = [(480, 270), (640, 360), (426, 240)][int(self.rng.integers(0, 3))]
            shots, total = [], 0.0
            while total < dur - 1.0:
                d = float(min(self.rng.uniform(2.0, 8.0), dur - total))
                kind = kinds[int(self.rng.integers(0, len(kinds)))]
                if kind == "photo" and not self.lib_pool.photos:
                    kind = "lavfi"
                shots.append(self.lib_pool.captioned(self.lib_pool.shot(d, kind=kind)))
                total += d
            prog = Program(shots)
            path = self.out / "library" / f"{lid}.mp4"
            _write_once(path, lambda p, prog=prog, size=size, fps=fps: write_video(p, render(prog, size, fps), fps, crf=20))
            self.library.append({"id": lid, "file": str(path.relative_to(self.out)), "duration": prog.duration, "fps": fps,
                                 "size": list(size), "shots": [s.kind if s.kind != "lavfi" else s.params["source"] for s in shots],
                                 "shot_times": _shot_times(prog), "bumper": []})

    def background(self, dur: float, kind: str) -> Program:
        """Busy footage under the PiP: one long photo pan, one automaton, or another video (mixed shots)."""
        pool = self.fill_pool
        if kind == "photo" and pool.photos:
            return Program([pool.shot(dur, kind="photo")])
        if kind in ("photo", "automaton"):
            src = str(self.rng.choice(["life", "cellauto"]))
            return Program([Shot("lavfi", dur, {"source": src, "seed": pool._next_seed(), "hue": float(self.rng.uniform(0, 360))})])
        return pool.program(dur, shot_range=(2.0, 8.0), photos=1)

    def pip_spec(self, kind: str, k: int) -> QuerySpec:
        r = self.rng
        lib = self.pick()[0]
        sp: dict[str, Any] = {"kind": kind}
        if kind == "pip_small":
            sc = float(r.uniform(0.5, 0.55))
            m = float(r.uniform(0.01, 0.04))
            cx, cy = int(r.integers(0, 2)), int(r.integers(0, 2))
            sp["pip"] = [m if cx == 0 else 1 - sc - m, m if cy == 0 else 1 - sc - m, sc, sc]
        else:
            sc = float(r.uniform(0.6, 0.75) if kind == "pip_large" else r.uniform(0.5, 0.75))
            sp["pip"] = [float(r.uniform(0, 1 - sc)), float(r.uniform(0, 1 - sc)), sc, sc]
        sp["border"] = bool(r.random() < 0.5)
        if kind == "pip_flip":
            sp["flip"] = True
        if kind == "pip_pad":
            sp["pad"] = float(r.uniform(0.75, 0.9))
            sp["pad_color"] = [0, 0, 0] if r.random() < 0.5 else [int(c) for c in r.integers(0, 255, 3)]
        sp["bg"] = BACKGROUNDS[int(r.integers(0, len(BACKGROUNDS)))]
        embedded = bool(r.random() < 0.5)
        length = float(r.uniform(4, 12))
        copy = self.copy_piece(lib, length)
        pieces = [self.filler(float(r.uniform(3, 8))), copy, self.filler(float(r.uniform(3, 8)))] if embedded else [copy]
        fps = float(r.choice([25.0, 30.0]))
        for p in pieces:
            p.duration = max(1.0 / fps, round(p.duration * fps) / fps)
        bg = self.background(sum(p.duration for p in pieces) + 1.0, sp["bg"])
        return QuerySpec(f"q_{kind}_{k}", kind, pieces, fps, 26, sp, bg, embedded)

    def pip_negative(self, k: int) -> QuerySpec:
        """Unrelated footage in a box over another background: a PiP of nothing in the library."""
        r = self.rng
        sc = float(r.uniform(0.5, 0.75))
        sp: dict[str, Any] = {"kind": "pip_neg", "pip": [float(r.uniform(0, 1 - sc)), float(r.uniform(0, 1 - sc)), sc, sc],
                              "border": bool(r.random() < 0.5), "bg": BACKGROUNDS[int(r.integers(0, len(BACKGROUNDS)))],
                              "negative": "pip"}
        dur = float(r.uniform(8, 16))
        inner = self.fill_pool.program(dur, shot_range=(2.0, 6.0), photos=1)
        bg = self.background(dur + 1.0, sp["bg"])
        return QuerySpec(f"q_negative_{k}", "negative", [Piece(inner.duration, program=inner)], 25.0, 26, sp, bg, False)

    def _frames(self, q: QuerySpec, lib_by_id: dict[str, Any]) -> Iterator[np.ndarray]:
        if q.spatial.get("kind") == "pip_neg":  # the filler goes into the box
            bg_iter = render(q.background, (W, H), q.fps) if q.background is not None else None
            assert bg_iter is not None and q.pieces[0].program is not None
            for fr in render(q.pieces[0].program, (W, H), q.fps):
                yield _pip_frame(fr, next(bg_iter), q.spatial)
            return
        yield from _pip_frames(self, q, lib_by_id)


def _pip_frames(b: PipBuilder, q: QuerySpec, lib_by_id: dict[str, Any]) -> Iterator[np.ndarray]:
    """Frames of a PiP query: unrelated full-frame footage around the copy (if embedded), the copy in its box
    over the background, mirrored and/or padded if asked (``generate.spatial_fn`` has no such combination)."""
    sp = q.spatial
    bg_iter = render(q.background, (W, H), q.fps)
    k, t_piece = 0, 0.0
    for p in q.pieces:
        n = int(round((t_piece + p.duration) * q.fps)) - k
        if p.program is not None:
            src = render(p.program, (W, H), q.fps)
            for _ in range(n):
                fr = next(src)
                next(bg_iter)
                if sp.get("pad"):  # the padding is the upload's: around the filler too
                    fr = _pip_frame(fr, fr, {**sp, "pip": [0.0, 0.0, 1.0, 1.0], "border": False, "flip": False})
                yield fr
        else:
            lib = lib_by_id[p.ref]
            frames = read_range(b.out / lib["file"], p.r0 - 0.2, p.r0 + p.duration * p.speed + 0.2)
            times = np.array([x[0] for x in frames])
            for i in range(n):
                ts = p.r0 + (i / q.fps) * p.speed
                j = max(0, int(np.searchsorted(times, ts + 1e-4, side="right")) - 1)
                img = frames[j][1]
                if img.shape[:2] != (H, W):
                    img = np.asarray(Image.fromarray(img).resize((W, H), Image.Resampling.BILINEAR))
                yield _pip_frame(img, next(bg_iter), sp)
        k += n
        t_piece += p.duration


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--library", type=int, default=10)
    ap.add_argument("--queries", type=int, default=24, help="PiP queries (spread over the kinds)")
    ap.add_argument("--negatives", type=int, default=4)
    args = ap.parse_args(argv)
    t0 = time.time()
    b = PipBuilder(args.out, args.seed, args.library)
    b.make_library(args.library)
    print(f"library: {len(b.library)} videos ({time.time() - t0:.0f}s)", flush=True)
    weights = {"pip_large": 0.3, "pip_small": 0.35, "pip_flip": 0.15, "pip_pad": 0.2}
    counts = {k: max(1, int(round(args.queries * w))) for k, w in weights.items()}
    for kind in KINDS:
        for k in range(counts[kind]):
            b.make_query(b.pip_spec(kind, k))
        print(f"  {kind}: {counts[kind]} ({time.time() - t0:.0f}s)", flush=True)
    for k in range(args.negatives):
        b.make_query(b.pip_negative(k))
    manifest = {"seed": args.seed, "split": f"pip-{args.seed}", "library": b.library, "queries": b.queries}
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    print(f"wrote {args.out / 'manifest.json'}: {len(b.library)} library videos, {len(b.queries)} queries ({time.time() - t0:.0f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
