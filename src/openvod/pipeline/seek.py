"""Exact re-decodes of a few moments (cover frames, GIF clips) by seeking, with the pipeline's rules."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from openvod.pipeline.frames import Frame
from openvod.pipeline.probe import MediaProbe, open_container


class Media(Protocol):
    """What seeking needs of :class:`openvod.pipeline.media.Media` (a Protocol, so this module does not
    import the one that uses it)."""

    @property
    def path(self) -> Path: ...

    @property
    def probe(self) -> MediaProbe: ...


def _seek(c: Any, s: Any, t: float, origin: float) -> None:
    tb = s.time_base or Fraction(1, av.time_base)
    c.seek(max(0, int((t + origin) / tb)), stream=s, backward=True, any_frame=False)


def _timed(frames: Any, origin: float) -> Any:
    for f in frames:
        if f.pts is not None and f.time_base is not None:  # timestamps from the PTS only
            yield f, float(f.pts * f.time_base) - origin


def grab(media: Media, times: list[float], *, skip: str = "DEFAULT", reuse_s: float = 3.0) -> dict[float, np.ndarray]:
    """Full-resolution, upright, square-pixel RGB frames: the first frame at or after each time.

    Decoding with the frame skipping an analysis pass ended with reaches the very same frames at a
    fraction of the cost. A time less than ``reuse_s`` ahead of the decoder is reached by decoding on.
    """
    p = media.probe
    out: dict[float, np.ndarray] = {}
    square = not p.sar or abs(p.sar - 1.0) <= 1e-3
    with open_container(media.path) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        s.codec_context.skip_frame = skip
        frames = None
        pos = -math.inf
        for want in sorted(set(times)):
            if frames is None or not (pos <= want <= pos + reuse_s):
                _seek(c, s, want, p.origin)
                frames = _timed(c.decode(s), p.origin)
            best = None
            try:
                for frame, t in frames:
                    pos = t
                    best = frame
                    if t + 1e-3 >= want:
                        break
            except av.FFmpegError:
                frames = None
            if best is not None:
                f = Frame(best, want, p.rotation)
                out[want] = f.rgb() if square else f.rgb(*p.display_size, interpolation="AREA")
    return out


def clip(media: Media, start: float, end: float, fps: float, width: int) -> list[tuple[float, np.ndarray]]:
    """Upright RGB frames from ``start`` to ``end`` s at ``fps``, scaled to ``width`` (display aspect)."""
    p = media.probe
    frames: list[tuple[float, np.ndarray]] = []
    step = 1.0 / fps
    disp_w, disp_h = p.display_size
    scale = min(1.0, width / float(disp_w))
    out_w = max(2, int(round(disp_w * scale / 2)) * 2)
    out_h = max(2, int(round(disp_h * scale / 2)) * 2)
    reformatter = VideoReformatter()
    with open_container(media.path) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        _seek(c, s, start, p.origin)
        next_t = start
        try:
            for frame, t in _timed(c.decode(s), p.origin):
                if t > end + 1e-6:
                    break
                if t + 1e-6 < next_t:
                    continue
                next_t += step * max(1, math.floor((t - next_t) / step + 1e-6) + 1)
                frames.append((t, Frame(frame, t, p.rotation, reformatter).rgb(out_w, out_h, interpolation="AREA")))
        except av.FFmpegError:
            pass
    return frames
