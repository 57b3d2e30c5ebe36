"""Animated GIF highlights: a short clip around a chosen moment, with one palette for the whole clip.

Bounds (all from settings): frame rate ``fps``, length ``duration_s``, width ``max_width`` and size
``max_bytes``. The palette is built once from a mosaic of the clip's frames (median cut), every frame
is mapped onto it, and Pillow stores only the changed rectangle of each frame. When the file is over
``max_bytes`` it is re-encoded smaller, in this order: narrower (by the square root of the size excess,
at least x0.8, down to 160 px), fewer colours
(128, 64), half the frame rate, and finally fewer frames; the result is always within the bound.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from openvod.analyzers.image.cover import RenderedImage
from openvod.pipeline import Media

try:
    import cv2
except ImportError:  # pragma: no cover
    cv2 = None  # type: ignore[assignment]  # optional: the analyzer reports itself unavailable

MIN_WIDTH = 160


@dataclass(frozen=True)
class GifOptions:
    """Bounds of a GIF highlight."""

    fps: float = 10.0
    duration_s: float = 3.0
    max_width: int = 480
    max_bytes: int = 2_000_000
    colors: int = 256
    dither: bool = False


def _palette(frames: list[np.ndarray], colors: int) -> Image.Image:
    pick = frames[:: max(1, len(frames) // 6)][:6]
    h = min(f.shape[0] for f in pick)
    mosaic = np.concatenate([f[:h] for f in pick], axis=0)
    # Subsample the mosaic: the palette needs the colour distribution, not every pixel.
    step = max(1, int(math.sqrt(mosaic.shape[0] * mosaic.shape[1] / 60_000)))
    return Image.fromarray(np.ascontiguousarray(mosaic[::step, ::step])).quantize(
        colors=colors, method=Image.Quantize.MEDIANCUT
    )


def encode_gif(frames: list[np.ndarray], fps: float, *, colors: int = 256, dither: bool = False) -> bytes:
    """GIF bytes of RGB frames played at ``fps``, looping forever."""
    pal = _palette(frames, colors)
    mode = Image.Dither.FLOYDSTEINBERG if dither else Image.Dither.NONE
    images = [Image.fromarray(f).quantize(palette=pal, dither=mode) for f in frames]
    buf = io.BytesIO()
    delay = max(20, int(round(1000.0 / fps / 10.0)) * 10)  # GIF delays are centiseconds
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=delay, loop=0,
                   optimize=True, disposal=1)
    return buf.getvalue()


def _resize(frames: list[np.ndarray], width: int) -> list[np.ndarray]:
    h0, w0 = frames[0].shape[:2]
    if width >= w0:
        return frames
    height = max(2, int(round(h0 * width / w0)))
    return [cv2.resize(f, (width, height), interpolation=cv2.INTER_AREA) for f in frames]


def fit_gif(frames: list[np.ndarray], opts: GifOptions) -> tuple[bytes, list[np.ndarray], float, int]:
    """Encode within ``max_bytes``: returns (data, frames used, fps, colours)."""
    fps, colors = opts.fps, opts.colors
    cur = frames
    data = encode_gif(cur, fps, colors=colors, dither=opts.dither)
    while len(data) > opts.max_bytes:
        width = cur[0].shape[1]
        if width > MIN_WIDTH:
            # GIF size grows about with the pixel count: aim just under the budget in one step.
            factor = min(0.8, 0.95 * math.sqrt(opts.max_bytes / len(data)))
            cur = _resize(frames, max(MIN_WIDTH, int(width * factor)))
        elif colors > 64:
            colors //= 2
        elif len(cur) > 2 and fps > 2.0:
            cur, fps = cur[::2], fps / 2.0
            frames = frames[::2]
        elif len(cur) > 1:
            cur = cur[: max(1, len(cur) // 2)]
            frames = frames[: len(cur)]
        else:
            break  # a single 160-px frame with 64 colours: nothing smaller to make
        data = encode_gif(cur, fps, colors=colors, dither=opts.dither)
    return data, cur, fps, colors


def render_gif(media: Media, start: float, end: float, opts: GifOptions) -> RenderedImage:
    """A GIF of ``start``..``end`` (clipped to ``duration_s``) within every bound of ``opts``."""
    end = min(end, start + opts.duration_s)
    frames = [f for _, f in media.clip(start, end, opts.fps, opts.max_width)]
    limit = max(1, int(math.floor(opts.duration_s * opts.fps + 1e-6)))
    frames = frames[:limit]
    if not frames:
        raise ValueError(f"no frame could be decoded between {start:.3f}s and {end:.3f}s")
    data, used, fps, colors = fit_gif(frames, opts)
    h, w = used[0].shape[:2]
    return RenderedImage(
        data,
        "gif",
        w,
        h,
        {"Start": f"{start:.3f}", "End": f"{start + len(used) / fps:.3f}", "Frames": len(used),
         "Fps": round(fps, 3), "Bytes": len(data), "Colors": colors},
    )
