"""Frame features on small luma images: DCT hashes, coarse keypoints and box warping.

Everything here is pure numpy over batches of frames. Two kinds of descriptor come out of a frame:

* **codes** (64-bit, for the ANN index): the sign pattern of the 8x8 lowest DCT coefficients of a
  16x16 window, PDQ-style (bit = coefficient above the window's median). One *global* code covers
  the whole active picture; *local* codes cover windows around coarse difference-of-Gaussian
  keypoints, sized by the keypoint's scale, so they move and scale with the content: a cropped,
  scaled or picture-in-picture copy still shares local codes with its source. Each code has a
  mirrored twin (the same window read right to left) so a horizontally flipped copy is found too.
* **frame descriptors** (float, for alignment): zero-mean, unit-norm low-frequency DCT coefficients
  of a region of the 32x32 thumbnail, compared by cosine. Regions are given as boxes, so the same
  function compares whole frames or the overlapping parts of a cropped or embedded copy.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

CODE_BITS = 64
CODE_BYTES = CODE_BITS // 8


@lru_cache(maxsize=16)
def dct_matrix(n_out: int, n_in: int) -> np.ndarray:
    """Rows of the orthonormal DCT-II basis: ``dct_matrix(k, n) @ x`` = the first k coefficients."""
    k = np.arange(n_out, dtype=np.float64)[:, None]
    x = np.arange(n_in, dtype=np.float64)[None, :]
    m = np.cos(np.pi * (2 * x + 1) * k / (2 * n_in)) * np.sqrt(2.0 / n_in)
    m[0] /= np.sqrt(2.0)
    return m.astype(np.float32)


# ----------------------------------------------------------------------------- codes
def hash_windows(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """64-bit codes of ``[m, 16, 16]`` windows and of their mirror images, as ``uint8[m, 8]`` each."""
    m = windows.shape[0]
    if m == 0:
        empty = np.zeros((0, CODE_BYTES), np.uint8)
        return empty, empty.copy()
    d = dct_matrix(8, windows.shape[-1])
    c = d @ windows.astype(np.float32) @ d.T
    # Mirroring a window negates the coefficients of odd horizontal frequency.
    sign = np.where(np.arange(8) % 2 == 1, -1.0, 1.0).astype(np.float32)
    cf = c * sign[None, None, :]
    return _bits(c.reshape(m, 64)), _bits(cf.reshape(m, 64))


def _bits(coef: np.ndarray) -> np.ndarray:
    # The median of 64 values (the mean of the two middle ones), as np.median computes it, without its overhead.
    n = coef.shape[1]
    k = n // 2
    part = np.partition(coef, (k - 1, k), axis=1)
    med = (part[:, k - 1 : k] + part[:, k : k + 1]) * np.float32(0.5) if n % 2 == 0 else part[:, k : k + 1]
    return np.packbits(coef > med, axis=1)


_POP8 = np.array([bin(i).count("1") for i in range(256)], np.uint8)


def popcount64(x: np.ndarray) -> np.ndarray:
    """Set bits of each uint64."""
    if hasattr(np, "bitwise_count"):  # numpy >= 2
        return np.bitwise_count(x).astype(np.int32)
    return _POP8[x[..., None].view(np.uint8)].sum(axis=-1, dtype=np.int32)


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise Hamming distances between code sets ``uint8[m, 8]`` and ``uint8[k, 8]`` -> ``int[m, k]``."""
    x = as_u64(a)[:, None] ^ as_u64(b)[None, :]
    return popcount64(x)


# Band codes (``fingerprint._bands``, ``views.band_view``) are stored XOR this balanced pattern: one index,
# two key spaces. A band code is then 32 bits from every ordinary code of the same picture and about as far
# from any other, so square windows and bands never hit each other (no hit of theirs could imply a transform).
BAND_MASK = np.array([0xA5, 0x5A, 0xC3, 0x3C, 0x96, 0x69, 0x0F, 0xF0], np.uint8)


def as_u64(codes: np.ndarray) -> np.ndarray:
    """``uint8[m, 8]`` codes as ``uint64[m]`` (same bytes)."""
    return np.ascontiguousarray(codes, dtype=np.uint8).view(np.uint64).reshape(-1)


