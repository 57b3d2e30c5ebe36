"""A pair's copied segments: forward and reversed lines, joined across shots that did not match,
stretched over moments where both videos are blank. Split out of ``align.py``, unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from openvod.analyzers.dna.align import AlignParams, RegionDescriptors, Segment
from openvod.analyzers.dna.temporal import _step, find_segments, suppress_duplicates


def find_all_segments(
    sim: np.ndarray, tq: np.ndarray, tr: np.ndarray, q_dur: float, r_dur: float, p: AlignParams,
    q_valid: np.ndarray | None = None, r_valid: np.ndarray | None = None, reverse: bool = True,
    keep: Callable[[Segment], bool] | None = None, raw: Callable[[int, int], float] | None = None,
    flat: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[Segment]:
    """Copied segments played forwards and, on the query moments left over, backwards.

    ``keep`` (optional) says whether a segment passes the evidence checks: a forward segment that
    does not (a nearly still stretch that a reversed copy also matches forwards) leaves its query
    moments to the backward search, and gives way to a backward segment that does.

    Reversed playback is a line of negative slope: the matrix is read with the query's time axis
    mirrored (t -> q_dur - t), searched like a forward copy, and mapped back (``Segment.reversed``).
    Collinear pieces of one copy separated by frames that did not match (a shot that does not
    survive the transform) are joined first, so a segment follows the copy, not its shots.
    ``raw(i, j)``: similarity of query sample i and library sample j whatever their flatness, and
    ``flat``: (query, library) samples whose whole picture is flat (``extend_over_blank``).
    """
    nq = sim.shape[0]
    fwd = merge_collinear(find_segments(sim, tq, tr, q_dur, r_dur, p, q_valid, r_valid), sim, tq, tr, p)
    fwd = extend_over_blank(fwd, tq, tr, q_dur, r_dur, q_valid, r_valid, raw, flat)
    if not reverse or nq < 2:
        return fwd
    passed = [keep is None or keep(s) for s in fwd]
    claimed = np.zeros(nq, bool)
    for s, ok in zip(fwd, passed, strict=True):
        if ok:
            claimed |= (tq >= s.q0) & (tq <= s.q1)
    if claimed.all():
        return fwd
    rsim = np.array(sim[::-1], np.float32, copy=True)
    rsim[claimed[::-1]] = 0.0
    rtq = (q_dur - np.asarray(tq, np.float64))[::-1]
    qv = None if q_valid is None else np.asarray(q_valid)[::-1]
    back = merge_collinear(find_segments(rsim, rtq, tr, q_dur, r_dur, p, qv, r_valid), rsim, rtq, tr, p)
    back = extend_over_blank(back, rtq, tr, q_dur, r_dur, qv, r_valid, None if raw is None else lambda i, j: raw(nq - 1 - i, j),
                             None if flat is None else (np.asarray(flat[0])[::-1], flat[1]))
    backs = [Segment(q_dur - s.q1, q_dur - s.q0, s.r0, s.r1, s.similarity, s.slope,
                     sorted((q_dur - a, b, c) for a, b, c in s.evidence), s.transform, reversed=True) for s in back]
    good_backs = [s for s in backs if keep is None or keep(s)]
    out = [s for s, ok in zip(fwd, passed, strict=True)
           if ok or not any(b.q0 < s.q1 and s.q0 < b.q1 for b in good_backs)]
    return suppress_duplicates(out + backs, p.min_segment_s)


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


FAINT_MATCH = 0.9  # a sample flat on one side only still continues the copy when its pictures are this similar


def extend_over_blank(segments: list[Segment], tq: np.ndarray, tr: np.ndarray, q_dur: float, r_dur: float,
                      q_valid: np.ndarray | None, r_valid: np.ndarray | None,
                      raw: Callable[[int, int], float] | None = None,
                      flat: tuple[np.ndarray, np.ndarray] | None = None) -> list[Segment]:
    """Stretch each segment along its line over the samples just before and after it where *both*
    videos are blank (flat: black, a fade, a featureless shot) at the same moment: the copy goes on
    there, it just cannot be seen. Stops at the first sample where either side has structure, and
    never runs into the next segment. A sample flat on one side only (a faint fade-in whose contrast
    the copy raised above the flatness threshold, or lowered below it) counts as the copy when its
    pictures, compared whatever their flatness (``raw``), are at least ``FAINT_MATCH`` similar.

    ``flat`` (optional): which (query, library) samples are flat as a whole picture (the fingerprints'
    flatness). Where both are featureless over the shared region but the query's whole picture is flat
    and the library's is not, the moment is one-sided: a faint title card in the query before the copy
    began (flat) was taken for the copy's blank lead-in over a brick wall (textured, featureless only
    at the descriptors' scale), 3.7 s too early. Two textured pictures (a copy of the brick wall), two
    flat ones (black, a fade), or a textured query over a flat library picture (a picture-in-picture
    copy's black moment: the query's whole frame also shows other footage) still carry the copy on."""
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
            k = int(not q_valid[i]) + int(not r_valid[j])
            k = 1 if k == 2 and flat is not None and flat[0][i] and not flat[1][j] else k  # flat query, textured library
            return 2 if k == 1 and raw is not None and raw(i, j) >= FAINT_MATCH else k

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
                        s.slope, s.evidence, s.transform, s.reversed, s.motion, s.correlation, s.symmetry)
        out.append(s)
    return out


def motion_passes(motion: float, similarity: float, min_motion: float, noise_ratio: float = 0.0, floor: float = 0.0) -> bool:
    """Whether a segment's picture changes enough to be evidence (``segment_evidence``'s motion).

    ``min_motion`` is an absolute amount: smooth, low-detail footage that drifts slowly (clouds,
    plasma, a slow pan over a soft gradient) changes its descriptors little although it does move.
    What makes a still picture no evidence is that its changes are at the level of coding noise,
    i.e. no larger than the difference between the copy and its source (``1 - similarity``). So a
    segment also passes when its motion is ``noise_ratio`` times that difference (and at least
    ``floor``): a still shot re-encoded moves about as much as it differs (ratio ~0.5),
    a slow drift copied near-losslessly 50 times more; the correlation check still applies.
    """
    need = min_motion
    if noise_ratio > 0:
        need = min(need, max(floor, noise_ratio * (1.0 - similarity)))
    return motion >= need


def picture_change(d: np.ndarray) -> float:
    """1 - the lowest cosine of a descriptor to their mean (0 for fewer than two)."""
    if d.shape[0] < 2:
        return 0.0
    c = d.mean(axis=0)
    return float(1.0 - np.min(d @ (c / max(float(np.linalg.norm(c)), 1e-9))))


def pair_similarity(segments: list[Segment]) -> float:
    """A pair's Similarity: its segments' similarities weighted by their query durations, in 0..1."""
    total = sum(s.duration for s in segments)
    return float(min(1.0, max(0.0, sum(s.similarity * s.duration for s in segments) / max(total, 1e-6))))


def evidence_span(s: Segment) -> float:
    """A segment's length on the shorter of its two timelines (seconds)."""
    return min(s.duration, abs(s.r1 - s.r0))


