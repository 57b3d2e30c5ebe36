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
    c = np.einsum("ua,mab,vb->muv", d, windows.astype(np.float32), d, optimize=True)
    # Mirroring a window negates the coefficients of odd horizontal frequency.
    sign = np.where(np.arange(8) % 2 == 1, -1.0, 1.0).astype(np.float32)
    cf = c * sign[None, None, :]
    return _bits(c.reshape(m, 64)), _bits(cf.reshape(m, 64))


def _bits(coef: np.ndarray) -> np.ndarray:
    med = np.median(coef, axis=1, keepdims=True)
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
    rows = (np.arange(n) if rows is None else np.asarray(rows))[:, None, None]
    y0, x0 = iy[:, :, None], ix[:, None, :]
    x1 = np.minimum(x0 + 1, w - 1)
    y1 = np.minimum(y0 + 1, h - 1)
    a = imgs[rows, y0, x0]
    b = imgs[rows, y0, x1]
    c = imgs[rows, y1, x0]
    d = imgs[rows, y1, x1]
    return (a * (1 - fx) * (1 - fy) + b * fx * (1 - fy) + c * (1 - fx) * fy + d * fx * fy).astype(np.float32)


def sample_boxes(imgs: np.ndarray, boxes: np.ndarray, out: int, flip: bool = False) -> np.ndarray:
    """Resample normalised boxes ``[n, 4]`` (x, y, w, h in 0..1 of each image) to ``[n, out, out]``.

    A box that is much larger than ``out`` samples is averaged over (2x2 supersampling) so thin
    detail does not alias. ``flip`` reads each box right to left.
    """
    n, h, w = imgs.shape
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    if boxes.shape[0] == 1 and n > 1:
        boxes = np.repeat(boxes, n, axis=0)
    ss = 2 if max(boxes[:, 2].max() * w, boxes[:, 3].max() * h) > 1.5 * out else 1
    k = out * ss
    u = (np.arange(k) + 0.5) / k
    if flip:
        u = u[::-1]
    xs = (boxes[:, 0:1] + u[None, :] * boxes[:, 2:3]) * w - 0.5
    ys = (boxes[:, 1:2] + ((np.arange(k) + 0.5) / k)[None, :] * boxes[:, 3:4]) * h - 0.5
    s = sample_grid(imgs.astype(np.float32, copy=False), xs, ys)
    if ss > 1:
        s = s.reshape(n, out, ss, out, ss).mean(axis=(2, 4))
    return s


# ----------------------------------------------------------------------------- frame descriptors
DESC_K = 10


@lru_cache(maxsize=4)
def _desc_weights(k: int) -> np.ndarray:
    u = np.arange(k, dtype=np.float32)
    f = np.sqrt(u[:, None] ** 2 + u[None, :] ** 2)
    f[0, 0] = 0.0  # drop the mean: brightness and contrast changes must not matter
    return np.sqrt(f)


def frame_descriptors(imgs: np.ndarray) -> np.ndarray:
    """Unit-norm descriptors ``[n, K*K]`` of ``[n, S, S]`` images (cosine = frame similarity)."""
    n = imgs.shape[0]
    d = dct_matrix(DESC_K, imgs.shape[-1])
    c = np.einsum("ua,nab,vb->nuv", d, imgs.astype(np.float32), d, optimize=True)
    v = (c * _desc_weights(DESC_K)[None]).reshape(n, -1)
    norm = np.linalg.norm(v, axis=1, keepdims=True)
    return (v / np.maximum(norm, 1e-6)).astype(np.float32)


# ----------------------------------------------------------------------------- keypoints
def _gauss_fft(shape: tuple[int, int], sigma: float) -> np.ndarray:
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    return np.exp(-2.0 * (np.pi * sigma) ** 2 * (fx**2 + fy**2)).astype(np.float32)


def _max3x3(a: np.ndarray) -> np.ndarray:
    p = np.pad(a, ((0, 0), (1, 1), (1, 1)), mode="constant", constant_values=-np.inf)
    h, w = a.shape[1:]
    out = p[:, 0:h, 0:w]
    for dy in range(3):
        for dx in range(3):
            if dy or dx:
                out = np.maximum(out, p[:, dy : dy + h, dx : dx + w])
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
    levels: int = 6,
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
    # Reflect-pad to an FFT-friendly size (a power of two at the default 96 px).
    size = 1 << int(np.ceil(np.log2(max(h, w) * 4 / 3)))
    pad_y, pad_x = (size - h) // 2, (size - w) // 2
    xp = np.pad(x, ((0, 0), (pad_y, size - h - pad_y), (pad_x, size - w - pad_x)), mode="reflect")
    f = np.fft.rfft2(xp)
    sig = sigma0 * 2.0 ** (np.arange(levels + 2) / per_octave)
    gs = [
        np.fft.irfft2(f * _gauss_fft(xp.shape[1:], s), s=xp.shape[1:])[:, pad_y : pad_y + h, pad_x : pad_x + w]
        for s in sig
    ]
    dog = np.abs(np.stack([gs[i + 1] - gs[i] for i in range(levels + 1)]).astype(np.float32))  # [L, n, h, w]
    sp = np.stack([_max3x3(dog[i]) for i in range(levels + 1)])
    out_kp, out_fr, out_resp = [], [], []
    for i in range(1, levels):
        a = dog[i]
        nb = np.maximum(np.maximum(sp[i - 1], sp[i]), sp[i + 1])
        fr, yy, xx = np.nonzero((a >= nb) & (a > threshold))
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