# ----------------------------------------------------------------------------- sampling
def sample_grid(imgs: np.ndarray, xs: np.ndarray, ys: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Bilinear samples of ``imgs[:, H, W]`` at pixel coordinates ``xs[n, q]`` x ``ys[n, p]`` -> ``[n, p, q]``.

    Sample set i reads image ``rows[i]`` (default: image i). Coordinates are continuous pixel
    positions (pixel centres at integers); edges are clamped.
    """
    _, h, w = imgs.shape
    n = xs.shape[0]
    px = np.clip(xs, 0.0, w - 1.0)
    py = np.clip(ys, 0.0, h - 1.0)
    ix = np.minimum(px.astype(np.int64), w - 2) if w > 1 else np.zeros_like(px, dtype=np.int64)
    iy = np.minimum(py.astype(np.int64), h - 2) if h > 1 else np.zeros_like(py, dtype=np.int64)
    fx = (px - ix).astype(np.float32)[:, None, :]
    fy = (py - iy).astype(np.float32)[:, :, None]
    rows = (np.arange(n) if rows is None else np.asarray(rows, np.int64))[:, None, None]
    flat = imgs.reshape(-1) if imgs.dtype == np.float32 and imgs.flags.c_contiguous else np.ascontiguousarray(imgs, np.float32).reshape(-1)
    # One linear index per sample, then four contiguous-offset gathers (much faster than 3-D fancy indexing).
    base = rows * (h * w) + iy[:, :, None] * w + ix[:, None, :]
    dx = 1 if w > 1 else 0
    dy = w if h > 1 else 0
    a = flat.take(base)
    b = flat.take(base + dx)
    c = flat.take(base + dy)
    d = flat.take(base + dy + dx)
    top = a + (b - a) * fx
    bot = c + (d - c) * fx
    return top + (bot - top) * fy


def sample_boxes(
    imgs: np.ndarray, boxes: np.ndarray, out: int, flip: bool = False, rows: np.ndarray | None = None
) -> np.ndarray:
    """Bilinear resample of normalised boxes ``[n, 4]`` (x, y, w, h in 0..1) to ``[n, out, out]``.

    Box i reads image ``rows[i]`` (default: image i; a single box is applied to every image).
    ``flip`` reads each box right to left. No area averaging: callers pass pictures that are
    already smooth at the sampling scale (see ``smooth``).
    """
    _, h, w = imgs.shape
    n = imgs.shape[0] if rows is None else len(rows)
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    if boxes.shape[0] == 1 and n > 1:
        boxes = np.repeat(boxes, n, axis=0)
    u = (np.arange(out) + 0.5) / out
    ux = u[::-1] if flip else u
    xs = (boxes[:, 0:1] + ux[None, :] * boxes[:, 2:3]) * w - 0.5
    ys = (boxes[:, 1:2] + u[None, :] * boxes[:, 3:4]) * h - 0.5
    return sample_grid(imgs, xs, ys, rows=rows)


def smooth(imgs: np.ndarray) -> np.ndarray:
    """A [1 2 1] x [1 2 1] blur as float32: removes what a 2x-downsampling bilinear read would alias."""
    x = imgs.astype(np.float32)
    p = np.pad(x, ((0, 0), (1, 1), (1, 1)), mode="edge")
    v = p[:, :-2, :] + 2 * p[:, 1:-1, :] + p[:, 2:, :]
    return np.ascontiguousarray((v[:, :, :-2] + 2 * v[:, :, 1:-1] + v[:, :, 2:]) / 16.0)


# ----------------------------------------------------------------------------- flatness
FLAT_FLOOR = 2.0  # luma std below which a picture is flat whatever the video's contrast (black, a still fade)


def flat_mask(std: np.ndarray, flat_std: float, relative: float = 0.0) -> np.ndarray:
    """Which pictures (luma std per picture) are flat: below ``flat_std``, or with ``relative`` > 0 below
    ``relative`` times the video's typical (median informative) std if that is less, never below ``FLAT_FLOOR``.

    A copy whose contrast was lowered (x0.5: a soft plasma, a pale screen recording) keeps its structure
    but falls under an absolute threshold; relative to its own contrast it does not.
    """
    std = np.asarray(std, np.float64)
    informative = std[std >= FLAT_FLOOR]
    if relative <= 0 or informative.size == 0:
        return std < flat_std
    return std < max(FLAT_FLOOR, min(flat_std, relative * float(np.median(informative))))


# ----------------------------------------------------------------------------- frame descriptors
DESC_K = 16
DESC_POW = 1.0  # weight ~ spatial frequency: structure counts, smooth shading barely does


@lru_cache(maxsize=16)
def _desc_weights(k: int, power: float, kx: int) -> np.ndarray:
    u, v = np.arange(k, dtype=np.float32), np.arange(kx, dtype=np.float32)
    f = np.sqrt(u[:, None] ** 2 + v[None, :] ** 2)
    f[0, 0] = 0.0  # drop the mean: brightness and contrast changes must not matter
    return (f**power).astype(np.float32)


def frame_descriptors(imgs: np.ndarray, k: int = DESC_K, power: float = DESC_POW, kx: int = 0) -> np.ndarray:
    """Unit-norm descriptors ``[n, k*kx]`` of ``[n, S, S]`` images (cosine = frame similarity).

    The defaults weight the k x k lowest DCT frequencies by frequency (structure, not shading); a
    small k with a lower power gives the smooth, forgiving similarity used for coarse geometry search.
    ``kx`` > 0: that many horizontal frequencies instead of ``k`` (a picture squeezed or stretched
    across has detail up to another frequency across than down).
    """
    n = imgs.shape[0]
    kx = kx or k
    d = dct_matrix(k, imgs.shape[-1])
    dx = d if kx == k else dct_matrix(kx, imgs.shape[-1])
    c = d @ imgs.astype(np.float32) @ dx.T
    v = (c * _desc_weights(k, power, kx)[None]).reshape(n, -1)
    norm = np.linalg.norm(v, axis=1, keepdims=True)
    return (v / np.maximum(norm, 1e-6)).astype(np.float32)


# ----------------------------------------------------------------------------- keypoints
def _gauss_fft(shape: tuple[int, int], sigma: float) -> np.ndarray:
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    return np.exp(-2.0 * (np.pi * sigma) ** 2 * (fx**2 + fy**2)).astype(np.float32)


def _max3x3(a: np.ndarray) -> np.ndarray:
    """3x3 maximum filter (separable: rows, then columns)."""
    p = np.pad(a, ((0, 0), (1, 1), (1, 1)), mode="constant", constant_values=-np.inf)
    h, w = a.shape[1:]
    rows = np.maximum(np.maximum(p[:, :, 0:w], p[:, :, 1 : w + 1]), p[:, :, 2 : w + 2])
    return np.maximum(np.maximum(rows[:, 0:h], rows[:, 1 : h + 1]), rows[:, 2 : h + 2])


def _max3x3_at(a: np.ndarray, fr: np.ndarray, yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    """The 3x3 maximum of ``a[fr]`` around each (yy, xx) (edges clamped)."""
    h, w = a.shape[1:]
    out = np.full(fr.shape, -np.inf, np.float32)
    for dy in (-1, 0, 1):
        y = np.clip(yy + dy, 0, h - 1)
        for dx in (-1, 0, 1):
            out = np.maximum(out, a[fr, y, np.clip(xx + dx, 0, w - 1)])
    return out


def _quad(vm: np.ndarray, v0: np.ndarray, vp: np.ndarray) -> np.ndarray:
    den = vm - 2 * v0 + vp
    off = np.where(den < 0, 0.5 * (vm - vp) / np.where(den < 0, den, -1.0), 0.0)
    return np.clip(off, -0.5, 0.5)


def keypoints(
    imgs: np.ndarray,
    *,
    sigma0: float = 3.0,
    per_octave: int = 3,
    levels: int = 5,
    window: float = 2.5,
    threshold: float = 0.02,
    top: int = 16,
) -> tuple[np.ndarray, np.ndarray]:
    """Coarse DoG keypoints of square images ``[n, S, S]``.

    Returns ``kp[m, 3]`` (x, y, radius in pixels; the code window is the square of half-side
    ``radius`` = ``window`` x sigma) and ``frame[m]``; at most ``top`` per image, strongest first,
    only those whose window lies inside the image. Images are normalised to zero mean and unit
    variance first so the threshold does not depend on brightness or contrast.
    """
    n, h, w = imgs.shape
    if n == 0:
        return np.zeros((0, 3), np.float32), np.zeros(0, np.int64)
    x = imgs.astype(np.float32)
    x = (x - x.mean(axis=(1, 2), keepdims=True)) / np.maximum(x.std(axis=(1, 2), keepdims=True), 1e-3)
    # Reflect-pad to an FFT-friendly size. Keypoint windows stay 2.5 sigma inside the picture, so a
    # narrow pad keeps wrap-around far below the responses that count.
    need = max(h, w) + 16
    size = next(n for n in (64, 72, 80, 96, 112, 128, 144, 160, 192, 224, 256, 1 << 30) if n >= need)
    pad_y, pad_x = (size - h) // 2, (size - w) // 2
    xp = np.pad(x, ((0, 0), (pad_y, size - h - pad_y), (pad_x, size - w - pad_x)), mode="reflect")
    f = np.fft.rfft2(xp)
    sig = sigma0 * 2.0 ** (np.arange(levels + 2) / per_octave)
    gauss = np.stack([_gauss_fft(xp.shape[1:], s) for s in sig])
    # Each difference of Gaussians is one inverse FFT of the spectrum times a band-pass (one batch).
    dog = np.empty((levels + 1, n, h, w), np.float32)
    for i in range(levels + 1):
        band = np.fft.irfft2(f * (gauss[i + 1] - gauss[i]), s=xp.shape[1:])
        np.abs(band[:, pad_y : pad_y + h, pad_x : pad_x + w], out=dog[i])
    out_kp, out_fr, out_resp = [], [], []
    for i in range(1, levels):
        a = dog[i]
        # In-level maxima above the threshold whose window can fit, then the two neighbouring levels.
        fr, yy, xx = np.nonzero((a >= _max3x3(a)) & (a > threshold))
        if fr.size == 0:
            continue
        v0 = a[fr, yy, xx]
        keep = (v0 >= _max3x3_at(dog[i - 1], fr, yy, xx)) & (v0 >= _max3x3_at(dog[i + 1], fr, yy, xx))
        fr, yy, xx = fr[keep], yy[keep], xx[keep]
        if fr.size == 0:
            continue
        v0 = a[fr, yy, xx]
        xl, xr = np.maximum(xx - 1, 0), np.minimum(xx + 1, w - 1)
        yl, yr = np.maximum(yy - 1, 0), np.minimum(yy + 1, h - 1)
        dx = _quad(a[fr, yy, xl], v0, a[fr, yy, xr])
        dy = _quad(a[fr, yl, xx], v0, a[fr, yr, xx])
        ds = _quad(dog[i - 1][fr, yy, xx], v0, dog[i + 1][fr, yy, xx])
        s = sigma0 * 2.0 ** ((i + ds + 0.5) / per_octave)
        r = window * s
        cx, cy = xx + dx, yy + dy
        inside = (cx - r >= -0.5) & (cx + r <= w - 0.5) & (cy - r >= -0.5) & (cy + r <= h - 0.5)
        out_kp.append(np.stack([cx, cy, r], axis=1)[inside])
        out_fr.append(fr[inside])
        out_resp.append(v0[inside])
    if not out_kp:
        return np.zeros((0, 3), np.float32), np.zeros(0, np.int64)
    kp = np.concatenate(out_kp).astype(np.float32)
    fr = np.concatenate(out_fr).astype(np.int64)
    resp = np.concatenate(out_resp)
    order = np.lexsort((kp[:, 1], kp[:, 0], -resp, fr))  # by frame, strongest first (ties: position)
    kp, fr = kp[order], fr[order]
    start = np.searchsorted(fr, fr, side="left")
    keep = (np.arange(fr.size) - start) < top
    return kp[keep], fr[keep]


def keypoint_windows(imgs: np.ndarray, kp: np.ndarray, frame: np.ndarray, out: int = 16) -> np.ndarray:
    """``[m, out, out]`` windows around keypoints (square, half-side = radius)."""
    m = kp.shape[0]
    if m == 0:
        return np.zeros((0, out, out), np.float32)
    u = (np.arange(out) + 0.5) / out * 2.0 - 1.0
    xs = kp[:, 0:1] + u[None, :] * kp[:, 2:3]
    ys = kp[:, 1:2] + u[None, :] * kp[:, 2:3]
    return sample_grid(imgs, xs, ys, rows=frame)
