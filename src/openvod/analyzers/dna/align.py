"""Pairwise verification: the geometric relation between two videos, then every copied segment.

A pair arrives with code hits (a window of the query that looks like a window of the library video).
Each hit implies a geometric transform ``q = s * r + t`` (per axis, in active-box units, after an
optional horizontal flip of the query) because code windows scale and move with the content. The
best-supported transforms are refined on the thumbnails, then every sample of both videos is
described *on the overlapping region only* (so a crop, a letterbox or a picture-in-picture frame
compares like for like), giving a frame-similarity matrix. Copied segments are straight lines in
that matrix (slope = speed ratio): they are found by Hough voting over (slope, offset), followed
along the line with gap tolerance, bounded, scored, and removed before the next is looked for, so
one pair can yield several segments in any order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from openvod.analyzers.dna import features as ft
from openvod.analyzers.dna.fingerprint import Fingerprint

DESC_SIZE = 24


@dataclass(frozen=True)
class AlignParams:
    """Thresholds of pairwise verification (all documented in docs/dna.md)."""

    hit_similarity: float = 0.55  # frame pairs at least this similar vote for a line
    walk_similarity: float = 0.45  # along a line, a frame this similar counts as copied
    best_match_margin: float = 0.1  # ... if no other moment of the reference matches it better by more than this
    segment_similarity: float = 0.6  # a segment's mean frame similarity must reach this
    min_segment_s: float = 2.5
    max_gap_s: float = 2.0
    min_slope: float = 0.45
    max_slope: float = 2.2
    max_segments: int = 32
    min_query_area: float = 0.2  # the shared region covers at least this share of the query picture (PiP at 25 %)
    min_reference_area: float = 0.5  # ... and of the library picture
    min_scale: float = 0.45  # picture-in-picture down to 0.5 of the frame (25 % of its area), with margin
    max_scale: float = 1.45  # crops down to ~0.8 of the frame, with margin
    max_transforms: int = 3
    pip_search_below: float = 0.75  # a coarse geometry score below this also tries a grid of picture-in-picture boxes
    refine_floor: float = 0.5  # hypotheses whose best coarse similarity is below this are dropped unrefined
    flat_std: float = 4.0  # a shared region with less luma variation is uninformative (bridged, never matched)


@dataclass
class Transform:
    """``q = s * r + t`` per axis, in active-box units; ``flip``: the query is mirrored first."""

    flip: bool = False
    sx: float = 1.0
    sy: float = 1.0
    tx: float = 0.0
    ty: float = 0.0
    support: float = 0.0
    score: float = 0.0

    def overlap(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The shared region as boxes (x, y, w, h) in query and in reference units, or None."""
        qx0, qy0 = max(0.0, self.tx), max(0.0, self.ty)
        qx1, qy1 = min(1.0, self.tx + self.sx), min(1.0, self.ty + self.sy)
        if qx1 - qx0 <= 0.02 or qy1 - qy0 <= 0.02:
            return None
        q = np.array([qx0, qy0, qx1 - qx0, qy1 - qy0])
        r = np.array([(qx0 - self.tx) / self.sx, (qy0 - self.ty) / self.sy, q[2] / self.sx, q[3] / self.sy])
        return q, r


@dataclass
class Segment:
    """One copied segment: query [q0, q1) matches reference [r0, r1)."""

    q0: float
    q1: float
    r0: float
    r1: float
    similarity: float
    slope: float
    evidence: list[tuple[float, float, float]] = field(default_factory=list)  # (q time, r time, similarity)
    transform: Transform | None = None
    reversed: bool = False  # the query plays the reference backwards: q0 shows r1, q1 shows r0
    motion: float = -1.0  # evidence measures (search.segment_evidence); -1: not measured
    correlation: float = -1.0

    @property
    def speed(self) -> float:
        """Reference seconds per query second; negative for reversed playback."""
        return -self.slope if self.reversed else self.slope

    @property
    def duration(self) -> float:
        return self.q1 - self.q0


