"""Synthetic clips for the DNA tests (PyAV + numpy + Pillow), and a check that they are what they claim.

``make_source`` draws shots of moving shapes over textured, panning backgrounds with hard cuts;
``make_copy`` re-encodes a time range of a source through crop / flip / speed change, between
unrelated filler, and returns where the copy lies on both timelines.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw

from tests.media import VideoWriter

SIZE = (320, 180)


def _shot_frames(rng: np.random.Generator, n: int, size: tuple[int, int]) -> list[np.ndarray]:
    w, h = size
    bw, bh = int(w * 1.3), int(h * 1.3)
    bg = Image.fromarray(rng.integers(0, 255, size=(5, 8, 3)).astype(np.uint8)).resize((bw, bh), Image.Resampling.BICUBIC)
    d = ImageDraw.Draw(bg)
    for _ in range(10):
        x, y = rng.uniform(0, bw), rng.uniform(0, bh)
        d.rectangle([x, y, x + rng.uniform(8, bw / 4), y + rng.uniform(8, bh / 4)], fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
    shapes = [(rng.uniform(0, w), rng.uniform(0, h), rng.uniform(-3, 3), rng.uniform(-2, 2), rng.uniform(15, 45),
               tuple(int(c) for c in rng.integers(0, 255, 3))) for _ in range(5)]
    pan = rng.uniform(-0.5, 0.5, 2) * [bw - w, bh - h] / max(n, 1)
    start = rng.uniform(0, 1, 2) * [bw - w, bh - h]
    out = []
    for i in range(n):
        ox, oy = np.clip(start + pan * i, 0, [bw - w, bh - h]).astype(int)
        fr = bg.crop((ox, oy, ox + w, oy + h))
        dd = ImageDraw.Draw(fr)
        for x, y, vx, vy, r, col in shapes:
            cx, cy = (x + vx * i) % w, (y + vy * i) % h
            dd.ellipse([cx - r, cy - r * 0.7, cx + r, cy + r * 0.7], fill=col)
        out.append(np.asarray(fr))
    return out


def draw_frames(seconds: float, fps: int, seed: int, shot_s: float = 3.0, size: tuple[int, int] = SIZE) -> list[np.ndarray]:
    """Frames of a clip made of shots of ``shot_s`` seconds (hard cuts between them)."""
    rng = np.random.default_rng(seed)
    total = int(round(seconds * fps))
    frames: list[np.ndarray] = []
    while len(frames) < total:
        frames += _shot_frames(rng, min(int(round(shot_s * fps)), total - len(frames)), size)
    return frames


def encode(path: Path, frames: list[np.ndarray], fps: int, crf: int = 20) -> Path:
    h, w = frames[0].shape[:2]
    with VideoWriter(path, (w, h), fps, crf=crf) as out:
        for arr in frames:
            out.write(arr)
    return path


def make_source(path: Path, seconds: float = 14.0, fps: int = 15, seed: int = 1) -> Path:
    return encode(path, draw_frames(seconds, fps, seed), fps)


def decode(path: Path) -> list[tuple[float, np.ndarray]]:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return [(float(f.pts * s.time_base), f.to_ndarray(format="rgb24")) for f in c.decode(s)]


@dataclass
class CopyTruth:
    """Where the copy lies: query [q0, q1) shows source [r0, r1)."""

    q0: float
    q1: float
    r0: float
    r1: float


def make_copy(path: Path, source: Path, r0: float, r1: float, *, crop: tuple[float, float, float, float] | None = None,
              flip: bool = False, speed: float = 1.0, fps: int = 20, crf: int = 32, before_s: float = 2.0,
              after_s: float = 2.0, filler_seed: int = 99) -> CopyTruth:
    """Encode filler + transformed copy of source[r0:r1] + filler; returns the ground truth."""
    src = decode(source)
    times = np.array([t for t, _ in src])
    w, h = SIZE
    out: list[np.ndarray] = []
    out += draw_frames(before_s, fps, filler_seed)
    n_copy = int(round((r1 - r0) / speed * fps))
    for k in range(n_copy):
        j = max(0, int(np.searchsorted(times, r0 + k / fps * speed + 1e-4, side="right")) - 1)
        img = src[j][1]
        if crop is not None:
            x, y, cw, ch = crop
            img = np.asarray(Image.fromarray(img[int(y * h): int((y + ch) * h), int(x * w): int((x + cw) * w)]).resize(SIZE))
        if flip:
            img = img[:, ::-1]
        out.append(img)
    out += draw_frames(after_s, fps, filler_seed + 1)
    encode(path, out, fps, crf)
    q0 = round(before_s * fps) / fps
    return CopyTruth(q0, q0 + n_copy / fps, r0, r0 + n_copy / fps * speed)


def test_clip_helpers(tmp_path: Path) -> None:
    src = make_source(tmp_path / "s.mp4", seconds=3.0, seed=3)
    frames = decode(src)
    assert len(frames) == 45 and frames[0][1].shape == (180, 320, 3)
    truth = make_copy(tmp_path / "c.mp4", src, 0.5, 2.5, speed=1.25, before_s=1.0, after_s=1.0)
    assert abs(truth.q1 - truth.q0 - 1.6) < 0.06 and abs(truth.r1 - 2.5) < 0.06
    assert abs(decode(tmp_path / "c.mp4")[-1][0] - (truth.q1 + 1.0)) < 0.1
