"""PNG covers: the chosen moments re-decoded at full resolution (or fitted into a configured size)."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

from openvod.pipeline import Media


@dataclass(frozen=True)
class RenderedImage:
    """An encoded image and its size."""

    data: bytes
    format: str  # "png" | "gif"
    width: int
    height: int
    extra: dict[str, object] | None = None


def fit_size(w: int, h: int, max_w: int, max_h: int) -> tuple[int, int]:
    """Fit (w, h) inside (max_w, max_h) keeping the aspect ratio; 0 means unbounded; never upscales."""
    k = 1.0
    if max_w > 0:
        k = min(k, max_w / float(w))
    if max_h > 0:
        k = min(k, max_h / float(h))
    return max(1, int(round(w * k))), max(1, int(round(h * k)))


def encode_png(rgb: np.ndarray, *, max_width: int = 0, max_height: int = 0, compress_level: int = 3) -> RenderedImage:
    """PNG bytes of an RGB frame, fitted into the configured size when one is set."""
    img = Image.fromarray(rgb)
    size = fit_size(img.width, img.height, max_width, max_height)
    if size != img.size:
        img = img.resize(size, Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=compress_level)
    return RenderedImage(buf.getvalue(), "png", img.width, img.height)


def render_pngs(
    media: Media,
    times: list[float],
    *,
    max_width: int = 0,
    max_height: int = 0,
    skip: str = "DEFAULT",
) -> dict[float, RenderedImage]:
    """One PNG per requested time (times whose frame cannot be decoded are missing from the result)."""
    frames = media.grab(times, skip=skip)
    return {t: encode_png(f, max_width=max_width, max_height=max_height) for t, f in frames.items()}