# ----------------------------------------------------------------------------- geometry
def hit_transforms(
    q: Fingerprint, r: Fingerprint, hits: np.ndarray, p: AlignParams | None = None
) -> list[tuple[Transform, np.ndarray]]:
    """Transform hypotheses from code hits ``[h, 3]`` (query code, flipped 0/1, reference code).

    Returns (transform, indices of the supporting hits), best supported first. Hits implying a
    zoom outside [min_scale, max_scale] are ignored: such copies are out of scope, and allowing
    them lets a tiny, smooth corner of one picture "match" any smooth picture.
    """
    p = p or AlignParams()
    if hits.shape[0] == 0:
        return []
    qi, fl, ri = hits[:, 0], hits[:, 1].astype(bool), hits[:, 2]
    qg, rg = q.code_geom[qi].astype(np.float64), r.code_geom[ri].astype(np.float64)
    qx = np.where(fl, 1.0 - qg[:, 0], qg[:, 0])
    s = qg[:, 2] / np.maximum(rg[:, 2], 1e-6)
    tx = qx - s * rg[:, 0]
    ty = qg[:, 1] - s * rg[:, 1]
    ls = np.log(s)
    qf = q.code_frame[qi]
    out: list[tuple[Transform, np.ndarray]] = []
    alive = (s >= p.min_scale * 0.95) & (s <= p.max_scale * 1.05)
    for _ in range(3):
        idx = np.nonzero(alive)[0]
        if idx.size == 0:
            break
        same = (
            (fl[idx][:, None] == fl[idx][None, :])
            & (np.abs(ls[idx][:, None] - ls[idx][None, :]) < 0.15)
            & (np.abs(tx[idx][:, None] - tx[idx][None, :]) < 0.1)
            & (np.abs(ty[idx][:, None] - ty[idx][None, :]) < 0.1)
        )
        # Support = distinct query samples agreeing (many codes of one frame count once).
        _, fcol = np.unique(qf[idx], return_inverse=True)
        onehot = np.zeros((idx.size, int(fcol.max()) + 1), np.float32)
        onehot[np.arange(idx.size), fcol] = 1.0
        support = ((same.astype(np.float32) @ onehot) > 0).sum(axis=1)
        best = int(np.argmax(support))
        members = idx[same[best]]
        members = members[_on_a_line(q.times[qf[members]], r.times[r.code_frame[ri[members]]], qf[members], p)]
        if members.size == 0:
            alive[idx[same[best]]] = False
            continue
        t = Transform(
            flip=bool(fl[idx[best]]),
            sx=float(np.exp(np.median(ls[members]))),
            tx=float(np.median(tx[members])),
            ty=float(np.median(ty[members])),
            support=float(np.unique(qf[members]).size),
        )
        t.sy = t.sx
        out.append((t, members))
        alive[idx[same[best]]] = False
    out.sort(key=lambda x: -x[0].support)
    return out


