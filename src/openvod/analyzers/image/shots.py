"""Shot boundaries on the analysis samples: hard cuts and gradual transitions (fades, dissolves).

Each sample gets a signature: an HSV colour histogram and a 32x18 grey thumbnail. The distance of two
samples mixes both (histograms are robust to motion, thumbnails to colour-similar cuts):

    d = 0.5 * (half L1 distance of the histograms) + 0.5 * min(1, 2.5 * mean |thumbnail difference| / 255)

* **Cut** between samples i-1 and i: ``d >= cut_threshold`` and ``d`` well above the local level
  (``cut_ratio`` x the median of the surrounding distances), as PySceneDetect's adaptive detector does,
  so steady fast motion does not read as a cut.
* **Gradual transition** (Zhang et al.'s twin comparison): a run of consecutive moderate distances
  (``>= low``) whose end points differ by ``>= cut_threshold`` overall. It is kept only if the frames
  inside are *linear blends* of the two ends (``m ~ a*A + (1-a)*B``, checked on 16x9 thumbnails),
  which is what fades and dissolves are and what camera pans and zooms are not.
* **Slow dissolve**, whose every step is as small as ordinary motion: sample i is a clean blend of
  the samples k before and k after it, which differ like two shots, for some k up to half of
  ``max_transition_s`` (a sliding version of the same blend test).

Samples inside a gradual transition belong to no shot; everything else is split into shots.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

try:
    import cv2
except ImportError:  # pragma: no cover
    cv2 = None  # type: ignore[assignment]  # optional: the analyzer reports itself unavailable

THUMB = (32, 18)
BLEND_THUMB = (16, 9)


@dataclass(frozen=True)
class Signature:
    """What shot detection and near-duplicate checks compare."""

    hist: np.ndarray  # float32, sums to 1
    thumb: np.ndarray  # float32 (18, 32) grey levels


def signature(small_rgb: np.ndarray) -> Signature:
    """Signature of a small RGB frame."""
    hsv = cv2.cvtColor(small_rgb, cv2.COLOR_RGB2HSV)
    counts = cv2.calcHist([hsv], [0, 1, 2], None, [16, 4, 4], [0, 180, 0, 256, 0, 256]).ravel()
    hist = counts / max(1.0, float(counts.sum()))
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
    blend_max_residual: float = 0.4
    max_transition_s: float = 4.0
    times: list[float] = field(default_factory=list)
    sigs: list[Signature] = field(default_factory=list)
    _coarse: list[np.ndarray] = field(default_factory=list, repr=False)

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
        # Blend tests run on 16x9 thumbnails: coarse enough that the motion going on during a
        # dissolve barely matters, fine enough that a pan (a shift, not a blend) still does.
        self._coarse = [cv2.resize(sg.thumb, BLEND_THUMB, interpolation=cv2.INTER_AREA) for sg in self.sigs]
        cuts = self._cuts(d)
        inside = np.zeros(n, dtype=bool)
        for tr in self._gradual(d, cuts):
            inside[tr.first + 1 : tr.last] = True
        for tr in self._slow_blends(cuts, inside.copy()):
            inside[tr.first + 1 : tr.last] = True
        transitions = self._merge(inside)
        for tr in transitions:
            cuts.difference_update(range(tr.first + 1, tr.last + 1))
        return self._shots(d, cuts, transitions, inside)

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
        """Twin comparison. Runs may contain steps that also passed as cuts (a quick fade changes a
        lot per sample); when the run turns out to be a blend, ``finish`` drops those cuts."""
        n = len(d)
        out: list[Transition] = []
        # Steady motion inside shots moves every step a little: the low threshold sits above it.
        steps = [d[i] for i in range(1, n) if i not in cuts]
        low = max(self.low, 1.5 * float(np.median(steps))) if steps else self.low
        i = 1
        while i < n:
            if d[i] < low:
                i += 1
                continue
            j = i
            while j + 1 < n and d[j + 1] >= low:
                j += 1
            out.extend(self._scan(i - 1, j))  # samples i-1..j: every step between them >= low
            i = j + 1
        return out

    def _slow_blends(self, cuts: set[int], inside: np.ndarray) -> list[Transition]:
        """Dissolves too slow for twin comparison (each step as small as ordinary motion).

        Sample i is inside one when, for some half-width k up to ``max_transition_s / 2``, the samples
        i-k and i+k (or the cuts and known transitions nearer than that) differ like two shots
        (``>= cut_threshold``) and i is a clean blend of the two (``0.15 <= alpha <= 0.85``, residual below ``blend_max_residual``).
        """
        n = len(self.sigs)
        if n < 3:
            return []
        step = float(np.median(np.diff(self.times))) or 0.25
        kmax = max(2, int(self.max_transition_s / 2 / step))
        # The clean stretch around each sample: no cut and no transition found so far inside it.
        first_of = np.zeros(n, dtype=int)
        last_of = np.full(n, n - 1, dtype=int)
        for i in range(1, n):
            first_of[i] = i if (i in cuts or inside[i - 1]) else first_of[i - 1]
        for i in range(n - 2, -1, -1):
            last_of[i] = i if ((i + 1) in cuts or inside[i + 1]) else last_of[i + 1]
        prev_cut, next_cut = first_of, last_of
        out: list[Transition] = []
        for i in range(1, n - 1):
            if inside[i]:
                continue
            for k in range(1, kmax + 1):
                # A dissolve may start right after a cut: then the window leans on the cut.
                lo, hi = max(i - k, int(prev_cut[i])), min(i + k, int(next_cut[i]))
                if lo >= i or hi <= i:
                    break
                a, b = self.sigs[lo], self.sigs[hi]
                if distance(a, b) < self.cut_threshold:
                    continue
                alpha, res = blend_residual(self._coarse[lo], self._coarse[i], self._coarse[hi])
                if 0.15 <= alpha <= 0.85 and res <= self.blend_max_residual:
                    out.append(Transition(i - 1, i + 1, self.times[i - 1], self.times[i + 1], "dissolve"))
                    break
        return out

    def _merge(self, inside: np.ndarray) -> list[Transition]:
        """Runs of samples inside transitions, as transitions between the clean samples around them."""
        n = len(inside)
        out: list[Transition] = []
        i = 0
        while i < n:
            if not inside[i]:
                i += 1
                continue
            j = i
            while j + 1 < n and inside[j + 1]:
                j += 1
            first, last = max(0, i - 1), min(n - 1, j + 1)
            a, b = self.sigs[first].thumb, self.sigs[last].thumb
            flat = min(float(a.std()), float(b.std())) < 6.0
            out.append(Transition(first, last, self.times[first], self.times[last], "fade" if flat else "dissolve"))
            i = j + 1
        return out

    def _scan(self, start: int, end: int) -> list[Transition]:
        """Blends inside a run of change, left to right, each as long as it stays a clean blend.

        A run may hold more than a transition: the motion before and after it, or a cut into a
        dissolve (whose first frame is then already a partial blend), so every window is tried.
        """
        out: list[Transition] = []
        s = start
        while s < end - 1:
            found = None
            for e in range(s + 2, end + 1):
                if self.times[e] - self.times[s] > self.max_transition_s:
                    break
                tr = self._check_window(s, e)
                if tr is not None:
                    found = tr
            if found is None:
                s += 1
            else:
                out.append(found)
                s = found.last
        return out

    def _check_window(self, start: int, end: int) -> Transition | None:
        if end - start < 2:  # no sample strictly inside
            return None
        a, b = self.sigs[start], self.sigs[end]
        if distance(a, b) < self.cut_threshold:
            return None
        residuals = []
        for m in range(start + 1, end):
            alpha, res = blend_residual(self._coarse[start], self._coarse[m], self._coarse[end])
            # Strictly in between: a frame equal to one end (a cut next to motion) is no blend.
            if not 0.08 <= alpha <= 0.92:
                return None
            residuals.append(res)
        if max(residuals) > self.blend_max_residual:
            return None
        flat = min(float(a.thumb.std()), float(b.thumb.std())) < 6.0
        return Transition(start, end, self.times[start], self.times[end], "fade" if flat else "dissolve")

    # ------------------------------------------------------------------ shots
    def _shots(self, d: np.ndarray, cuts: set[int], transitions: list[Transition], inside: np.ndarray) -> ShotResult:
        n = len(self.sigs)
        begins: dict[int, str] = {0: "start"}
        for i in cuts:
            begins[i] = "cut"
        for tr in transitions:
            if not inside[tr.last]:
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
