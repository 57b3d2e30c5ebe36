"""The image analyzer's view of the media pipeline: one sample every ``1/fps`` s in three sizes.

Frames come from :func:`openvod.pipeline.open_media` (one time origin, PTS-only times, rotation
applied, one corrupt-packet rule); the analysis pass may skip B-frames (``skip="auto"``, see
``openvod.pipeline.media.SKIP_ORDER``) and runs a few samples ahead in a helper thread, so the
per-sample measures overlap with decoding.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from openvod.pipeline import DecodeStats, Frame, Media, VideoNeed
from openvod.pipeline.prefetch import prefetch

try:  # cv2 is a declared dependency; the handler reports itself unavailable without it.
    import cv2
except ImportError:  # pragma: no cover - exercised only on broken installs
    cv2 = None  # type: ignore[assignment]


@dataclass
class Sample:
    """One analysis sample: a decoded, upright frame at time ``t`` (seconds) in three sizes."""

    t: float
    luma: np.ndarray  # full-resolution Y plane (H, W) uint8
    grey: np.ndarray  # mid-size grey image, at most ``mid_width`` wide
    small: np.ndarray  # small RGB image (h, w, 3) uint8, ``small_width`` wide


def _mid_size(w: int, h: int, mid_width: int) -> tuple[int, int]:
    if w <= mid_width:
        return w, h
    return mid_width, max(2, int(round(h * mid_width / w)))


def make_sample(frame: Frame, mid_width: int, small_width: int) -> Sample:
    luma = frame.luma()
    if frame.rotation:
        luma = np.ascontiguousarray(luma)
    h, w = luma.shape
    mw, mh = _mid_size(w, h, mid_width)
    grey = cv2.resize(luma, (mw, mh), interpolation=cv2.INTER_AREA) if (mw, mh) != (w, h) else luma.copy()
    sw = min(small_width, w)
    sh = max(2, int(round(h * sw / w)))
    return Sample(t=max(0.0, frame.t), luma=luma, grey=grey, small=frame.rgb(sw, sh, interpolation="AREA"))


def iter_samples(media: Media, fps: float, *, mid_width: int = 640, small_width: int = 160, skip: str = "auto",
                 stats: DecodeStats | None = None, prefetch_depth: int = 6) -> Iterator[Sample]:
    """One :class:`Sample` per ``1/fps`` s of presentation time, from one pipeline decode pass."""
    stats = stats if stats is not None else DecodeStats()
    need = VideoNeed(fps=fps, skip=skip, loop_filter=True)
    gen = (make_sample(f, mid_width, small_width) for f in media.video(need, stats=stats))
    return prefetch(gen, prefetch_depth, name="aiimage-decode")
