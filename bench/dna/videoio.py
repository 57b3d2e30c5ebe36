"""Small PyAV helpers for the benchmark: encode frames, decode a time range."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
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


def stream_frames(path: Path, ts: list[float], blend: str, span: float) -> Iterator[np.ndarray]:
    """Frames at increasing times ``ts`` without holding the whole range: ``blend="interp"`` mixes the
    two decoded frames around each time by its position between them (slow motion with frame blending);
    ``"avg"`` averages the frames from each time to ``span`` seconds later (a time-lapse's motion blur)."""
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        tb = s.time_base
        origin = s.start_time or 0
        if ts[0] > 1.0:
            c.seek(int((ts[0] - 1.0) / tb) + origin, stream=s, backward=True)
        dec = ((float((f.pts - origin) * tb), f.to_ndarray(format="rgb24")) for f in c.decode(s))
        buf: list[tuple[float, np.ndarray]] = []
        done = False
        for t in ts:
            need = t + (span if blend == "avg" else 0.0)
            while not done and (not buf or buf[-1][0] <= need + 1e-6):
                nxt = next(dec, None)
                if nxt is None:
                    done = True
                else:
                    buf.append(nxt)
            while len(buf) > 2 and buf[1][0] <= t + 1e-4:  # drop frames wholly before t
                buf.pop(0)
            cur = [x for x in buf if x[0] <= t + 1e-4] or buf[:1]
            j = buf.index(cur[-1])
            if blend == "avg":
                win = [a for tt, a in buf[j:] if tt < t + span - 1e-4] or [buf[j][1]]
                yield (np.mean(np.stack(win).astype(np.float32), axis=0) + 0.5).astype(np.uint8)
            elif j + 1 < len(buf) and buf[j + 1][0] > buf[j][0]:
                w = min(1.0, max(0.0, (t - buf[j][0]) / (buf[j + 1][0] - buf[j][0])))
                yield (buf[j][1].astype(np.float32) * (1 - w) + buf[j + 1][1].astype(np.float32) * w + 0.5).astype(np.uint8)
            else:
                yield buf[j][1]
