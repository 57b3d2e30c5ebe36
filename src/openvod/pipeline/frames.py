"""One decoded video frame and the pictures analyzers take from it, all upright.

Rotation (the display matrix, :attr:`MediaProbe.rotation`) is applied here and nowhere else: every
picture a :class:`Frame` hands out is upright, whatever its size or kind. Sizes are asked for in
display orientation; a scaled picture is made in stored orientation (swscale / box filter) and then
turned with ``np.rot90``, which equals scaling the turned picture.
"""

from __future__ import annotations

from typing import Any

import av
import numpy as np
from av.video.reformatter import VideoReformatter
from PIL import Image

# Pixel formats whose first plane is 8-bit luma: read directly, no colour conversion.
LUMA8 = frozenset(
    {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "yuv440p", "yuvj440p",
     "yuv411p", "yuv410p", "nv12", "nv21", "nv16", "gray", "yuva420p"}
)


def upright(img: np.ndarray, rotation: int) -> np.ndarray:
    """Turn a stored-orientation picture upright (a view; callers copy when they need contiguity)."""
    k = (rotation // 90) % 4
    return np.rot90(img, k) if k else img


def stored_size(width: int, height: int, rotation: int) -> tuple[int, int]:
    """The stored-orientation size of a display-orientation size."""
    return (height, width) if rotation in (90, 270) else (width, height)


class Frame:
    """A decoded frame at presentation time ``t`` (seconds from the media's origin)."""

    __slots__ = ("av", "t", "rotation", "selection", "wanted", "_reformatter", "_luma")

    def __init__(self, frame: av.VideoFrame, t: float, rotation: int, reformatter: VideoReformatter | None = None):
        self.av = frame
        self.t = t
        self.rotation = rotation
        self.selection: Any = None  # set by an adaptive need (a sampling.SelectedFrame)
        self.wanted: tuple[int, ...] = (0,)  # indices of the needs that want this frame
        self._reformatter = reformatter
        self._luma: np.ndarray | None = None

    @property
    def size(self) -> tuple[int, int]:
        """Width, height of the upright full-resolution picture."""
        w, h = self.av.width, self.av.height
        return (h, w) if self.rotation in (90, 270) else (w, h)

    def _stored_luma(self) -> np.ndarray:
        if self._luma is None:
            f = self.av
            if f.format.name in LUMA8:
                plane = f.planes[0]
                buf = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
                self._luma = buf[:, : f.width]
            else:
                self._luma = f.to_ndarray(format="gray")
        return self._luma

    def luma(self) -> np.ndarray:
        """The full-resolution Y plane (H, W) uint8, upright; a view of the decoder's buffer."""
        return upright(self._stored_luma(), self.rotation)

    def luma_box(self, width: int, height: int) -> np.ndarray:
        """The luma plane box-filtered (area average) to ``width`` x ``height``, upright."""
        f = self.av
        sw, sh = stored_size(width, height, self.rotation)
        if f.format.name in LUMA8:
            plane = f.planes[0]
            img = Image.frombuffer("L", (f.width, f.height), memoryview(plane),  # type: ignore[arg-type]
                                   "raw", "L", plane.line_size, 1)
        else:
            img = Image.fromarray(f.to_ndarray(format="gray"))
        out = np.asarray(img.resize((sw, sh), Image.Resampling.BOX))
        return np.ascontiguousarray(upright(out, self.rotation)) if self.rotation else out

    def luma_area(self, width: int, height: int) -> np.ndarray:
        """The luma plane area-scaled by swscale (``AREA``) to ``width`` x ``height``, upright.

        Levels are kept as stored (no limited-to-full range expansion), like :meth:`luma_box`; about
        6x cheaper than it on 360p-720p frames, but swscale's area filter is not an exact box average
        (a level or so on average, tens of levels on fine high-contrast detail).
        """
        sw, sh = stored_size(width, height, self.rotation)
        ref = self._reformatter or VideoReformatter()
        try:  # one scaling thread: the decode is threaded already (PyAV >= 17 scales on all cores by default)
            out = ref.reformat(self.av, sw, sh, "gray", interpolation="AREA", src_color_range="JPEG",
                               dst_color_range="JPEG", threads=1).to_ndarray()
        except TypeError:  # PyAV < 17: no ``threads`` argument (nor threaded scaling)
            out = ref.reformat(self.av, sw, sh, "gray", interpolation="AREA", src_color_range="JPEG",
                               dst_color_range="JPEG").to_ndarray()
        return np.ascontiguousarray(upright(out, self.rotation)) if self.rotation else out

    def grey(self, width: int, height: int) -> np.ndarray:
        """A grey picture scaled by swscale to ``width`` x ``height``, upright."""
        sw, sh = stored_size(width, height, self.rotation)
        out = self.av.to_ndarray(format="gray", width=sw, height=sh)
        return np.ascontiguousarray(upright(out, self.rotation)) if self.rotation else out

    def rgb(self, width: int | None = None, height: int | None = None, interpolation: str | None = None) -> np.ndarray:
        """An RGB uint8 picture (full resolution by default) scaled by swscale, upright."""
        if width is None or height is None:
            sw, sh = self.av.width, self.av.height
        else:
            sw, sh = stored_size(width, height, self.rotation)
        if interpolation is None:
            out = self.av.to_ndarray(format="rgb24", width=sw, height=sh)
        else:
            ref = self._reformatter or VideoReformatter()
            out = ref.reformat(self.av, width=sw, height=sh, format="rgb24", interpolation=interpolation).to_ndarray()
        return np.ascontiguousarray(upright(out, self.rotation)) if self.rotation else out


def fit_even(width: int, height: int, max_side: int) -> tuple[int, int]:
    """A size at most ``max_side`` on its longer side, even, keeping the aspect."""
    s = min(1.0, max_side / max(width, height))
    return max(2, int(round(width * s / 2)) * 2), max(2, int(round(height * s / 2)) * 2)
