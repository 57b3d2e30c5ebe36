"""How much of a frame is covered by overlaid text (subtitles, captions, tickers). No model needed.

Classic morphological text localisation: a morphological gradient finds the strong, thin stroke
edges text is made of; a horizontal closing joins the characters of a line; a connected component
counts as a text line when it is short and wide (a few characters at least), densely filled and
crossed by many strokes along its middle row. Texture (grass, gravel) merges into blobs that are
too tall, long straight edges (bricks, horizons) have too few stroke crossings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

try:
    import cv2
except ImportError:  # pragma: no cover
    cv2 = None  # type: ignore[assignment]  # optional: the analyzer reports itself unavailable


@dataclass(frozen=True)
class TextBox:
    """A text line, as fractions of the frame."""

    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class TextCoverage:
    """Share of the frame covered by text lines, and the lines."""

    coverage: float  # 0..1 of the frame area
    boxes: tuple[TextBox, ...]


def text_coverage(grey: np.ndarray) -> TextCoverage:
    """Find text lines in a grey image (any size; ~640 px wide is what the thresholds were tuned on)."""
    h, w = grey.shape
    if h < 32 or w < 32:
        return TextCoverage(0.0, ())
    k3 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    grad = cv2.morphologyEx(grey, cv2.MORPH_GRADIENT, k3)
    otsu, _ = cv2.threshold(grad, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    _, bw = cv2.threshold(grad, max(60.0, otsu), 255, cv2.THRESH_BINARY)
    join = cv2.getStructuringElement(cv2.MORPH_RECT, (max(7, w // 60), 1))
    closed = cv2.morphologyEx(bw, cv2.MORPH_CLOSE, join)
    # Opening with a longer horizontal bar cuts the thin vertical edges that glue a text line to
    # the picture around it, and drops isolated short edges.
    closed = cv2.morphologyEx(closed, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(9, w // 40), 1)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    boxes: list[TextBox] = []
    area = 0
    min_h, max_h = max(6, int(0.022 * h)), int(0.14 * h)
    for i in range(1, n):
        x, y, bw_, bh, _filled = (int(v) for v in stats[i])
        if bh < min_h or bw_ < 3 * min_h:
            continue
        mask = labels[y : y + bh, x : x + bw_] == i
        for lx, ly, lw, lh in _line_boxes(mask, min_h, max_h) if bh > max_h else [(0, 0, bw_, bh)]:
            if _is_text_line(grey, bw, mask[ly : ly + lh, lx : lx + lw], x + lx, y + ly, lw, lh, min_h, max_h):
                boxes.append(TextBox((x + lx) / w, (y + ly) / h, lw / w, lh / h))
                area += lw * lh
    return TextCoverage(min(1.0, area / float(h * w)), tuple(boxes))


def _line_boxes(mask: np.ndarray, min_h: int, max_h: int) -> list[tuple[int, int, int, int]]:
    """Split a tall blob (several text lines glued by the picture behind them) at its sparse rows."""
    if mask.shape[0] > 3 * max_h:
        return []
    fill = mask.mean(axis=1)
    dense = fill >= 0.5 * float(fill.max())
    out = []
    y = 0
    while y < len(dense):
        if not dense[y]:
            y += 1
            continue
        y0 = y
        while y < len(dense) and dense[y]:
            y += 1
        if min_h <= y - y0 <= max_h:
            cols = np.flatnonzero(mask[y0:y].any(axis=0))
            out.append((int(cols[0]), y0, int(cols[-1] - cols[0] + 1), y - y0))
    return out


def _is_text_line(
    grey: np.ndarray, bw: np.ndarray, mask: np.ndarray, x: int, y: int, bw_: int, bh: int, min_h: int, max_h: int
) -> bool:
    """Do the shape, density, stroke crossings and stroke direction of a box look like a line of text?"""
    if not (min_h <= bh <= max_h) or bw_ < 3 * bh:
        return False
    if float(mask.mean()) < 0.5:  # a text line's closed mask is dense
        return False
    strokes = bw[y : y + bh, x : x + bw_]
    edge_share = float(np.count_nonzero(strokes)) / strokes.size
    if not 0.35 <= edge_share <= 0.85:
        return False
    # Stroke crossings along three rows through the middle of the line: about 1+ per character.
    rows = strokes[[bh // 3, bh // 2, (2 * bh) // 3]] > 0
    crossings = float(np.count_nonzero(rows[:, 1:] != rows[:, :-1])) / 3.0
    if crossings * bh / bw_ < 1.8:
        return False
    # Glyphs are built from upright strokes: more horizontal than vertical gradient energy.
    patch = grey[y : y + bh, x : x + bw_]
    gx = float(np.abs(cv2.Sobel(patch, cv2.CV_32F, 1, 0, ksize=3)).sum())
    gy = float(np.abs(cv2.Sobel(patch, cv2.CV_32F, 0, 1, ksize=3)).sum())
    return gx >= 1.1 * gy
