"""Round "sun" codes (WeChat / Alipay mini-program codes): located, never decoded.

Their encoding is proprietary and no offline decoder exists, so openvod cannot tell what such a code
points to. What it can do is notice a code-*like* pattern: a disc whose annulus is crowded with short
radial dashes around a centre (the logo). A frame with one is reported in the ad scene as
``programCode`` at a **review** score with the reason, never as a pass and never as block.

The test (pure numpy + OpenCV): circle candidates from a Hough transform on a 240 px copy (the
logo, the envelope or neither), then 14 rings (0.3-2.4 x the circle's radius) around each candidate
centre and a few nearby centres: a code ring is two-level (ink on paper), alternates 30-260 times with
dark runs of one width; four such rings in a row (one odd ring bridged) make a candidate, unless the
dashes continue from ring to ring (the spokes of a wheel, a sunburst). Tuned on synthetic renderings
of the published design (bench/audit/media.py ``sun_code``): 60 of 60 found (120-320 px in a 640x360
frame); on the 292 benign frames of bench/audit/nsfw_compare.py 4 false candidates, all on
scikit-image's scanned text page (rows of printed letters); wheels, clock faces and the photographs
are not taken. About 45 ms CPU a frame. Real codes were not available: recall on them is unmeasured.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SUN_CODE_SCORE = 75.0  # ad scene: >= review (60), < block (90)
SUN_CODE_REASON = ("A round mini-program code (WeChat / Alipay sun code) seems to be shown; such codes cannot "
                   "be decoded offline, so where it leads was not checked.")
_ANGLES = 720
_STEPS = 14
_HOUGH_SIDE = 240
_SPOKE_PERSISTENCE = 0.93
_OFFSETS = sorted(((dx, dy) for dx in (-0.16, -0.08, 0, 0.08, 0.16) for dy in (-0.16, -0.08, 0, 0.08, 0.16)
                   if dx or dy), key=lambda d: abs(d[0]) + abs(d[1]))


@dataclass
class CodeCandidate:
    x: int
    y: int
    radius: int
    rings: int  # how many sampled rings looked like code dashes


def _ring(gray: np.ndarray, cx: float, cy: float, r: float) -> np.ndarray | None:
    a = np.linspace(0, 2 * np.pi, _ANGLES, endpoint=False)
    xs, ys = np.round(cx + r * np.cos(a)).astype(int), np.round(cy + r * np.sin(a)).astype(int)
    h, w = gray.shape
    if xs.min() < 0 or ys.min() < 0 or xs.max() >= w or ys.max() >= h:
        return None
    return gray[ys, xs].astype(np.float32)


def _dashes(v: np.ndarray) -> np.ndarray | None:
    """The ring as dark(1)/light(0) when it looks like a ring of code dashes, else None: two clear
    levels (printed ink on paper, not photo shading), a balanced duty, many dark runs of similar
    width (one dash width everywhere on the ring)."""
    lo, hi = float(np.percentile(v, 10)), float(np.percentile(v, 90))
    span = hi - lo
    if span < 60:
        return None
    if float(np.mean((v < lo + 0.25 * span) | (v > hi - 0.25 * span))) < 0.8:
        return None
    b = (v < (lo + hi) / 2).astype(np.int8)
    duty = float(b.mean())
    edges = np.flatnonzero(b != np.roll(b, 1))
    if not (0.08 <= duty <= 0.7 and 30 <= len(edges) <= 260):
        return None
    start = edges[0]
    rolled = np.roll(b, -start)
    bounds = np.flatnonzero(rolled != np.roll(rolled, 1)).tolist() + [len(rolled)]
    runs = np.array([bounds[i + 1] - bounds[i] for i in range(len(bounds) - 1) if rolled[bounds[i]] == 1], float)
    if len(runs) < 15:
        return None
    core = np.sort(runs)[len(runs) // 10: len(runs) - len(runs) // 10]  # eyes and merged dashes aside
    if float(core.std() / core.mean()) > 0.6:
        return None
    return b


def _persistence(a: np.ndarray, b: np.ndarray, k: int = 10) -> float:
    """How much of one ring's ink has ink within ``k`` samples on the other ring (both ways)."""
    def near(x: np.ndarray) -> np.ndarray:
        out = x.copy()
        for s in range(1, k + 1):
            out |= np.roll(x, s) | np.roll(x, -s)
        return out

    return (float(near(b)[a == 1].mean()) + float(near(a)[b == 1].mean())) / 2


