"""Temporal alignment: copied segments are straight lines in a frame-similarity matrix.

Lines (slope = speed ratio) are found by Hough voting over (slope, offset), refined on the matrix,
followed sample by sample with gap tolerance, split where the copy jumps in the reference
(cut-and-reordered edits), bounded and scored; a query moment is given to one reference moment
only (``suppress_duplicates``). Split out of ``align.py`` (geometry), unchanged.
"""

from __future__ import annotations

import math

import numpy as np

from openvod.analyzers.dna.align import AlignParams, Segment


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
        votes, a, b = _vote(hq[ia], hr[ia], hw[ia], slopes, bin_s)
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


def _vote(hq: np.ndarray, hr: np.ndarray, hw: np.ndarray, slopes: np.ndarray, bin_s: float) -> tuple[float, float, float]:
    """Hough vote over (slope, offset): the best line's (votes, slope, offset), all slopes at once.

    Per slope, weighted hits are binned by offset (soft binning: 0.3 of each neighbour bin, so a
    line on a bin edge is not split); the strongest bin of the strongest slope wins, ties going to
    the first slope and bin, and speed 1 gets a 5 % bonus (by far the most common).
    """
    if hq.size == 0:
        return 0.0, 1.0, 0.0
    bins = np.floor((hr[None, :] - slopes[:, None] * hq[None, :]) / bin_s).astype(np.int64)
    lo = bins.min(axis=1)
    width = int((bins.max(axis=1) - lo).max()) + 1
    flat = (bins - lo[:, None]) + np.arange(slopes.size, dtype=np.int64)[:, None] * width
    acc = np.bincount(flat.reshape(-1), weights=np.broadcast_to(hw, bins.shape).reshape(-1),
                      minlength=slopes.size * width).astype(np.float64).reshape(slopes.size, width)
    if width > 1:
        pad = np.zeros((slopes.size, 1))
        acc = acc + np.concatenate([acc[:, 1:], pad], axis=1) * 0.3 + np.concatenate([pad, acc[:, :-1]], axis=1) * 0.3
    k = np.argmax(acc, axis=1)
    v = acc[np.arange(slopes.size), k] * (1.0 + 0.05 * np.exp(-np.abs(np.log(slopes)) * 40))
    s = int(np.argmax(v))
    if not v[s] > 0.0:
        return 0.0, 1.0, 0.0
    return float(v[s]), float(slopes[s]), float((k[s] + lo[s] + 0.5) * bin_s)


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
    # instants of two videos never coincide, so a slightly wrong slope can score a hair higher; over a
    # nearly still stretch every slope through the shot votes alike, and the vote's can be 10 % off).
    if abs(a - 1.0) < p.unit_speed_snap and p.min_slope <= 1.0 <= p.max_slope:
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
                        s.reversed, s.motion, s.correlation, s.symmetry)
        keep.append(s)
    return sorted(keep, key=lambda s: (s.q0, s.r0))
