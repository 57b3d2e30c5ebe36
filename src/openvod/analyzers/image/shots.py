"""Shot boundaries on the analysis samples: hard cuts and gradual transitions (fades, dissolves).

Each sample gets a signature: an HSV colour histogram and a 32x18 grey thumbnail. The distance of two
samples mixes both (histograms are robust to motion, thumbnails to colour-similar cuts):

    d = 0.5 * (half L1 distance of the histograms) + 0.5 * min(1, 2.5 * mean |thumbnail difference| / 255)

* **Cut** between samples i-1 and i: ``d >= cut_threshold`` and ``d`` well above the local level
  (``cut_ratio`` x the median of the surrounding distances), as PySceneDetect's adaptive detector does,
  so steady fast motion does not read as a cut.
* **Gradual transition** (Zhang et al.'s twin comparison): a run of consecutive moderate distances
  (``>= low``) whose end points differ by ``>= cut_threshold`` overall. It is kept only if the frames
  inside are *linear blends* of the two ends (``m ~ a*A + (1-a)*B``, checked on the thumbnails),
  which is what fades and dissolves are and what camera pans and zooms are not.

Samples inside a gradual transition belong to no shot; everything else is split into shots.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

try:
    import cv2
except ImportError:  # pragma: no cover
    cv2 = None

THUMB = (32, 18)


@dataclass(frozen=True)
class Signature:
    """What shot detection and near-duplicate checks compare."""

    hist: np.ndarray  # float32, sums to 1
    thumb: np.ndarray  # float32 (18, 32) grey levels


def signature(small_rgb: np.ndarray) -> Signature:
    """Signature of a small RGB frame."""
    hsv = cv2.cvtColor(small_rgb, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, [16, 4, 4], [0, 180, 0, 256, 0, 256]).ravel()
    hist /= max(1.0, float(hist.sum()))
    grey = cv2.cvtColor(small_rgb, cv2.COLOR_RGB2GRAY)
    thumb = cv2.resize(grey, THUMB, interpolation=cv2.INTER_AREA).astype(np.float32)
    return Signature(hist.astype(np.float32), thumb)


def distance(a: Signature, b: Signature) -> float:
    """0 (identical) .. 1 (nothing in common)."""
    d_hist = 0.5 * float(np.abs(a.hist - b.hist).sum())
    d_pix = float(np.abs(a.thumb - b.thumb).mean()) / 255.0
    return 0.5 * d_hist + 0.5 * min(1.0, 2.5 * d_pix)


def blend_residual(a: np.ndarray, m: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """How well ``m`` is a linear blend of ``a`` and ``b``: (alpha, residual / |a - b|)."""
    ab = a - b
    denom = float((ab * ab).sum())
    if denom < 1e-6:
        return 0.5, 1.0
    alpha = float(((m - b) * ab).sum()) / denom
    fit = b + alpha * ab
    return alpha, float(np.sqrt(((m - fit) ** 2).sum() / denom))


@dataclass(frozen=True)
class Transition:
    """A gradual transition: samples strictly between ``first`` and ``last`` are inside it."""

    first: int  # index of the last clean sample before it
    last: int  # index of the first clean sample after it
    start: float  # seconds
    end: float
    kind: str  # "fade" (to or from a near-uniform frame) or "dissolve"


@dataclass(frozen=True)
class Shot:
    """A run of samples between boundaries."""

    index: int
    first: int  # sample indices, inclusive
    last: int
    start: float  # seconds (time of first / last sample)
    end: float
    starts_with: str  # "start", "cut", "fade" or "dissolve"


@dataclass
class ShotResult:
    """Shots, cuts and transitions of one video."""

    shots: list[Shot]
    cuts: list[float]  # time of the first sample after each hard cut
    transitions: list[Transition]
    shot_of: list[int] = field(default_factory=list)  # per sample: shot index, -1 inside a transition
    distances: list[float] = field(default_factory=list)  # d(i-1, i) per sample (0 for the first)


@dataclass
class ShotDetector:
    """Feed signatures in time order with :meth:`add`, then call :meth:`finish`."""

    cut_threshold: float = 0.3
    cut_ratio: float = 3.0
    low: float = 0.035
    window: int = 6
    blend_max_residual: float = 0.35
    max_transition_s: float = 4.0
    times: list[float] = field(default_factory=list)
    sigs: list[Signature] = field(default_factory=list)

    def add(self, t: float, sig: Signature) -> None:
        self.times.append(t)
        self.sigs.append(sig)

    def finish(self) -> ShotResult:
        n = len(self.sigs)
        if n == 0:
            return ShotResult([], [], [], [], [])
        d = np.zeros(n, dtype=np.float64)
        for i in range(1, n):
            d[i] = distance(self.sigs[i - 1], self.sigs[i])
        cuts = self._cuts(d)
        transitions = self._gradual(d, cuts)
        return self._shots(d, cuts, transitions)

    # ------------------------------------------------------------------ cuts
    def _cuts(self, d: np.ndarray) -> set[int]:
        cuts: set[int] = set()
        n = len(d)
        for i in range(1, n):
            if d[i] < self.cut_threshold:
                continue
            lo, hi = max(1, i - self.window), min(n, i + self.window + 1)
            around = [d[j] for j in range(lo, hi) if j != i]
            level = float(np.median(around)) if around else 0.0
            if d[i] >= self.cut_ratio * level + 0.05:
                cuts.add(i)
        return cuts

    # ------------------------------------------------------------------ gradual transitions
    def _gradual(self, d: np.ndarray, cuts: set[int]) -> list[Transition]:
        n = len(d)
        out: list[Transition] = []
        i = 1
        while i < n:
            if i in cuts or d[i] < self.low:
                i += 1
                continue
            start = i - 1
            j = i
            while j + 1 < n and (j + 1) not in cuts and d[j + 1] >= self.low:
                j += 1
            end = j  # samples start..end with every step >= low
            tr = self._check(start, end)
            if tr is not None:
                out.append(tr)
            i = j + 1
        return out

    def _check(self, start: int, end: int) -> Transition | None:
        if end - start < 2:  # no sample strictly inside
            return None
        if self.times[end] - self.times[start] > self.max_transition_s:
            return self._check_sub(start, end)
        a, b = self.sigs[start], self.sigs[end]
        if distance(a, b) < self.cut_threshold:
            return None
        residuals = []
        for m in range(start + 1, end):
            alpha, res = blend_residual(a.thumb, self.sigs[m].thumb, b.thumb)
            if not -0.15 <= alpha <= 1.15:
                return None
            residuals.append(res)
        if max(residuals) > self.blend_max_residual:
            return None
        flat = min(float(a.thumb.std()), float(b.thumb.std())) < 6.0
        return Transition(start, end, self.times[start], self.times[end], "fade" if flat else "dissolve")

    def _check_sub(self, start: int, end: int) -> Transition | None:
        """A long run of change (e.g. a pan that ends in a dissolve): try the run's tail and head."""
        span = self.max_transition_s
        for s in range(start, end - 1):
            if self.times[end] - self.times[s] <= span:
                tr = self._check(s, end)
                if tr is not None:
                    return tr
                break
        for e in range(end, start + 1, -1):
            if self.times[e] - self.times[start] <= span:
                return self._check(start, e)
        return None

    # ------------------------------------------------------------------ shots
    def _shots(self, d: np.ndarray, cuts: set[int], transitions: list[Transition]) -> ShotResult:
        n = len(self.sigs)
        inside = np.zeros(n, dtype=bool)
        begins: dict[int, str] = {0: "start"}
        for i in cuts:
            begins[i] = "cut"
        for tr in transitions:
            inside[tr.first + 1 : tr.last] = True
            begins[tr.last] = tr.kind
        shot_of = [-1] * n
        shots: list[Shot] = []
        cur_first = None
        cur_kind = "start"
        for i in range(n):
            if i in begins and cur_first is not None:
                shots.append(self._make(len(shots), cur_first, i - 1, cur_kind))
                cur_first = None
            if i in begins:
                cur_kind = begins[i]
            if inside[i]:
                if cur_first is not None:
                    shots.append(self._make(len(shots), cur_first, i - 1, cur_kind))
                    cur_first = None
                continue
            if cur_first is None:
                cur_first = i
            shot_of[i] = len(shots)
        if cur_first is not None:
            shots.append(self._make(len(shots), cur_first, n - 1, cur_kind))
        cut_times = sorted(self.times[i] for i in cuts)
        return ShotResult(shots, cut_times, transitions, shot_of, [float(x) for x in d])

    def _make(self, index: int, first: int, last: int, kind: str) -> Shot:
        return Shot(index, first, last, self.times[first], self.times[last], kind)