def _score_centre(gray: np.ndarray, cx: float, cy: float, r: float) -> tuple[int, int, bool]:
    """The longest run of consecutive code-like rings around (cx, cy), radii 0.3-2.4 r (the Hough
    circle may be the logo, the envelope or neither), 0 when the rings repeat one another; and how
    many rings qualified at all; and whether a long run repeated itself (spokes, seen from the centre)."""
    run: list[np.ndarray] = []
    best = seen = 0
    spokes = False
    gap = False
    for rad in list(r * np.geomspace(0.3, 2.4, _STEPS)) + [0.0, 0.0]:
        v = _ring(gray, cx, cy, rad) if rad > 4 else None
        d = _dashes(v) if v is not None else None
        if d is not None:
            run.append(d)
            seen += 1
            gap = False
            continue
        if run and not gap:  # one ring that does not qualify (an eye, a band edge) is bridged
            gap = True
            continue
        gap = False
        if len(run) >= 3:
            # spokes and tick marks continue from ring to ring; a code's dashes stop at band edges
            p = float(np.mean([_persistence(a, b) for a, b in zip(run, run[1:], strict=False)]))
            if p <= _SPOKE_PERSISTENCE:
                best = max(best, len(run))
            elif len(run) >= 5:
                spokes = True
        run = []
    return best, seen, spokes


# How far the plate a round code is printed on reaches, in radii of the located code: the published
# design has a white square plate around the code's rings (about 1.6 r on the rendered codes).
PLATE_RADII = 2.2


def code_region(c: CodeCandidate, width: int, height: int) -> tuple[int, int, int, int]:
    """The square around a located code that its plate may fill, as x, y, w, h in 1/1000 of the frame
    (what the PIP rule compares inset candidates with: a code's plate is not a picture in a picture)."""
    half = PLATE_RADII * c.radius
    x0, y0 = max(0.0, c.x - half), max(0.0, c.y - half)
    x1, y1 = min(float(width), c.x + half), min(float(height), c.y + half)
    return (int(1000 * x0 / width), int(1000 * y0 / height), int(1000 * (x1 - x0) / width) + 1,
            int(1000 * (y1 - y0) / height) + 1)


def find_sun_code(rgb: np.ndarray) -> CodeCandidate | None:
    """A round code-like pattern in the frame, or None (a few ms on a 640 px frame)."""
    import cv2

    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    side = min(gray.shape)
    scale = 1.0
    if side > 360:
        scale = 360 / side
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        side = min(gray.shape)
    # circle candidates on a smaller copy (the Hough transform is the costly part), rings at 360 px
    k = min(1.0, _HOUGH_SIDE / side)
    small = cv2.resize(gray, None, fx=k, fy=k, interpolation=cv2.INTER_AREA) if k < 1 else gray
    circles = cv2.HoughCircles(cv2.medianBlur(small, 3), cv2.HOUGH_GRADIENT, dp=2, minDist=side * k * 0.15,
                               param1=120, param2=30, minRadius=max(6, int(side * k * 0.04)),
                               maxRadius=int(side * k * 0.48))
    if circles is None:
        return None
    found = np.asarray(circles, np.float32)[0][:6] / k
    best: CodeCandidate | None = None
    for cx, cy, r in found:
        n, seen, spokes = _score_centre(gray, float(cx), float(cy), float(r))
        for dx, dy in _OFFSETS if seen and n < 4 and not spokes else ():  # the Hough centre may be off
            n, _, spokes = _score_centre(gray, float(cx) + dx * r, float(cy) + dy * r, float(r))
            if n >= 4 or spokes:
                break
        if spokes:  # a wheel or a sunburst seen from its centre: straight spokes, not code dashes
            continue
        if n >= 4 and (best is None or n > best.rings):
            best = CodeCandidate(int(cx / scale), int(cy / scale), int(r / scale), n)
    return best
