"""Boxes and region bookkeeping shared by the visual analyzers.

Boxes are ``(x0, y0, x1, y1)`` in analysis-frame pixels while a job runs and are reported as
fractions of the frame (``Left, Top, Width, Height``, like AWS Rekognition's BoundingBox).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

Box = tuple[float, float, float, float]


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def intersects(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def union_box(boxes: Iterable[Box]) -> Box | None:
    bs = list(boxes)
    if not bs:
        return None
    return min(b[0] for b in bs), min(b[1] for b in bs), max(b[2] for b in bs), max(b[3] for b in bs)


def area(b: Box) -> float:
    return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])


def grow_region(region: Box, tracked: Iterable[Box], width: int, height: int) -> Box:
    """Grow a changed region until it fully contains every tracked box it touches."""
    r = region
    changed = True
    boxes = list(tracked)
    while changed:
        changed = False
        for b in boxes:
            if intersects(r, b) and not (r[0] <= b[0] and r[1] <= b[1] and r[2] >= b[2] and r[3] >= b[3]):
                r = (min(r[0], b[0]), min(r[1], b[1]), max(r[2], b[2]), max(r[3], b[3]))
                changed = True
    return max(0.0, r[0]), max(0.0, r[1]), min(float(width), r[2]), min(float(height), r[3])


def fractions(b: Box, width: int, height: int) -> dict[str, float]:
    """A box as fractions of the frame: {"Left", "Top", "Width", "Height"}."""
    return {
        "Left": round(b[0] / width, 4),
        "Top": round(b[1] / height, 4),
        "Width": round((b[2] - b[0]) / width, 4),
        "Height": round((b[3] - b[1]) / height, 4),
    }


def content_box(grey: np.ndarray, flat_std: float, block: int = 16, margin: int = 1) -> Box | None:
    """The bounding box (in ``grey``'s pixels) of the blocks that are not flat, grown by ``margin``
    blocks, or None when every block is flat.

    Text, faces and objects have contrast; a block whose grey-level standard deviation is below
    ``flat_std`` (a plain colour, a smooth gradient, black) holds none, so a detector need not see it.
    """
    h, w = grey.shape[:2]
    gh, gw = -(-h // block), -(-w // block)
    g = np.zeros((gh * block, gw * block), np.float32)
    g[:h, :w] = grey
    if gh * block > h:  # pad by repeating the edge, so padding adds no contrast
        g[h:, :w] = g[h - 1 : h, :w]
    if gw * block > w:
        g[:, w:] = g[:, w - 1 : w]
    b = g.reshape(gh, block, gw, block)
    var = (b * b).mean(axis=(1, 3)) - b.mean(axis=(1, 3)) ** 2
    ys, xs = np.nonzero(var > flat_std * flat_std)
    if len(ys) == 0:
        return None
    x0, y0 = max(0, xs.min() - margin) * block, max(0, ys.min() - margin) * block
    x1, y1 = min(gw, xs.max() + 1 + margin) * block, min(gh, ys.max() + 1 + margin) * block
    return float(x0), float(y0), float(min(w, x1)), float(min(h, y1))
