"""Small PyAV helpers for the benchmark: encode frames, decode a time range."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import av
import numpy as np

from tests.media import VideoWriter


def write_video(path: Path, frames: Iterable[np.ndarray], fps: float, crf: int = 20, preset: str = "veryfast",
                gop: int | None = None) -> int:
    """Encode RGB frames to H.264 MP4 (the shared test writer; sizes rounded down to even); returns the count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    out: VideoWriter | None = None
    try:
        for arr in frames:
            if out is None:
                h, w = arr.shape[:2]
                out = VideoWriter(path, (w - w % 2, h - h % 2), int(round(fps)), preset=preset, crf=crf, gop=gop)
            out.write(arr[: h - h % 2, : w - w % 2])
    finally:
        if out is not None:
            out.close()
    return out.count if out is not None else 0


def read_range(path: Path, t0: float, t1: float) -> list[tuple[float, np.ndarray]]:
    """Decoded RGB frames with presentation time in [t0, t1]."""
    out: list[tuple[float, np.ndarray]] = []
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        tb = s.time_base
        origin = s.start_time or 0
        if t0 > 1.0:
            c.seek(int((t0 - 1.0) / tb) + origin, stream=s, backward=True)
        for f in c.decode(s):
            t = float((f.pts - origin) * tb)
            if t < t0 - 1e-6:
                continue
            if t > t1 + 1e-6:
                break
            out.append((t, f.to_ndarray(format="rgb24")))
    return out


def probe(path: Path) -> tuple[float, int, int, float]:
    """(duration s, width, height, fps)."""
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        n = 0
        last = 0.0
        tb = s.time_base
        origin = s.start_time or 0
        s.codec_context.skip_frame = "NONKEY"
        dur = float(c.duration / av.time_base) if c.duration else 0.0
        fps = float(s.average_rate or 25)
        for f in c.decode(s):
            last = float((f.pts - origin) * tb)
            n += 1
        return max(dur, last), s.width, s.height, fps