def narrowed(m: Any, kept: list[Segment], min_similarity: float = 0.0) -> Any | None:
    """A pair (``search.PairMatch``) left with only the segments ``kept``: its Similarity recomputed over them
    (``pair_similarity``), or None when none is left or it falls below ``min_similarity``."""
    if not kept:
        return None
    if len(kept) < len(m.segments):
        m.similarity = pair_similarity(kept)
        m.segments = kept
        if m.similarity < min_similarity:
            return None
    return m


def sub_segment(s: Segment, a: float, b: float) -> Segment:
    """The part of a segment over query times [a, b] (same line, same transform and flags)."""
    if s.reversed:  # r runs down as q runs up
        r0, r1 = s.r1 - (b - s.q0) * s.slope, s.r1 - (a - s.q0) * s.slope
    else:
        r0, r1 = s.r0 + (a - s.q0) * s.slope, s.r0 + (b - s.q0) * s.slope
    return Segment(a, b, r0, r1, s.similarity, s.slope, [e for e in s.evidence if a <= e[0] <= b], s.transform,
                   s.reversed, s.motion, s.correlation, s.symmetry)


SAME_PICTURE = 0.9  # a window's mean similarity from which it shows the copy's own pictures (trim_uncorrelated_ends)


def trim_uncorrelated_ends(s: Segment, correlation: Callable[[Segment], float], tq: np.ndarray, q_valid: np.ndarray,
                           tr: np.ndarray, r_valid: np.ndarray, window_s: float, min_corr: float,
                           min_segment_s: float, motion: Callable[[np.ndarray, np.ndarray], float] | None = None,
                           min_motion: float = 0.0, likeness: Callable[[np.ndarray, np.ndarray], float] | None = None,
                           still_motion: float = 0.0, strong_correlation: float = 2.0) -> Segment:
    """Pull a segment's ends in over stretches whose picture changes do not follow the library's.

    Along a line, footage that merely looks like the reference (a still title card or a smooth
    plasma after the copy ends, matching some moment of a slowly changing library shot about as
    well as anything does) passes the per-sample similarity test, so a copy's segment can run
    seconds past its end. What such a stretch lacks is the copy's signature: its changes do not
    correlate with the library's (``correlation``: the Pearson measure of ``segment_evidence``),
    while even a nearly still part of a real copy does. Each end moves inward to the last window of
    ``window_s`` that correlates at least ``min_corr``, if the stretch cut off (at least one window
    long) does not correlate either. A window is read at a few small shifts along the reference (up
    to half a second: a line whose speed is a little off drifts from the copy towards its ends, and
    a shifted reading of look-alike footage still does not correlate). Windows with fewer than three
    samples informative on both sides (a fade, black, a flat library shot) are no evidence against
    the copy and stop the trimming, and so are stretches where neither picture changes by at least
    ``min_motion`` (``motion(query rows, library rows)``: changes at the level of coding noise cannot
    correlate, e.g. slowly drifting clouds). Never leaves less than ``min_segment_s``;
    ``window_s <= 0``: off.
    """
    if window_s <= 0 or s.duration < min_segment_s + window_s:
        return s
    tq = np.asarray(tq, np.float64)
    step = _step(tq)
    win = max(window_s, 4 * step)
    inside = np.nonzero((tq >= s.q0) & (tq <= s.q1))[0]
    if inside.size < 8:
        return s

    tr = np.asarray(tr, np.float64)

    def passes(a: float, b: float) -> bool:
        part = sub_segment(s, a, b)
        rows = np.nonzero((tq >= a) & (tq <= b) & q_valid)[0]
        frac = (tq[rows] - a) / max(b - a, 1e-9)
        expect = (part.r1 - frac * (part.r1 - part.r0)) if s.reversed else (part.r0 + frac * (part.r1 - part.r0))
        j = np.clip(np.searchsorted(tr, expect), 0, max(tr.size - 1, 0))
        both = r_valid[j]
        if tr.size == 0 or int(np.count_nonzero(both)) < 3:
            return True
        moved_by = motion(rows, j[both]) if motion is not None else 1.0
        if moved_by < min_motion:
            return True
        if (s.correlation >= strong_correlation and moved_by < still_motion and likeness is not None
                and likeness(rows[both], j[both]) >= max(s.similarity, SAME_PICTURE)):
            return True  # a nearly still stretch of the copy's own pictures on a line its changes confirm
        for shift in (0.0, -0.25, 0.25, -0.5, 0.5):
            moved = Segment(a, b, part.r0 + shift, part.r1 + shift, s.similarity, s.slope, [], s.transform, s.reversed)
            if correlation(moved) >= min_corr:
                return True
        return False

    q0, q1 = s.q0, s.q1
    for k in inside[::-1]:  # the end: windows ending at each sample, last first
        e = min(float(tq[k]) + 0.5 * step, s.q1)
        if e - s.q0 < max(min_segment_s, win):  # nothing correlates: leave it to the evidence checks
            e = s.q1
            break
        if passes(e - win, e):
            break
    else:
        e = s.q1
    if s.q1 - e >= win and not passes(e, s.q1):
        q1 = e
    for k in inside:  # the start, symmetrically
        b0 = max(float(tq[k]) - 0.5 * step, s.q0)
        if q1 - b0 < max(min_segment_s, win):
            b0 = s.q0
            break
        if passes(b0, b0 + win):
            break
    else:
        b0 = s.q0
    if b0 - s.q0 >= win and not passes(s.q0, b0):
        q0 = b0
    if (q0, q1) == (s.q0, s.q1) or q1 - q0 < min_segment_s:
        return s
    return sub_segment(s, q0, q1)


