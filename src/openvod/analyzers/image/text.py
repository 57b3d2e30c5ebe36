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
    cv2 = None


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
    n, _labels, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    boxes: list[TextBox] = []
    area = 0
    min_h, max_h = max(6, int(0.022 * h)), int(0.14 * h)
    for i in range(1, n):
        x, y, bw_, bh, filled = (int(v) for v in stats[i])
        if not (min_h <= bh <= max_h) or bw_ < 3 * bh:
            continue
        if filled < 0.5 * bw_ * bh:  # a text line's closed mask is dense
            continue
        strokes = bw[y : y + bh, x : x + bw_]
        edge_share = float(np.count_nonzero(strokes)) / strokes.size
        if not 0.35 <= edge_share <= 0.85:
            continue
        # Stroke crossings along three rows through the middle of the line: about 1+ per character.
        rows = strokes[[bh // 3, bh // 2, (2 * bh) // 3]] > 0
        crossings = float(np.count_nonzero(rows[:, 1:] != rows[:, :-1])) / 3.0
        if crossings * bh / bw_ < 1.8:
            continue
        # Glyphs are built from upright strokes: more horizontal than vertical gradient energy.
        patch = grey[y : y + bh, x : x + bw_]
        gx = float(np.abs(cv2.Sobel(patch, cv2.CV_32F, 1, 0, ksize=3)).sum())
        gy = float(np.abs(cv2.Sobel(patch, cv2.CV_32F, 0, 1, ksize=3)).sum())
        if gx < 1.1 * gy:
            continue
        boxes.append(TextBox(x / w, y / h, bw_ / w, bh / h))
        area += bw_ * bh
    return TextCoverage(min(1.0, area / float(h * w)), tuple(boxes))
