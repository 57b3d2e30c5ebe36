"""Where the picture is: the active box of a whole video, and stretches of it framed differently.

A copy is often reframed (letterbox, pillarbox, coloured padding, a 16:9 picture in a 9:16 frame over
a blurred, enlarged copy of itself). When the whole video is reframed, its edge rows and columns stay
flat and constant over the whole video (``active_box``) or are much smoother than its centre
(``sharp_band``), and are cut away before anything is compared. A reframed copy *between* full-frame
footage (a compilation, a vertical video that cuts from its own shots to a clip over a blurred
background) is framed so only while the copy lasts: ``stretches`` finds such runs of samples, each
with its own box, so the copy's thumbnails and codes show the copy alone, as its source's do.
"""

from __future__ import annotations

import numpy as np

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in working-picture pixels


def active_box(pictures: np.ndarray, flat_std: float = 6.0, max_cut: float = 0.48, frame_aspect: float = 0.0,
               max_aspect: float = 2.5) -> Box:
    """``(x0, y0, x1, y1)`` pixels of the picture area that is not letterbox or padding.

    An edge row (column) is padding when, in every sample, it is flat along its length and its
    level never changes over time. Trimming stops at the first row that is not, and at ``max_cut``.
    Then a *blurred* surround is cut too (a 16:9 picture in a 9:16 frame over a blurred, enlarged
    copy of itself): see ``sharp_band``; a band wider than ``max_aspect``:1 or taller than 1:``max_aspect``
    (``frame_aspect``: source width / height) is smooth content around centred detail (title cards), kept whole.
    """
    n, h, w = pictures.shape
    p = pictures.astype(np.float32)
    y0, y1 = _pad_cuts(p.std(axis=2), p.mean(axis=2), flat_std, max_cut)
    x0, x1 = _pad_cuts(p[:, y0:y1, :].std(axis=1), p[:, y0:y1, :].mean(axis=1), flat_std, max_cut)
    if x1 - x0 < w // 4 or y1 - y0 < h // 4:  # a (nearly) blank video: keep the whole frame
        return 0, 0, w, h
    inner = p[:: max(1, n // 64), y0:y1, x0:x1]  # a whole-video statistic: 64 samples spread over it suffice
    b0, b1 = sharp_band(np.abs(np.diff(inner, axis=2)).mean(axis=(0, 2)))  # rows: horizontal detail
    c0, c1 = sharp_band(np.abs(np.diff(inner[:, b0:b1, :], axis=1)).mean(axis=(0, 1)))  # columns
    if frame_aspect > 0 and (c0, b0, c1, b1) != (0, 0, x1 - x0, y1 - y0):
        aspect = frame_aspect * ((c1 - c0) / w) / ((b1 - b0) / h)
        if not 1.0 / max_aspect <= aspect <= max_aspect:
            return x0, y0, x1, y1
    return x0 + c0, y0 + b0, x0 + c1, y0 + b1


def _pad_cuts(spatial_std: np.ndarray, level: np.ndarray, flat_std: float, max_cut: float) -> tuple[int, int]:
    """Rows ``[a, b)`` left when the edge rows that are flat along their length (``spatial_std``, per sample
    and row) and constant in level (``level``) over all samples are cut, up to ``max_cut`` of them per side."""
    size = level.shape[1]
    pad = (spatial_std.max(axis=0) < flat_std * 0.5) & (level.std(axis=0) < flat_std * 0.5)
    limit = int(size * max_cut)
    a = 0
    while a < limit and pad[a]:
        a += 1
    b = size
    while size - b < limit and pad[b - 1]:
        b -= 1
    return a, b


def sharp_band(energy: np.ndarray, ratio: float = 3.0, min_share: float = 0.25, max_share: float = 0.85) -> tuple[int, int]:
    """The central run of rows (or columns) with detail, when everything outside it is much smoother.

    ``energy``: mean absolute gradient per row over the whole video. A blurred background keeps
    its colours and motion but loses its detail; the picture itself has edges somewhere in most of
    its shots. Returns ``(0, len)`` unless both sides are at least ``ratio`` times smoother.
    """
    n = energy.size
    if n < 8:
        return 0, n
    mid = energy[int(n * 0.4) : int(n * 0.6) + 1]
    level = float(np.median(mid))
    if level <= 1e-6:
        return 0, n
    sharp = energy >= level / ratio
    c = n // 2
    if not sharp[c]:
        return 0, n
    a = c
    while a > 0 and sharp[a - 1]:
        a -= 1
    b = c + 1
    while b < n and sharp[b]:
        b += 1
    a, b = max(0, a - 1), min(n, b + 1)  # the band's own edge rows
    if not (min_share * n <= b - a <= max_share * n):
        return 0, n
    # A surround is on both sides (a picture centred over its blurred copy); one smooth side is just
    # smooth content (sky, a wall) next to text or detail.
    if a < 0.1 * n or b > 0.9 * n:
        return 0, n
    inside = float(energy[a:b].mean())
    if float(energy[:a].mean()) * ratio > inside or float(energy[b:].mean()) * ratio > inside:
        return 0, n
    return a, b


# ----------------------------------------------------------------------------- stretches
STRETCH_WINDOW = 12  # samples (3 s at 4/s) over which a stretch's framing must hold ...
STRETCH_STEP = 4  # ... looked for every this many samples
MIN_CUT = 0.06  # a stretch's box is inside the video's by at least this share on two opposite sides
BOX_TOLERANCE = 3  # pixels: windows whose boxes differ by no more than this belong to one stretch
SMOOTHER = 3.0  # a sample continues a stretch while outside its box is this many times smoother than inside
PAD_LEVELS = 2.0  # padding is one colour: its rows' levels (both sides) within this of each other ...
PAD_EDGE = 8.0  # ... and the picture's first row differs from it by this much (an edge, not a dark scene) ...
EDGE_SHARE = 0.5  # ... along this share of its length (a picture's border, not the ends of a few lines of text)
SURROUND_MOTION = 1.0  # a blurred surround changes with its picture (mean per-pixel std over the window)
MIN_WIDE = 1.5  # a band in a portrait frame is a reframed picture when at least this wide for its height (16:9: 1.78)


def _padded(p: np.ndarray, whole: Box, flat_std: float) -> Box | None:
    """A window's box inside ``whole`` when one colour pads two opposite sides of its picture, or all four
    (``PAD_LEVELS``, ``PAD_EDGE``, ``EDGE_SHARE``); content that is merely flat at its edges (a sky, credits
    on black, a slide's margins) is not a frame around a picture."""
    box = list(whole)
    level: float | None = None
    for axis in (2, 1):  # rows (letterbox), then columns (pillarbox) of what the rows left
        sub = p[:, box[1] : box[3], box[0] : box[2]]
        lines = sub if axis == 2 else sub.transpose(0, 2, 1)  # [n, line, along]
        size = lines.shape[1]
        a, b = _pad_cuts(lines.std(axis=2), lines.mean(axis=2), flat_std, 0.48)
        if a < MIN_CUT * size or size - b < MIN_CUT * size or b - a < size // 4:
            continue
        levels = np.concatenate([lines[:, :a].mean(axis=(0, 2)), lines[:, b:].mean(axis=(0, 2))])
        lv = float(levels.mean())
        if float(levels.max() - levels.min()) > PAD_LEVELS or (level is not None and abs(lv - level) > PAD_LEVELS):
            continue
        if min(float((np.abs(lines[:, k] - lv) >= PAD_EDGE).mean()) for k in (a, b - 1)) < EDGE_SHARE:
            continue
        level = lv
        lo = 1 if axis == 2 else 0
        box[lo], box[lo + 2] = box[lo] + a, box[lo] + b
    return (box[0], box[1], box[2], box[3]) if level is not None else None


def _surrounded(p: np.ndarray, whole: Box, frame_aspect: float) -> Box | None:
    """A window's band of rows over a blurred, moving copy of itself (``sharp_band``) in a portrait frame
    whose video is not framed so as a whole: a wide picture (``MIN_WIDE``:1 or wider) in a tall frame,
    with a straight border (``PAD_EDGE``) at both ends."""
    x0, y0, x1, y1 = whole
    h = p.shape[1]
    if not 0 < frame_aspect < 1 or (y0, y1) != (0, h):
        return None
    q = p[:, :, x0:x1]
    b0, b1 = sharp_band(np.abs(np.diff(q, axis=2)).mean(axis=(0, 2)))
    if b0 < MIN_CUT * h or h - b1 < MIN_CUT * h or frame_aspect * (x1 - x0) / p.shape[2] * h / (b1 - b0) < MIN_WIDE:
        return None
    around = np.concatenate([q[:, :b0], q[:, b1:]], axis=1)
    if float(around.std(axis=0).mean()) < SURROUND_MOTION:
        return None
    step = np.abs(np.diff(q, axis=1)).mean(axis=(0, 2))  # between rows r and r + 1
    if min(float(step[max(0, b - 3) : b + 2].max()) for b in (b0, b1)) < PAD_EDGE:
        return None  # no straight border at both ends: the smooth parts of a picture (a turned landscape's sky)
    return x0, y0 + b0, x1, y0 + b1


def _fits(picture: np.ndarray, box: Box, whole: Box) -> bool:
    """The picture's detail lies inside ``box``: what ``whole`` shows outside it is ``SMOOTHER`` times smoother."""
    x0, y0, x1, y1 = box
    wx0, wy0, wx1, wy1 = whole
    p = picture[wy0:wy1, wx0:wx1].astype(np.float32)
    g = np.zeros_like(p)
    g[:, 1:] += np.abs(np.diff(p, axis=1))
    g[1:, :] += np.abs(np.diff(p, axis=0))
    inside = np.zeros(g.shape, bool)
    inside[y0 - wy0 + 1 : y1 - wy0 - 1, x0 - wx0 + 1 : x1 - wx0 - 1] = True
    ring = np.ones(g.shape, bool)
    ring[max(0, y0 - wy0 - 1) : y1 - wy0 + 1, max(0, x0 - wx0 - 1) : x1 - wx0 + 1] = False  # the box and its edge rows
    if not inside.any() or not ring.any():
        return False
    return float(g[ring].mean()) * SMOOTHER <= float(g[inside].mean())


def stretches(pictures: np.ndarray, whole: Box, flat_std: float = 6.0, frame_aspect: float = 0.0) -> list[tuple[int, int, Box]]:
    """Runs of samples ``[a, b)`` framed inside ``whole`` by a box of their own, with that box.

    A window of ``STRETCH_WINDOW`` samples is framed when one colour pads two opposite sides of it
    (``_padded``) or, in a portrait frame, a band of rows is surrounded by a blurred copy (``_surrounded``),
    cutting ``MIN_CUT`` or more off each side. Consecutive framed windows with the same box
    (``BOX_TOLERANCE``) make one stretch; it then grows sample by sample while the picture outside its box
    stays ``SMOOTHER`` times smoother than inside, which places its ends on the cuts to and from the
    full-frame footage around it."""
    n = pictures.shape[0]
    if n < STRETCH_WINDOW:
        return []
    x0, y0, x1, y1 = whole
    # Padding needs flat outermost lines on two opposite sides in every sample of a window: a cheap filter
    # (those four lines only: a float copy of every picture of an hour-long video would take half a gigabyte).
    lines = [pictures[:, y0, x0:x1], pictures[:, y1 - 1, x0:x1], pictures[:, y0:y1, x0], pictures[:, y0:y1, x1 - 1]]
    flat = [line.astype(np.float32).std(axis=1) < flat_std * 0.5 for line in lines]
    portrait = 0 < frame_aspect < 1
    runs: list[tuple[int, int, list[Box]]] = []
    for a in range(0, n - STRETCH_WINDOW + 1, STRETCH_STEP):
        w = slice(a, a + STRETCH_WINDOW)
        pads = (flat[0][w].all() and flat[1][w].all()) or (flat[2][w].all() and flat[3][w].all())
        if not (pads or portrait):
            continue
        p = pictures[w].astype(np.float32)
        wbox = (_padded(p, whole, flat_std) if pads else None) or _surrounded(p, whole, frame_aspect)
        if wbox is None:
            continue
        last = runs[-1] if runs else None
        if last is not None and a <= last[1] and max(abs(u - v) for u, v in zip(wbox, last[2][-1], strict=True)) <= BOX_TOLERANCE:
            runs[-1] = (last[0], a + STRETCH_WINDOW, [*last[2], wbox])
        else:
            runs.append((a, a + STRETCH_WINDOW, [wbox]))
    out: list[tuple[int, int, Box]] = []
    for a, b, boxes in runs:
        m = np.median(np.array(boxes), axis=0)
        box: Box = (int(m[0]), int(m[1]), int(m[2]), int(m[3]))
        lo = out[-1][1] if out else 0
        while a > lo and _fits(pictures[a - 1], box, whole):
            a -= 1
        while b < n and _fits(pictures[b], box, whole):
            b += 1
        a = max(a, lo)
        if b - a >= STRETCH_WINDOW:
            out.append((a, b, box))
    return out


def sample_boxes(n: int, whole: Box, runs: list[tuple[int, int, Box]]) -> np.ndarray:
    """int[n, 4]: each sample's box (its stretch's, else the video's)."""
    out = np.tile(np.array(whole, np.int64), (n, 1))
    for a, b, box in runs:
        out[a:b] = box
    return out
