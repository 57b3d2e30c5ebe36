"""Adaptive frame selection: look at a frame again only when the picture changed.

Every scanned frame is reduced to a small grey signature. A frame is *selected* (handed to the
analyzers) when it starts a new shot (a cut: a large jump from the previous scanned frame, relative
to the recent level of motion) or when part of the picture differs from the last selected frame
(a caption swapped, a person walked in). A static shot is therefore analysed once, a subtitle
change costs one frame, and continuous motion is throttled to ``min_interval_s``.

The change mask (which blocks of a grid changed) travels with the frame, so analyzers can limit
work to the changed region (OCR reads only a swapped caption's strip).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class SamplerOptions:
    """Scan rate and change thresholds (grey levels 0-255 on the signature)."""

    scan_fps: float = 5.0  # how often a decoded frame is looked at
    signature_size: tuple[int, int] = (128, 72)  # width, height of the grey signature
    grid: tuple[int, int] = (16, 9)  # blocks across, down
    change_threshold: float = 9.0  # a block whose mean absolute difference exceeds this changed
    # ... or in which this many signature pixels differ by more than peak_threshold: a small or faint
    # caption (12 px or 30 % opacity text on 720p) changes a few pixels strongly but a block's mean
    # by only 2-8 levels; sensor grain and encoder noise average out in the signature.
    peak_threshold: float = 6.0
    peak_pixels: int = 4
    cut_threshold: float = 30.0  # global mean absolute difference that can be a cut ...
    cut_ratio: float = 3.0  # ... when it is also this many times the recent average difference
    min_interval_s: float = 0.5  # at most one selected frame per interval, except at cuts
    max_interval_s: float = 0.0  # > 0: also select after this long without a selection


@dataclass
class SelectedFrame:
    """A frame handed to the analyzers."""

    t: float  # seconds of presentation time
    index: int  # order among selected frames
    shot: int  # shot number, from 0
    reason: str  # first | cut | change | interval
    changed: np.ndarray  # bool (grid_h, grid_w): blocks that differ from the previous selected frame
    image: np.ndarray | None = None  # RGB uint8 at the analysis size

    @property
    def change_fraction(self) -> float:
        return float(self.changed.mean())

    @property
    def new_shot(self) -> bool:
        return self.reason in ("first", "cut")

    def with_image(self, img: np.ndarray) -> SelectedFrame:
        return replace(self, image=img)

    def changed_box(self, width: int, height: int, dilate: int = 1) -> tuple[int, int, int, int] | None:
        """Pixel box (x0, y0, x1, y1) around the changed blocks, grown by ``dilate`` blocks."""
        ys, xs = np.nonzero(self.changed)
        if len(xs) == 0:
            return None
        gh, gw = self.changed.shape
        bx, by = width / gw, height / gh
        x0 = int(max(0, (xs.min() - dilate) * bx))
        y0 = int(max(0, (ys.min() - dilate) * by))
        x1 = int(min(width, (xs.max() + 1 + dilate) * bx))
        y1 = int(min(height, (ys.max() + 1 + dilate) * by))
        return x0, y0, x1, y1


def block_mad(a: np.ndarray, b: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """Mean absolute difference per block of a (grid_h, grid_w) grid."""
    gw, gh = grid
    h, w = a.shape
    d = np.abs(a.astype(np.int16) - b.astype(np.int16)).astype(np.float32)
    d = d[: h - h % gh, : w - w % gw]
    return d.reshape(gh, d.shape[0] // gh, gw, d.shape[1] // gw).mean(axis=(1, 3))


def block_peaks(a: np.ndarray, b: np.ndarray, grid: tuple[int, int], threshold: float) -> np.ndarray:
    """Per block of a (grid_h, grid_w) grid: how many pixels differ by more than ``threshold``."""
    gw, gh = grid
    h, w = a.shape
    d = (np.abs(a.astype(np.int16) - b.astype(np.int16)) > threshold).astype(np.int32)
    d = d[: h - h % gh, : w - w % gw]
    return d.reshape(gh, d.shape[0] // gh, gw, d.shape[1] // gw).sum(axis=(1, 3))


class FrameSampler:
    """Decides, scan by scan, which frames the analyzers see."""

    def __init__(self, options: SamplerOptions | None = None):
        self.o = options or SamplerOptions()
        self.prev_scan: np.ndarray | None = None
        self.last_sel: np.ndarray | None = None
        self.last_sel_t = -1e9
        self.recent: deque[float] = deque(maxlen=25)
        self.selected = 0
        self.shots = 0
        self.cuts: list[float] = []

    def _is_cut(self, sig: np.ndarray) -> bool:
        if self.prev_scan is None:
            return False
        d = float(np.abs(sig.astype(np.int16) - self.prev_scan.astype(np.int16)).mean())
        baseline = (sum(self.recent) / len(self.recent)) if self.recent else 0.0
        self.recent.append(d)
        return d >= self.o.cut_threshold and d >= self.o.cut_ratio * max(baseline, 1.0)

    def consider(self, t: float, sig: np.ndarray) -> SelectedFrame | None:
        """Look at one scanned frame's signature; return a SelectedFrame (without image) or None."""
        grid_h, grid_w = self.o.grid[1], self.o.grid[0]
        cut = self._is_cut(sig)
        self.prev_scan = sig
        if self.last_sel is None:
            reason = "first"
            changed = np.ones((grid_h, grid_w), bool)
        elif cut:
            reason = "cut"
            changed = np.ones((grid_h, grid_w), bool)
        else:
            if t - self.last_sel_t < self.o.min_interval_s:
                return None
            changed = block_mad(sig, self.last_sel, self.o.grid) > self.o.change_threshold
            if self.o.peak_pixels > 0:
                changed |= block_peaks(sig, self.last_sel, self.o.grid, self.o.peak_threshold) >= self.o.peak_pixels
            if changed.any():
                reason = "change"
            elif self.o.max_interval_s > 0 and t - self.last_sel_t >= self.o.max_interval_s:
                reason = "interval"
            else:
                return None
        if reason in ("first", "cut"):
            if reason == "cut":
                self.shots += 1
                self.cuts.append(t)
        sel = SelectedFrame(t=t, index=self.selected, shot=self.shots, reason=reason, changed=changed)
        self.selected += 1
        self.last_sel = sig
        self.last_sel_t = t
        return sel