def _on_a_line(tq: np.ndarray, tr: np.ndarray, qframe: np.ndarray, p: AlignParams) -> np.ndarray:
    """Hits that lie on the best-supported line ``tr = a tq + b`` (a in the speed range, 1.5 s bins)."""
    if tq.size <= 1:
        return np.ones(tq.size, bool)
    best, keep = -1, np.ones(tq.size, bool)
    _, fidx = np.unique(qframe, return_inverse=True)
    slopes = np.exp(np.linspace(math.log(p.min_slope), math.log(p.max_slope), 25))
    for a in np.concatenate([slopes, -slopes]):  # negative: reversed playback
        off = tr - a * tq
        for shift in (0.0, 0.75):
            bins = np.floor((off + shift) / 1.5).astype(np.int64)
            bins -= bins.min()
            pairs = np.unique(bins * (fidx.max() + 1) + fidx)  # distinct (bin, query sample)
            counts = np.bincount(pairs // (fidx.max() + 1))
            k = int(np.argmax(counts))
            if counts[k] > best:
                best, keep = int(counts[k]), bins == k
    return keep


def _region_desc(fp: Fingerprint, box: np.ndarray, flip: bool, flat_std: float) -> tuple[np.ndarray, np.ndarray]:
    """Descriptors of one region of every sample, and which samples have structure there."""
    pix = ft.sample_boxes(fp.smooth_thumbs, box[None, :], DESC_SIZE, flip=flip)
    valid = pix.reshape(pix.shape[0], -1).std(axis=1) >= flat_std
    return ft.frame_descriptors(pix), valid


def _admissible(t: Transform, p: AlignParams) -> tuple[np.ndarray, np.ndarray] | None:
    """The transform's shared region, if the transform is within the supported range."""
    if not (p.min_scale <= t.sx <= p.max_scale and p.min_scale <= t.sy <= p.max_scale):
        return None
    if not (0.8 <= t.sx / t.sy <= 1.25):  # aspect changes beyond this are not copies we look for
        return None
    ov = t.overlap()
    if ov is None:
        return None
    qb, rb = ov
    if qb[2] * qb[3] < p.min_query_area or rb[2] * rb[3] < p.min_reference_area:
        return None
    return ov


COARSE = (12, 6, 0.5)  # region samples, DCT size, weight power: a forgiving similarity for the first search
FINE = (DESC_SIZE, ft.DESC_K, ft.DESC_POW)


def _scores(q: Fingerprint, r: Fingerprint, cands: list[Transform], qf: np.ndarray, rf: np.ndarray, p: AlignParams,
            level: tuple[int, int, float] = FINE) -> np.ndarray:
    """Mean region similarity of the frame pairs (qf, rf) under each candidate transform (one batch)."""
    scores = np.full(len(cands), -1.0)
    qboxes, rboxes, owners = [], [], []
    for k, t in enumerate(cands):
        ov = _admissible(t, p)
        if ov is None:
            continue
        qb, rb = ov
        qboxes.append(qb)
        rboxes.append(rb)
        owners.append(k)
    if not owners:
        return scores
    m = qf.size
    qb = np.repeat(np.array(qboxes), m, axis=0)
    rb = np.repeat(np.array(rboxes), m, axis=0)
    flip = cands[owners[0]].flip  # one refinement never changes the flip
    size, k, power = level
    dq = ft.frame_descriptors(ft.sample_boxes(q.smooth_thumbs, qb, size, flip=flip, rows=np.tile(qf, len(owners))), k, power)
    dr = ft.frame_descriptors(ft.sample_boxes(r.smooth_thumbs, rb, size, rows=np.tile(rf, len(owners))), k, power)
    per = np.sum(dq * dr, axis=1).reshape(len(owners), m)
    scores[owners] = per.mean(axis=1)
    return scores


def _neighbours(t: Transform, step: float) -> list[Transform]:
    out = []
    for name in ("tx", "ty", "sx", "sy", "s"):
        for sign in (-1.0, 1.0):
            c = Transform(t.flip, t.sx, t.sy, t.tx, t.ty, t.support)
            if name == "s":  # uniform zoom about the overlap centre
                f = 1.0 + sign * step
                cx, cy = c.tx + c.sx / 2, c.ty + c.sy / 2
                c.sx, c.sy = c.sx * f, c.sy * f
                c.tx, c.ty = cx - c.sx / 2, cy - c.sy / 2
            elif name in ("sx", "sy"):
                setattr(c, name, getattr(c, name) * (1.0 + sign * step))
            else:
                setattr(c, name, getattr(c, name) + sign * step * (c.sx if name == "tx" else c.sy))
            out.append(c)
    return out


def _zoomed(t: Transform, f: float) -> Transform:
    cx, cy = t.tx + t.sx / 2, t.ty + t.sy / 2
    return Transform(t.flip, t.sx * f, t.sy * f, cx - t.sx * f / 2, cy - t.sy * f / 2, t.support)


def _descend(q: Fingerprint, r: Fingerprint, best: Transform, qf: np.ndarray, rf: np.ndarray, p: AlignParams,
             steps: tuple[float, ...], level: tuple[int, int, float]) -> Transform:
    for step in steps:
        for _ in range(6):
            cands = _neighbours(best, step)
            sc = _scores(q, r, cands, qf, rf, p, level)
            k = int(np.argmax(sc))
            if sc[k] <= best.score + 1e-4:
                break
            best = cands[k]
            best.score = float(sc[k])
    return best


def refine(q: Fingerprint, r: Fingerprint, t: Transform, pairs: np.ndarray, p: AlignParams) -> Transform:
    """Geometry that maximises the mean similarity of matched frame pairs: coarse to fine.

    A hypothesis close to the identity is tried as the identity first (most copies keep the
    geometry). Otherwise a few zooms of the hypothesis are tried with a forgiving, low-frequency
    similarity, the best is descended on, and the result is polished with the sharp similarity.
    """
    qf, rf = pairs[:, 0], pairs[:, 1]
    start = Transform(t.flip, t.sx, t.sy, t.tx, t.ty, t.support)
    if abs(math.log(t.sx)) < 0.08 and abs(t.tx) < 0.06 and abs(t.ty) < 0.06:
        ident = Transform(t.flip, 1.0, 1.0, 0.0, 0.0, t.support)
        ident.score = float(_scores(q, r, [ident], qf, rf, p)[0])
        if ident.score >= 0.85:
            return ident
    cands = [start] + [_zoomed(start, f) for f in (0.82, 0.9, 1.1, 1.22)]
    if abs(math.log(t.sx)) < 0.15:
        cands.append(Transform(t.flip, 1.0, 1.0, 0.0, 0.0, t.support))
    sc = _scores(q, r, cands, qf, rf, p, COARSE)
    k = int(np.argmax(sc))
    best = cands[k]
    best.score = float(sc[k])
    if best.score < p.pip_search_below:
        # Few, scattered code hits (a small picture-in-picture over busy footage) give a poor
        # geometry but still the right moments: look for the picture on a grid of places and sizes.
        grid = [Transform(t.flip, sz, sz, float(x), float(y), t.support)
                for sz in (0.5, 0.58, 0.67, 0.77, 0.88)
                for y in np.linspace(0.0, 1.0 - sz, 5) for x in np.linspace(0.0, 1.0 - sz, 5)]
        gs = _scores(q, r, grid, qf, rf, p, COARSE)
        g = int(np.argmax(gs))
        if gs[g] > best.score:
            best = grid[g]
            best.score = float(gs[g])
    if best.score < p.refine_floor:
        return best  # nothing like a copy here: do not spend a search on it
    best = _descend(q, r, best, qf, rf, p, (0.06, 0.03), COARSE)
    best.score = float(_scores(q, r, [best], qf, rf, p)[0])
    return _descend(q, r, best, qf, rf, p, (0.02, 0.007), FINE)


@dataclass
class RegionDescriptors:
    """Per-sample descriptors of the shared region of both videos; ``*_valid``: the region has structure."""

    q: np.ndarray
    r: np.ndarray
    q_valid: np.ndarray
    r_valid: np.ndarray

    def similarity(self) -> np.ndarray:
        sim = self.q @ self.r.T
        sim[~self.q_valid, :] = 0.0
        sim[:, ~self.r_valid] = 0.0
        return sim


def region_descriptors(q: Fingerprint, r: Fingerprint, t: Transform, p: AlignParams) -> RegionDescriptors | None:
    """Descriptors of every sample of both videos over the transform's shared region."""
    ov = _admissible(t, p)
    if ov is None:
        return None
    qb, rb = ov
    dq, vq = _region_desc(q, qb, t.flip, p.flat_std)
    dr, vr = _region_desc(r, rb, False, p.flat_std)
    return RegionDescriptors(dq, dr, vq & ~q.flat, vr & ~r.flat)


# ----------------------------------------------------------------------------- temporal alignment
def _hits(sim: np.ndarray, threshold: float, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """(i, j, similarity) of entries above threshold that are top-k in their row or column."""
    nq, nr = sim.shape
    kk = min(k, nr)
    top_r = np.argpartition(-sim, kk - 1, axis=1)[:, :kk]
    mask = np.zeros(sim.shape, bool)
    mask[np.arange(nq)[:, None], top_r] = True
    kc = min(k, nq)
    top_c = np.argpartition(-sim, kc - 1, axis=0)[:kc, :]
    mask[top_c, np.arange(nr)[None, :]] = True
    mask &= sim >= threshold
    i, j = np.nonzero(mask)
    return np.stack([i, j], axis=1), sim[i, j]


def find_segments(
    sim: np.ndarray, tq: np.ndarray, tr: np.ndarray, q_dur: float, r_dur: float, p: AlignParams,
    q_valid: np.ndarray | None = None, r_valid: np.ndarray | None = None,
) -> list[Segment]:
    """Every copied segment in a frame-similarity matrix ``sim[nq, nr]``.

    Invalid (flat) samples are neutral: they neither match nor break a segment, so a fade to black
    inside a copy does not split it.
    """
    nq, nr = sim.shape
    if nq == 0 or nr == 0 or tq.shape[0] != nq or tr.shape[0] != nr:
        return []
    q_valid = np.ones(nq, bool) if q_valid is None else np.asarray(q_valid, bool)
    r_valid = np.ones(nr, bool) if r_valid is None else np.asarray(r_valid, bool)
    # Total on any input: non-finite similarities count as "no match", times as float64.
    sim = np.nan_to_num(np.asarray(sim, np.float32), nan=0.0, posinf=1.0, neginf=-1.0)
    tq, tr = np.asarray(tq, np.float64), np.asarray(tr, np.float64)
    step_q = _step(tq)
    step_r = _step(tr)
    ij, w = _hits(sim, p.hit_similarity)
    if ij.shape[0] == 0:
        return []
    hq, hr = tq[ij[:, 0]].astype(np.float64), tr[ij[:, 1]].astype(np.float64)
    hw = (w - p.hit_similarity + 0.05).astype(np.float64)
    alive = np.ones(ij.shape[0], bool)
    n_slopes = int(math.ceil(math.log(p.max_slope / p.min_slope) / 0.018)) + 1  # ~1.8 % apart
    slopes = np.exp(np.linspace(math.log(p.min_slope), math.log(p.max_slope), max(2, n_slopes)))
    bin_s = max(0.25, step_r)  # narrow: two pieces with a small jump must not share a line
    tol = max(0.45, 1.5 * step_r)
    min_frames = max(3, int(p.min_segment_s / step_q * 0.5))
    segments: list[Segment] = []
    for _ in range(p.max_segments * 3):
        if len(segments) >= p.max_segments or alive.sum() < min_frames:
            break
        ia = np.nonzero(alive)[0]
        best = (0.0, 1.0, 0.0)
        for a in slopes:
            b = hr[ia] - a * hq[ia]
            bins = np.floor(b / bin_s).astype(np.int64)
            lo = bins.min()
            acc: np.ndarray = np.bincount(bins - lo, weights=hw[ia]).astype(np.float64)
            if acc.size > 1:  # soft binning: a line on a bin edge is not split
                acc = acc + np.concatenate([acc[1:], [0.0]]) * 0.3 + np.concatenate([[0.0], acc[:-1]]) * 0.3
            k = int(np.argmax(acc))
            v = float(acc[k]) * (1.0 + 0.05 * math.exp(-abs(math.log(a)) * 40))  # ties prefer speed 1
            if v > best[0]:
                best = (v, float(a), (k + lo + 0.5) * bin_s)
        votes, a, b = best
        if votes < 0.15 * min_frames:
            break
        d = np.abs(hr[ia] - (a * hq[ia] + b))
        inl = ia[d <= tol]
        if inl.size < 2:
            alive[ia[np.argmin(d)]] = False
            continue
        a, b = _fit_line(hq[inl], hr[inl], hw[inl], a, b, p)
        a, b = _refine_line(sim, tq, tr, a, b, float(hq[inl].min()), float(hq[inl].max()), p)
        segs = _walk(sim, tq, tr, a, b, hq[inl], p, step_q, step_r, q_dur, r_dur, q_valid, r_valid)
        if not segs:
            alive[inl] = False
            continue
        for s in segs:
            segments.append(s)
            kill = (hq >= s.q0 - tol) & (hq <= s.q1 + tol) & (np.abs(hr - (s.slope * hq + (s.r0 - s.slope * s.q0))) <= 3 * tol)
            alive &= ~kill
        alive[inl] = False
    return suppress_duplicates(segments, p.min_segment_s)


def _step(t: np.ndarray) -> float:
    """Typical time between samples (never zero: duplicate timestamps of a VFR file must not divide by 0)."""
    if t.size < 2:
        return 0.25
    return max(float(np.median(np.diff(t))), 1e-2)


def _fit_line(x: np.ndarray, y: np.ndarray, w: np.ndarray, a0: float, b0: float, p: AlignParams) -> tuple[float, float]:
    if x.size < 4 or np.ptp(x) < 1.0:
        return a0, float(np.average(y - a0 * x, weights=w))
    try:
        a, b = np.polyfit(x, y, 1, w=np.sqrt(w))
    except (np.linalg.LinAlgError, ValueError):
        a, b = a0, b0
    # The vote already knows the slope to ~2 %: a fit far from it is two pieces pulled together
    # (a cut-and-reorder edit with a small jump), not a different speed.
    if not (p.min_slope <= a <= p.max_slope) or abs(a / a0 - 1.0) > 0.04:
        return a0, float(np.average(y - a0 * x, weights=w))
    return float(a), float(b)


def _line_scores(sim: np.ndarray, tq: np.ndarray, tr: np.ndarray, a: np.ndarray, b: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Sum over ``rows`` of the similarity at the reference sample nearest to each line ``r = a q + b``."""
    nr = tr.size
    expect = a[:, None] * tq[rows][None, :] + b[:, None]
    j = np.clip(np.searchsorted(tr, expect), 1, nr - 1)
    j = np.where(np.abs(tr[j - 1] - expect) < np.abs(tr[j] - expect), j - 1, j)
    inside = (expect >= tr[0] - 0.5) & (expect <= tr[-1] + 0.5)
    vals = np.where(inside, sim[rows[None, :], j], 0.0)
    return np.asarray(np.maximum(vals, 0.0).sum(axis=1))


def _refine_line(
    sim: np.ndarray, tq: np.ndarray, tr: np.ndarray, a: float, b: float, q0: float, q1: float, p: AlignParams
) -> tuple[float, float]:
    """Slope and offset that best follow the copied frames between query times q0 and q1."""
    rows = np.nonzero((tq >= q0 - 1.0) & (tq <= q1 + 1.0))[0]
    if rows.size < 3 or tr.size < 2:
        return a, b
    qc = float(tq[rows].mean())  # pivot at the span centre so slope and offset decouple
    c = a * qc + b
    for da, dc in ((0.01, 0.4), (0.0025, 0.1)):
        ka = np.arange(-4, 5) * da
        kc = np.arange(-4, 5) * dc
        aa = np.clip(a * (1 + np.repeat(ka, kc.size)), p.min_slope, p.max_slope)
        cc = c + np.tile(kc, ka.size)
        sc = _line_scores(sim, tq, tr, aa, cc - aa * qc, rows)
        k = int(np.argmax(sc + 1e-6 * (np.abs(aa - 1.0) < 1e-9)))
        a, c = float(aa[k]), float(cc[k])
    # Unchanged speed is by far the most common: take it when it explains the copy as well (sampling
    # instants of two videos never coincide, so a slightly wrong slope can score a hair higher).
    if abs(a - 1.0) < 0.04 and p.min_slope <= 1.0 <= p.max_slope:
        best = float(_line_scores(sim, tq, tr, np.array([a]), np.array([c - a * qc]), rows)[0])
        kc = c + np.arange(-8, 9) * 0.05
        one = _line_scores(sim, tq, tr, np.ones(kc.size), kc - qc, rows)
        k = int(np.argmax(one))
        if one[k] >= 0.995 * best:
            a, c = 1.0, float(kc[k])
    return a, c - a * qc


def _follow(sim: np.ndarray, tq: np.ndarray, tr: np.ndarray, a: float, b: float, win: float, r_dur: float,
            q_valid: np.ndarray, r_valid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Along r = a q + b: best similarity near the line per query sample, its reference sample, and
    whether the sample is neutral (no structure on either side)."""
    nq, nr = sim.shape
    expect = a * tq + b
    lo = np.searchsorted(tr, expect - win, side="left")
    hi = np.searchsorted(tr, expect + win, side="right")
    ok = (hi > lo) & (expect >= -win) & (expect <= r_dur + win)
    width = int(max(1, (hi - lo).max(initial=1)))
    cols = lo[:, None] + np.arange(width)[None, :]
    inside = ok[:, None] & (cols < hi[:, None])
    cols = np.minimum(cols, nr - 1)
    vals = np.where(inside, sim[np.arange(nq)[:, None], cols], -np.inf)
    k = np.argmax(vals, axis=1)
    s = np.where(ok, vals[np.arange(nq), k], 0.0).astype(np.float32)
    arg = np.where(ok, cols[np.arange(nq), k], -1)
    r_any = (r_valid[cols] & inside).any(axis=1)
    neutral = ~q_valid | (ok & ~r_any)
    return s, arg, neutral


def _pieces(sim: np.ndarray, tq: np.ndarray, tr: np.ndarray, idx: np.ndarray, a: float, b: float,
            p: AlignParams, depth: int = 2) -> list[tuple[np.ndarray, float, float]]:
    """Split a run of matched samples where the copy jumps in the reference (cut and reordered edits
    with a small jump look like one line of a wrong slope). Returns (samples, slope, offset) pieces."""
    if depth == 0 or idx.size < 12 or float(tq[idx[-1]] - tq[idx[0]]) < 2 * p.min_segment_s:
        return [(idx, a, b)]
    # Where each sample really matches, looking well beyond the line.
    expect = a * tq[idx] + b
    lo = np.searchsorted(tr, expect - 1.5, side="left")
    hi = np.searchsorted(tr, expect + 1.5, side="right")
    x, y, w = [], [], []
    for i, lo_i, hi_i in zip(idx, lo, hi, strict=True):
        if hi_i <= lo_i:
            continue
        row = sim[i, lo_i:hi_i]
        j = int(np.argmax(row))
        # A sample whose match is not distinctive (a still shot matches all of itself) cannot tell
        # where the copy is: leave it out of the fit.
        far = np.abs(tr[lo_i:hi_i] - tr[lo_i + j]) > 0.4
        if far.any() and row[j] - row[far].max() < 0.03:
            continue
        x.append(float(tq[i]))
        y.append(float(tr[lo_i + j]))
        w.append(max(float(row[j]), 0.0) + 1e-3)
    xa, ya, wa = np.array(x, np.float64), np.array(y, np.float64), np.array(w, np.float64)
    if xa.size < 12:  # too few distinctive samples to tell where a jump would be (a still shot): keep the run
        return [(idx, a, b)]
    # Weighted least squares of every prefix and suffix at once (running sums).
    cw, cx, cy = np.cumsum(wa), np.cumsum(wa * xa), np.cumsum(wa * ya)
    cxx, cxy, cyy = np.cumsum(wa * xa * xa), np.cumsum(wa * xa * ya), np.cumsum(wa * ya * ya)

    def fit(sw: np.ndarray, sx: np.ndarray, sy: np.ndarray, sxx: np.ndarray, sxy: np.ndarray, syy: np.ndarray):  # type: ignore[no-untyped-def]
        den = np.maximum(sw * sxx - sx * sx, 1e-9)
        # An edit cuts and reorders; it does not change the speed: pieces keep the run's slope (within 5 %).
        aa = np.clip((sw * sxy - sx * sy) / den, max(p.min_slope, a * 0.95), min(p.max_slope, a * 1.05))
        bb = (sy - aa * sx) / np.maximum(sw, 1e-9)
        sse = syy - 2 * aa * sxy - 2 * bb * sy + aa * aa * sxx + 2 * aa * bb * sx + bb * bb * sw
        return aa, bb, np.maximum(sse, 0.0)

    tot = (cw[-1], cx[-1], cy[-1], cxx[-1], cxy[-1], cyy[-1])
    _, _, single = fit(*(np.array([v]) for v in tot))
    ks = np.arange(6, len(xa) - 5)
    ks = ks[(xa[ks - 1] - xa[0] >= p.min_segment_s * 0.5) & (xa[-1] - xa[ks] >= p.min_segment_s * 0.5)]
    if ks.size == 0:
        return [(idx, a, b)]
    left = fit(cw[ks - 1], cx[ks - 1], cy[ks - 1], cxx[ks - 1], cxy[ks - 1], cyy[ks - 1])
    right = fit(*(t - c[ks - 1] for t, c in zip(tot, (cw, cx, cy, cxx, cxy, cyy), strict=True)))
    cost = left[2] + right[2]
    best = int(np.argmin(cost))
    if cost[best] > 0.4 * float(single[0]):
        return [(idx, a, b)]
    k = int(ks[best])
    a1, b1, a2, b2 = float(left[0][best]), float(left[1][best]), float(right[0][best]), float(right[1][best])
    xs = 0.5 * (xa[k - 1] + xa[k])
    if abs((a1 * xs + b1) - (a2 * xs + b2)) < 0.35:  # no jump: one copy after all
        return [(idx, a, b)]
    cut = int(np.searchsorted(tq[idx], xs))
    return _pieces(sim, tq, tr, idx[:cut], a1, b1, p, depth - 1) + _pieces(sim, tq, tr, idx[cut:], a2, b2, p, depth - 1)


def _walk(
    sim: np.ndarray, tq: np.ndarray, tr: np.ndarray, a: float, b: float, inlier_q: np.ndarray,
    p: AlignParams, step_q: float, step_r: float, q_dur: float, r_dur: float,
    q_valid: np.ndarray, r_valid: np.ndarray,
) -> list[Segment]:
    """Follow the line r = a*q + b, keep runs of copied frames that contain inliers."""
    nq = sim.shape[0]
    win = max(0.3, 0.75 * step_r)
    s, arg, neutral = _follow(sim, tq, tr, a, b, win, r_dur, q_valid, r_valid)
    # A sample counts as copied here only if this is (about) its best match in the whole reference:
    # the neighbouring piece of a cut-and-reordered copy must not be claimed by this line too.
    good = (s >= p.walk_similarity) & (s >= sim.max(axis=1) - p.best_match_margin) & ~neutral
    out: list[Segment] = []
    i = 0
    gap_frames = max(1, int(round(p.max_gap_s / step_q)))
    while i < nq:
        if not good[i]:
            i += 1
            continue
        start = end = i
        k = i + 1
        bad = 0  # informative, non-matching samples since the last good one
        while k < nq and bad <= gap_frames:
            if good[k]:
                end = k
                bad = 0
            elif not neutral[k]:
                bad += 1
            k += 1
        i = end + 1
        q0, q1 = float(tq[start]) - 0.5 * step_q, float(tq[end]) + 0.5 * step_q
        if not np.any((inlier_q >= q0 - step_q) & (inlier_q <= q1 + step_q)):
            continue
        span = np.arange(start, end + 1)
        for piece, pa, pb in _pieces(sim, tq, tr, span[good[span]], a, b, p):
            if piece.size == 0:
                continue
            seg = _segment(sim, tq, tr, piece[0], piece[-1], pa, pb, p, step_q, win, q_dur, r_dur, q_valid, r_valid)
            if seg is not None:
                out.append(seg)
    return out


def _segment(
    sim: np.ndarray, tq: np.ndarray, tr: np.ndarray, start: int, end: int, a: float, b: float, p: AlignParams,
    step_q: float, win: float, q_dur: float, r_dur: float, q_valid: np.ndarray, r_valid: np.ndarray,
) -> Segment | None:
    """The segment of query samples start..end on the line r = a q + b, if it passes the thresholds."""
    s, arg, neutral = _follow(sim, tq, tr, a, b, win, r_dur, q_valid, r_valid)
    span = np.arange(start, end + 1)
    ok = (s[span] >= p.walk_similarity) & (s[span] >= sim[span].max(axis=1) - p.best_match_margin) & ~neutral[span]
    good_span = span[ok]
    if good_span.size == 0:
        return None
    start, end = int(good_span[0]), int(good_span[-1])
    span = np.arange(start, end + 1)
    informative = int((~neutral[span]).sum())
    mean = float(np.mean(s[good_span]))
    q0, q1 = float(tq[start]) - 0.5 * step_q, float(tq[end]) + 0.5 * step_q
    if q1 - q0 < p.min_segment_s or mean < p.segment_similarity or good_span.size < 0.5 * informative:
        return None
    q0, q1 = max(0.0, q0), min(q_dur, q1)
    r0, r1 = a * q0 + b, a * q1 + b
    if r0 < 0:  # the line leaves the reference: clip both axes together
        q0, r0 = q0 - r0 / a, 0.0
    if r1 > r_dur:
        q1, r1 = q1 - (r1 - r_dur) / a, r_dur
    if q1 - q0 < p.min_segment_s:
        return None
    ev_idx = good_span[np.argsort(-s[good_span], kind="stable")[:3]]
    evidence = [(float(tq[e]), float(tr[arg[e]]), float(s[e])) for e in sorted(ev_idx)]
    return Segment(q0, q1, float(r0), float(r1), mean, a, evidence)


def suppress_duplicates(segments: list[Segment], min_segment_s: float = 0.0) -> list[Segment]:
    """One library moment per query moment: better segments (similarity x duration) keep their
    query span; a weaker one loses the part already claimed (keeping its longest remaining piece,
    if still long enough). A copy found twice, or a line that ran into its neighbour, ends here."""
    keep: list[Segment] = []
    for s in sorted(segments, key=lambda s: (-(s.similarity * s.duration), s.q0, s.r0)):
        pieces = [(s.q0, s.q1)]
        for k in keep:
            nxt = []
            for a, b in pieces:
                if k.q1 <= a or k.q0 >= b:
                    nxt.append((a, b))
                    continue
                if k.q0 > a:
                    nxt.append((a, k.q0))
                if k.q1 < b:
                    nxt.append((k.q1, b))
            pieces = nxt
        if not pieces:
            continue
        a, b = max(pieces, key=lambda x: x[1] - x[0])
        if b - a < max(min_segment_s, 1e-6):
            continue
        if (a, b) != (s.q0, s.q1):
            if s.reversed:  # r runs down as q runs up
                r0, r1 = s.r1 - (b - s.q0) * s.slope, s.r1 - (a - s.q0) * s.slope
            else:
                r0, r1 = s.r0 + (a - s.q0) * s.slope, s.r0 + (b - s.q0) * s.slope
            s = Segment(a, b, r0, r1, s.similarity, s.slope, [e for e in s.evidence if a <= e[0] <= b], s.transform,
                        s.reversed, s.motion, s.correlation)
        keep.append(s)
    return sorted(keep, key=lambda s: (s.q0, s.r0))


def find_all_segments(
    sim: np.ndarray, tq: np.ndarray, tr: np.ndarray, q_dur: float, r_dur: float, p: AlignParams,
    q_valid: np.ndarray | None = None, r_valid: np.ndarray | None = None, reverse: bool = True,
) -> list[Segment]:
    """Copied segments played forwards and, on the query moments left over, backwards.

    Reversed playback is a line of negative slope: the matrix is read with the query's time axis
    mirrored (t -> q_dur - t), searched like a forward copy, and mapped back (``Segment.reversed``).
    Collinear pieces of one copy separated by frames that did not match (a shot that does not
    survive the transform) are joined first, so a segment follows the copy, not its shots.
    """
    nq = sim.shape[0]
    fwd = merge_collinear(find_segments(sim, tq, tr, q_dur, r_dur, p, q_valid, r_valid), sim, tq, tr, p)
    fwd = extend_over_blank(fwd, tq, tr, q_dur, r_dur, q_valid, r_valid)
    if not reverse or nq < 2:
        return fwd
    claimed = np.zeros(nq, bool)
    for s in fwd:
        claimed |= (tq >= s.q0) & (tq <= s.q1)
    if claimed.all():
        return fwd
    rsim = np.array(sim[::-1], np.float32, copy=True)
    rsim[claimed[::-1]] = 0.0
    rtq = (q_dur - np.asarray(tq, np.float64))[::-1]
    qv = None if q_valid is None else np.asarray(q_valid)[::-1]
    back = merge_collinear(find_segments(rsim, rtq, tr, q_dur, r_dur, p, qv, r_valid), rsim, rtq, tr, p)
    back = extend_over_blank(back, rtq, tr, q_dur, r_dur, qv, r_valid)
    out = list(fwd)
    for s in back:
        out.append(Segment(q_dur - s.q1, q_dur - s.q0, s.r0, s.r1, s.similarity, s.slope,
                           sorted((q_dur - a, b, c) for a, b, c in s.evidence), s.transform, reversed=True))
    return suppress_duplicates(out, p.min_segment_s)


def merge_collinear(segments: list[Segment], sim: np.ndarray, tq: np.ndarray, tr: np.ndarray, p: AlignParams,
                    max_bridge_s: float = 30.0) -> list[Segment]:
    """Join consecutive segments that lie on one line (same speed, same offset) when nothing in
    between contradicts it: no query sample of the gap matches another moment of the reference
    better than the line does. A shot that does not survive the copy (noise-like automata, a
    flash) then no longer cuts one copy into several segments."""
    if len(segments) < 2:
        return segments
    segs = sorted(segments, key=lambda s: s.q0)
    out = [segs[0]]
    tq = np.asarray(tq, np.float64)
    tr = np.asarray(tr, np.float64)
    for s in segs[1:]:
        a = out[-1]
        gap = s.q0 - a.q1
        slope = 0.5 * (a.slope + s.slope)
        off_a = a.r0 - a.slope * a.q0
        off_s = s.r0 - s.slope * s.q0
        if (gap > max_bridge_s or gap < -1.0 or abs(a.slope - s.slope) > 0.03 * slope
                or abs((off_s + s.slope * s.q0) - (off_a + a.slope * s.q0)) > 0.5 or s.r0 < a.r1 - 1.0):
            out.append(s)
            continue
        rows = np.nonzero((tq > a.q1) & (tq < s.q0))[0]
        if rows.size and tr.size:
            expect = a.slope * tq[rows] + off_a
            j = np.clip(np.searchsorted(tr, expect), 0, tr.size - 1)
            on_line = sim[rows, j]
            best = sim[rows].max(axis=1)
            # A gap sample that clearly matches elsewhere (a cut to another part of the reference) breaks the copy.
            if np.any((best >= p.hit_similarity) & (best > on_line + p.best_match_margin)):
                out.append(s)
                continue
        qa, qb = a.q1 - a.q0, s.q1 - s.q0
        sim_m = (a.similarity * qa + s.similarity * qb) / max(qa + qb, 1e-9)
        slope = (s.r1 - a.r0) / max(s.q1 - a.q0, 1e-9) if abs(a.slope - s.slope) > 1e-9 else a.slope
        out[-1] = Segment(a.q0, s.q1, a.r0, max(a.r1, s.r1), sim_m, float(np.clip(slope, p.min_slope, p.max_slope)),
                          a.evidence + s.evidence, a.transform, a.reversed)
    return out


def extend_over_blank(segments: list[Segment], tq: np.ndarray, tr: np.ndarray, q_dur: float, r_dur: float,
                      q_valid: np.ndarray | None, r_valid: np.ndarray | None) -> list[Segment]:
    """Stretch each segment along its line over the samples just before and after it where *both*
    videos are blank (flat: black, a fade, a featureless shot) at the same moment: the copy goes on
    there, it just cannot be seen. Stops at the first sample where either side has structure, and
    never runs into the next segment."""
    if not segments or q_valid is None or r_valid is None or tq.size < 2 or tr.size < 1:
        return segments
    tq = np.asarray(tq, np.float64)
    tr = np.asarray(tr, np.float64)
    step = _step(tq)
    segs = sorted(segments, key=lambda s: s.q0)
    out = []
    for k, s in enumerate(segs):
        lo = segs[k - 1].q1 if k else 0.0
        hi = segs[k + 1].q0 if k + 1 < len(segs) else q_dur
        b = s.r0 - s.slope * s.q0

        def blank(i: int, s: Segment = s, b: float = b) -> int:
            """2: both videos blank here; 1: one of them (a fade that a transform shifted a little); 0: no."""
            rt = s.slope * tq[i] + b
            if rt < -0.5 or rt > r_dur + 0.5:
                return 0
            j = int(np.clip(np.searchsorted(tr, rt), 0, tr.size - 1))
            j = j - 1 if j > 0 and abs(tr[j - 1] - rt) < abs(tr[j] - rt) else j
            return int(not q_valid[i]) + int(not r_valid[j])

        def walk(i: int, d: int, limit: float, edge: float) -> float:
            half = 0  # one-sided samples since the last both-blank one (at most 12, 3 s, tolerated)
            while 0 <= i < tq.size and (tq[i] > limit if d < 0 else tq[i] < limit):
                k = blank(i)
                if k == 0 or (k == 1 and half >= 12):
                    break
                half = half + 1 if k == 1 else 0
                if k == 2:
                    edge = float(tq[i]) + 0.5 * step * d
                i += d
            return edge

        q0 = walk(int(np.searchsorted(tq, s.q0 + 1e-6)) - 1, -1, lo, s.q0)
        q1 = walk(int(np.searchsorted(tq, s.q1 - 1e-6)), 1, hi, s.q1)
        q0, q1 = max(q0, lo, 0.0, -b / s.slope), min(q1, hi, q_dur, (r_dur - b) / s.slope)
        if q0 < s.q0 - 1e-9 or q1 > s.q1 + 1e-9:
            s = Segment(min(q0, s.q0), max(q1, s.q1), s.slope * min(q0, s.q0) + b, s.slope * max(q1, s.q1) + b, s.similarity,
                        s.slope, s.evidence, s.transform, s.reversed, s.motion, s.correlation)
        out.append(s)
    return out