def with_still_pieces(found: list[Segment], passes: Callable[[Segment], bool], passes_but_motion: Callable[[Segment], bool],
                      min_similarity: float) -> list[Segment]:
    """The segments that pass every evidence check, plus still ones of a pair already confirmed.

    A still picture (a screen recording held for seconds, a photo) is no evidence of a copy on its
    own: colour bars and title cards are the same in many videos. But once a pair is confirmed by a
    segment that moves and correlates, a piece of the same library video whose only failing is its
    motion, matched at least ``min_similarity`` (coding noise only) and passing the correlation and
    symmetry checks, is the same copy's still part (a re-ordered edit of three parts, one of them
    over a still shot). Library moments shared with other videos (templates) are dropped later by
    ``templates.distinctive``. ``min_similarity`` > 1: off.
    """
    good = [s for s in found if passes(s)]
    if not good or min_similarity > 1.0:
        return good
    return good + [s for s in found if not passes(s) and s.similarity >= min_similarity and passes_but_motion(s)]


def segment_symmetry(s: Segment, sim: np.ndarray, desc: RegionDescriptors, tq: np.ndarray, tr: np.ndarray,
                     margin: float, floor: float = 0.0) -> float:
    """Share of the segment's informative library samples that are not clearly matched elsewhere:
    whose best match anywhere in the query (if at least ``floor`` similar) is on the segment's line
    (within ``margin`` of similarity and one sample of time).

    The walk along a line already asks this of every *query* sample; a copy also passes it the
    other way round (each library moment is best matched where it was copied). Look-alike footage
    (two zooms into one fractal) matches along a line chosen by chance among many similar ones, so
    many of the library moments on it are matched better elsewhere. 1.0 when nothing is measurable.
    """
    trf, tqf = np.asarray(tr, np.float64), np.asarray(tq, np.float64)
    cols = np.nonzero((trf >= min(s.r0, s.r1)) & (trf <= max(s.r0, s.r1)) & desc.r_valid)[0]
    if cols.size < 3 or tqf.size < 2 or abs(s.slope) < 1e-9:
        return 1.0
    frac = (trf[cols] - s.r0) / max(s.r1 - s.r0, 1e-9)
    expect = (s.q1 - frac * (s.q1 - s.q0)) if s.reversed else (s.q0 + frac * (s.q1 - s.q0))
    i = np.clip(np.searchsorted(tqf, expect), 1, tqf.size - 1)
    i = np.where(np.abs(tqf[i - 1] - expect) < np.abs(tqf[i] - expect), i - 1, i)  # the nearest query sample
    near = np.stack([sim[np.clip(i + d, 0, tqf.size - 1), cols] for d in (-1, 0, 1)]).max(axis=0)
    best = sim[:, cols].max(axis=0)
    # Counted against the line: library moments clearly matched elsewhere (a real match that beats
    # the line by the margin), not those that match nothing well (bridged shots, blank moments).
    return float(np.mean(~((best >= floor) & (best > near + margin))))


