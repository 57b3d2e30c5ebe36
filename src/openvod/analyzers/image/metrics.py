"""Measurable image-quality criteria of one frame. Pure functions over numpy arrays.

Cheap measures run on every analysis sample (:func:`measure`, noise included: sensor noise and
grain inflate the sharpness, contrast and colour measures, so it must be known when a shot's
candidates are chosen); the dearer ones (text, faces) run only on the few candidates per shot. Every function documents its unit; ``scoring`` maps them
onto 0..1 criteria.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

try:
    import cv2
except ImportError:  # pragma: no cover
    cv2 = None  # type: ignore[assignment]  # optional: the analyzer reports itself unavailable


@dataclass
class FrameMetrics:
    """Cheap, per-sample measurements (luma statistics on the mid-size grey image)."""

    mean: float  # mean luma, 0..255
    std: float  # luma standard deviation (RMS contrast x 255)
    p02: float  # 2nd percentile of luma
    p98: float  # 98th percentile of luma
    dark: float  # share of pixels at or below 16
    bright: float  # share of pixels at or above 240
    blur: float  # Crete-Roffet blur effect, 0 = sharp .. 1 = fully blurred (worst axis)
    blur_ratio: float  # worse axis blur / better axis blur (directional, i.e. motion, blur > 1)
    colourfulness: float  # Hasler & Suesstrunk M on the small RGB image (0 = grey, ~100 = very colourful)
    blockiness: float  # 8x8 grid edge strength / off-grid edge strength at full resolution (1 = none)
    noise: float = 0.0  # Immerkaer noise sigma (grey levels) on the mid-size grey image, edges masked

    def as_dict(self) -> dict[str, float]:
        return {k: round(float(v), 4) for k, v in asdict(self).items()}


def luma_stats(grey: np.ndarray) -> tuple[float, float, float, float, float, float]:
    """mean, std, p02, p98, dark share, bright share of a grey image."""
    hist = cv2.calcHist([grey], [0], None, [256], [0, 256]).ravel()
    n = float(hist.sum()) or 1.0
    levels = np.arange(256, dtype=np.float64)
    mean = float((hist * levels).sum() / n)
    std = float(np.sqrt(max(0.0, (hist * (levels - mean) ** 2).sum() / n)))
    cdf = np.cumsum(hist) / n
    p02 = float(np.searchsorted(cdf, 0.02))
    p98 = float(np.searchsorted(cdf, 0.98))
    dark = float(hist[:17].sum() / n)
    bright = float(hist[240:].sum() / n)
    return mean, std, p02, p98, dark, bright


def blur_effect(grey: np.ndarray, h_size: int = 11) -> tuple[float, float]:
    """Crete-Roffet et al. 2007 no-reference blur: how little re-blurring changes the image.

    Returns (worst axis, worst/best axis ratio). About 0.2-0.4 for sharp natural images, above 0.6
    for visibly blurred ones; a motion-blurred frame is blurred along one axis, so the ratio rises.
    """
    img = grey.astype(np.float32)
    values = []
    m = h_size
    for axis in (0, 1):
        # Every other line across the measured axis is enough for the statistic and halves the cost.
        sub = img[:, ::2] if axis == 0 else img[::2]
        # Blur along the axis being measured (cv2 sizes are width x height); cv2 ops are ~2x numpy here.
        blurred = cv2.blur(sub, (1, h_size) if axis == 0 else (h_size, 1))
        if axis == 0:
            d_img, d_blur = cv2.absdiff(sub[1:], sub[:-1]), cv2.absdiff(blurred[1:], blurred[:-1])
        else:
            d_img, d_blur = cv2.absdiff(sub[:, 1:], sub[:, :-1]), cv2.absdiff(blurred[:, 1:], blurred[:, :-1])
        d_img, d_blur = d_img[m:-m, m:-m], d_blur[m:-m, m:-m]  # ignore the filter's borders
        v = cv2.max(cv2.subtract(d_img, d_blur), 0.0)  # type: ignore[call-overload]  # cv2 stubs lack the scalar form
        s_img = float(cv2.sumElems(d_img)[0])
        values.append(1.0 if s_img <= 1e-6 else abs(s_img - float(cv2.sumElems(v)[0])) / s_img)
    worst, best = max(values), min(values)
    return worst, (worst / best if best > 1e-6 else 1.0)


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler & Suesstrunk 2003 colourfulness M (sigma_rgyb + 0.3 mu_rgyb)."""
    f = rgb.astype(np.float32)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    rg = r - g
    yb = 0.5 * (r + g) - b
    sd = float(np.sqrt(rg.var() + yb.var()))
    mu = float(np.sqrt(rg.mean() ** 2 + yb.mean() ** 2))
    return sd + 0.3 * mu


def blockiness(luma: np.ndarray, block: int = 8, row_step: int = 4) -> float:
    """Compression blockiness: mean luma step across 8-pixel block borders over the mean step elsewhere.

    Measured at full resolution (block borders are lost once scaled), on every ``row_step``-th row
    and column to stay cheap. 1.0 means no visible grid; values above ~1.4 are visibly blocky.
    """
    h, w = luma.shape
    if h < 4 * block or w < 4 * block:
        return 1.0
    rows = np.ascontiguousarray(luma[::row_step])
    cols = np.ascontiguousarray(luma[:, ::row_step])
    on = off = 0.0
    for d in (cv2.absdiff(rows[:, 1:], rows[:, :-1]).T, cv2.absdiff(cols[1:], cols[:-1])):
        # d's first axis runs across block borders: index i is the step between pixel i and i+1.
        n = d.shape[0]
        n_on = len(range(block - 1, n, block))
        total = float(d.mean()) * n
        on_mean = float(d[block - 1 :: block].mean())
        on += on_mean
        off += (total - on_mean * n_on) / max(1, n - n_on)
    if off < 0.5:  # flat frame: no evidence either way
        return 1.0
    return on / off


def noise_sigma(grey: np.ndarray) -> float:
    """Immerkaer 1996 fast noise estimate (grey levels), restricted to non-edge pixels.

    Edges are masked out (Sobel magnitude above its 80th percentile) so texture is not read as noise.
    """
    img = grey.astype(np.float32)
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    conv = np.abs(cv2.filter2D(img, -1, kernel))[1:-1, 1:-1]
    gx = cv2.Sobel(img, cv2.CV_32F, 1, 0, ksize=3)[1:-1, 1:-1]
    gy = cv2.Sobel(img, cv2.CV_32F, 0, 1, ksize=3)[1:-1, 1:-1]
    mag = np.abs(gx) + np.abs(gy)
    # The 80th percentile of a 1-in-9 subsample is as good a threshold and ~5x cheaper.
    mask = mag <= np.percentile(mag[::3, ::3], 80)
    if not mask.any():
        return 0.0
    return float(np.sqrt(np.pi / 2.0) * conv[mask].mean() / 6.0)


def measure(luma: np.ndarray, grey: np.ndarray, small: np.ndarray) -> FrameMetrics:
    """The cheap metrics of one sample."""
    mean, std, p02, p98, dark, bright = luma_stats(grey)
    if std < 2.0:  # a flat frame has no edges: blur is undefined, call it fully blurred
        blur, ratio = 1.0, 1.0
    else:
        blur, ratio = blur_effect(grey)
    return FrameMetrics(
        mean=mean,
        std=std,
        p02=p02,
        p98=p98,
        dark=dark,
        bright=bright,
        blur=blur,
        blur_ratio=ratio,
        colourfulness=colourfulness(small),
        blockiness=blockiness(luma),
        noise=noise_sigma(grey) if std >= 2.0 else 0.0,
    )