def unit_speed_if_still(s: Segment, evidence: Callable[[Segment], tuple[float, float]],
                        still: Callable[[float, float], bool]) -> None:
    """Measure a segment's (motion, correlation) in place; a still one (``still(motion, similarity)``)
    is first put at speed 1, at the offset (within a second of its centre's) where its picture's small
    changes correlate best, unless that correlates less than the voted speed does.

    Over a still shot every slope through it matches alike, so the voted speed says nothing (a
    re-ordered piece over a screen recording comes out at 0.8x); unchanged speed is the rule, and an
    off speed read from no motion would also subject the piece to the off-speed checks (chance.py).
    """
    s.motion, s.correlation = evidence(s)
    if abs(s.slope - 1.0) < 1e-9 or not still(s.motion, s.similarity):
        return
    rc, half = 0.5 * (s.r0 + s.r1), 0.5 * (s.q1 - s.q0)
    best: tuple[float, float, float] | None = None
    for shift in np.arange(-1.0, 1.0001, 0.125):
        r0 = rc + shift - half
        if r0 < 0:
            continue
        m, c = evidence(Segment(s.q0, s.q1, r0, r0 + 2 * half, s.similarity, 1.0, [], s.transform, s.reversed))
        if best is None or c > best[2]:
            best = (r0, m, c)
    if best is not None and best[2] >= s.correlation:
        s.slope, s.r0, s.r1, s.motion, s.correlation = 1.0, best[0], best[0] + 2 * half, best[1], best[2]
