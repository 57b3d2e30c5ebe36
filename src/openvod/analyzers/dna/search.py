"""Query a library: candidate retrieval through the code index, then pairwise verification. Pure: the
caller supplies the index and a loader for library fingerprints (the store glue lives in ``library``).
Deterministic: candidates are ranked by (support, video number), then exact arithmetic."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import numpy as np

from openvod.analyzers.dna import features as ft
from openvod.analyzers.dna.align import AlignParams, RegionDescriptors, Segment, Transform, hit_transforms, region_descriptors
from openvod.analyzers.dna.chance import offspeed_passes
from openvod.analyzers.dna.segments import (evidence_span, find_all_segments, motion_passes, pair_similarity, picture_change,
                                            segment_symmetry, trim_uncorrelated_ends, unit_speed_if_still, with_still_pieces)
from openvod.analyzers.dna.temporal import suppress_duplicates
from openvod.analyzers.dna.fingerprint import Fingerprint, band_rows
from openvod.analyzers.dna.index import CodeIndex, generic_queries
from openvod.analyzers.dna.refine import refine
from openvod.analyzers.dna.rivals import closest_sources
from openvod.analyzers.dna.templates import TEMPLATE_MARGIN_S, TEMPLATE_MIN_SEGMENT_S, distinctive, piece_key, recurs_in, window
from openvod.analyzers.dna.views import query_views, view_fits


@lru_cache(maxsize=1)
def _blas_controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Matching does many tiny matrix products: BLAS threads only add contention (a worker is a process)."""
    with _blas_controller().limit(limits=1, user_api="blas"):
        yield


@dataclass(frozen=True)
class MatchParams:
    """Retrieval and verification thresholds."""

    code_radius: int = 10  # Hamming distance (of 64 bits) for two codes to hit
    max_candidates: int = 24  # library videos verified per query
    min_candidate_frames: int = 2  # distinct query samples with hits to become a candidate
    min_transform_score: float = 0.35  # mean region similarity of the hit frames after refinement
    max_hits_per_code: int = 64  # a query code hitting more library codes than this is too generic to count
    max_hits_per_pair: int = 512  # hits kept per candidate (spread over the query's samples)
    min_similarity: float = 0.0  # the decision threshold: a pair whose Similarity is below it is not reported
    min_motion: float = 0.0  # a segment's query picture must change at least this much (see segment_evidence)
    motion_noise_ratio: float = 0.0  # ... or this many times its difference from the library (0: off; see motion_passes)
    min_motion_floor: float = 0.0  # ... but never less than this
    min_correlation: float = 0.0  # a segment's picture changes must correlate this much with the library's
    min_pair_correlation: float = 0.0  # ... and all the pair's segments together (duration-weighted)
    min_symmetry: float = 0.0  # a segment's library samples best matched on its line (segment_symmetry)
    short_segment_s: float = 0.0  # segments shorter than this ...
    min_short_correlation: float = 0.0  # ... must correlate at least this much
    offspeed_short_s: float = 0.0  # segments off unit speed shorter than this ... (chance.py; 0: off)
    min_offspeed_correlation: float = 0.0  # ... must correlate at least this much
    offspeed_tiny_s: float = 0.0  # segments off unit speed shorter than this ... (chance.py; 0: off)
    min_offspeed_tiny_similarity: float = 0.0  # ... must be at least this similar
    template_max_s: float = 0.0  # shorter segments whose library moments recur in another library video: dropped (templates.py; 0: off)
    pip_jitter: int = 1  # ... each also moved by up to this many thumbnail pixels (views.pip_view)
    pip_boxes: int = 4  # picture-in-picture boxes searched (views.pip_boxes; >1: also boxes of parts of the query)
    pip_contrast: float = 1.0  # weight of the inside/outside decorrelation difference in a box's score (views.pip_box)
    end_trim_window_s: float = 0.0  # segment ends pulled in over uncorrelated stretches (0: off; trim_uncorrelated_ends)
    end_trim_correlation: float = 0.3  # ... a window correlating less than this is not the copy
    still_similarity: float = 2.0  # still segments of a pair confirmed otherwise kept from this similarity (with_still_pieces)
    rival_distance_ratio: float = 0.0  # a segment another library video matches this many times closer is dropped (rivals.py; 0: off)
    align: AlignParams = field(default_factory=AlignParams)


@dataclass
class PairMatch:
    """One library video the query copies from."""

    key: Any
    similarity: float
    segments: list[Segment]
    candidate_support: int = 0
    reference: Fingerprint | None = None
    rotation: int = 0  # degrees counter-clockwise: the input shows the library picture (mirrored if Flip) rotated so

    @property
    def transform(self) -> Transform:
        """The transform of the longest segment."""
        longest = max(self.segments, key=lambda s: s.duration)
        return longest.transform or Transform()


def query_codes(fp: Fingerprint) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A query's codes and their mirrored twins: (codes, flipped 0/1, code row). A video's own band codes
    are for the index only (a query reads its band through ``views.band_view``): band against band would
    only repeat what the whole-picture codes say, on a part of the picture where look-alikes agree most."""
    own = np.arange(fp.codes.shape[0])
    if not any(k in fp.info for k in ("band_view", "halves_view")):
        own = own[~band_rows(fp.code_geom)]
    m = own.size
    codes = np.concatenate([fp.codes[own], fp.codes_flip[own]])
    flips = np.concatenate([np.zeros(m, np.int64), np.ones(m, np.int64)])
    rows = np.concatenate([own, own])
    return codes, flips, rows


def _thin(q: Fingerprint, qrow: np.ndarray, crow: np.ndarray, dist: np.ndarray, params: MatchParams) -> np.ndarray:
    """Indices of the hits worth keeping for one pair (``qrow``: query code rows): the closest few
    per query code, then at most ``max_hits_per_pair`` spread evenly over the query's timeline."""
    order = np.lexsort((crow, dist, qrow))
    first = np.searchsorted(qrow[order], qrow[order], side="left")
    keep = order[(np.arange(order.size) - first) < 4]
    if keep.size > params.max_hits_per_pair:
        by_time = keep[np.lexsort((crow[keep], dist[keep], q.code_frame[qrow[keep]]))]
        keep = by_time[np.linspace(0, by_time.size - 1, params.max_hits_per_pair).round().astype(np.int64)]
    return np.sort(keep)


def pair_hits(q: Fingerprint, r: Fingerprint, params: MatchParams, view: bool = False) -> np.ndarray:
    """Brute-force code hits ``[h, 3]`` (query code, flipped, reference code); ``view``: see ``generic_queries``."""
    codes, flips, rows = query_codes(q)
    if codes.shape[0] == 0 or r.codes.shape[0] == 0:
        return np.zeros((0, 3), np.int64)
    d = ft.hamming(codes, r.codes)
    qi, ri = np.nonzero(d <= params.code_radius)
    generic = generic_queries(qi, codes.shape[0], params.max_hits_per_code, *((np.zeros_like(qi), d[qi, ri]) if view else ()))
    ok = ~generic[qi]
    qi, ri = qi[ok], ri[ok]
    k = _thin(q, rows[qi], ri, d[qi, ri], params)
    return np.stack([rows[qi[k]], flips[qi[k]], ri[k]], axis=1).astype(np.int64)


def _spread(pairs: np.ndarray, k: int) -> np.ndarray:
    """At most k rows, evenly spread (so refinement sees the whole copy, not its first seconds)."""
    if pairs.shape[0] <= k:
        return pairs
    return pairs[np.linspace(0, pairs.shape[0] - 1, k).round().astype(np.int64)]


def _unexplained(q: Fingerprint, r: Fingerprint, hits: np.ndarray, segments: list[Segment], margin: float = 1.0) -> np.ndarray:
    """Hits that no found segment accounts for."""
    tq = q.times[q.code_frame[hits[:, 0]]]
    tr = r.times[r.code_frame[hits[:, 2]]]
    keep = np.ones(hits.shape[0], bool)
    for sg in segments:
        keep &= ~((tq >= sg.q0 - margin) & (tq <= sg.q1 + margin) & (tr >= sg.r0 - margin) & (tr <= sg.r1 + margin))
    return hits[keep]


MAX_SIMILARITY_CELLS = 16_000_000  # 64 MB of float32: beyond, long pairs are aligned on every k-th sample


def _segments(q: Fingerprint, r: Fingerprint, desc: RegionDescriptors, params: MatchParams) -> list[Segment]:
    """Temporal alignment on the frame-similarity matrix (time-decimated for very long pairs), then
    the evidence checks (``segment_evidence``; thresholds in ``MatchParams``)."""
    k = max(1, math.ceil(math.sqrt(q.n * r.n / MAX_SIMILARITY_CELLS)))
    sub = desc if k == 1 else RegionDescriptors(desc.q[::k], desc.r[::k], desc.q_valid[::k], desc.r_valid[::k])
    tq, tr = q.times[::k], r.times[::k]
    sim = sub.similarity()

    def still(motion: float, similarity: float) -> bool:  # no motion, matched at coding-noise level (with_still_pieces)
        moves = motion_passes(motion, similarity, params.min_motion, params.motion_noise_ratio, params.min_motion_floor)
        return not moves and similarity >= params.still_similarity

    def measure(s: Segment) -> None:
        unit_speed_if_still(s, lambda x: segment_evidence(x, sim, sub, tq, tr), still)
        s.symmetry = segment_symmetry(s, sim, sub, tq, tr, params.align.best_match_margin, params.align.hit_similarity)

    def ok(s: Segment, motion: bool = True) -> bool:  # motion=False: every check but the motion gate
        moves = motion_passes(s.motion, s.similarity, params.min_motion, params.motion_noise_ratio, params.min_motion_floor)
        return (moves or not motion) and s.correlation >= params.min_correlation and s.symmetry >= params.min_symmetry

    def passes(s: Segment) -> bool:
        measure(s)
        return ok(s)

    found = find_all_segments(sim, tq, tr, q.duration, r.duration, params.align, sub.q_valid, sub.r_valid, keep=passes,
                              raw=lambda i, j: float(sub.q[i] @ sub.r[j]), flat=(q.flat[::k], r.flat[::k]))
    found = [trim_uncorrelated_ends(s, lambda x: segment_evidence(x, sim, sub, tq, tr)[1], tq, sub.q_valid, tr, sub.r_valid,
                                    params.end_trim_window_s, params.end_trim_correlation, params.align.min_segment_s,
                                    lambda i, j: max(picture_change(sub.q[i]), picture_change(sub.r[j])), params.min_motion_floor,
                                    lambda i, j: float(sim[i, j].mean()), params.min_motion, params.min_short_correlation)
             for s in found]
    for s in found:  # suppress_duplicates may have trimmed a segment: measure what is reported
        measure(s)
    # A few seconds of look-alike footage (automata, zooms) can correlate by chance: short segments need more. Short
    # on either timeline: at an off speed (0.6x) the shorter span is what the evidence rests on.
    found = [s for s in found if (evidence_span(s) >= params.short_segment_s or s.correlation >= params.min_short_correlation)
             and offspeed_passes(s, params.offspeed_short_s, params.min_offspeed_correlation,
                                 params.offspeed_tiny_s, params.min_offspeed_tiny_similarity)]
    # The pair as a whole: look-alike footage yields many weakly correlated lines, and now and then a
    # short one that happens to correlate; a copy's segments correlate throughout.
    total = sum(s.duration for s in found)
    if found and sum(s.correlation * s.duration for s in found) / max(total, 1e-9) < params.min_pair_correlation:
        return []
    return with_still_pieces(found, ok, lambda s: ok(s, False), params.still_similarity)


def segment_evidence(s: Segment, sim: np.ndarray, desc: RegionDescriptors, tq: np.ndarray, tr: np.ndarray) -> tuple[float, float]:
    """(motion, correlation) of a segment.

    * motion: how much the input picture changes over the segment (1 - the lowest cosine of a
      sample to the segment's mean picture). Colour bars, slates and other still pictures are the
      same in every video that has them: a segment without motion is no evidence of a copy.
    * correlation: of the two pictures' *changes* over the segment: each side's descriptors minus
      their mean over the segment, then one cosine over all aligned pairs (a Pearson correlation
      over time). What the segment shares throughout (a slide template, a fractal's palette and
      texture, a studio set) cancels out; a copy still changes the way its source does, look-alike
      footage does not.
    """
    rows = np.nonzero((tq >= s.q0) & (tq <= s.q1) & desc.q_valid)[0]
    if rows.size < 3:
        return 0.0, 0.0
    d = desc.q[rows]
    motion = picture_change(d)
    tq_r = tq[rows].astype(np.float64)
    expect = (s.r1 - s.slope * (tq_r - s.q0)) if s.reversed else (s.r0 + s.slope * (tq_r - s.q0))
    trf = tr.astype(np.float64)
    j = np.clip(np.searchsorted(trf, expect), 0, trf.size - 1)
    j = np.where((j > 0) & (np.abs(trf[np.maximum(j - 1, 0)] - expect) < np.abs(trf[j] - expect)), j - 1, j)
    ok = desc.r_valid[j]
    if ok.sum() < 3:
        return motion, 0.0
    qd, rd = d[ok].astype(np.float64), desc.r[j[ok]].astype(np.float64)
    qd -= qd.mean(axis=0)
    rd -= rd.mean(axis=0)
    den = float(np.linalg.norm(qd) * np.linalg.norm(rd))
    return motion, (float(np.sum(qd * rd)) / den if den > 1e-9 else 0.0)


def verify(q: Fingerprint, r: Fingerprint, hits: np.ndarray, params: MatchParams, key: Any = None) -> PairMatch | None:
    """All copied segments between a query and one library video, or None.

    Transform hypotheses are tried best supported first; once some are confirmed, only the hits they do not
    explain are used to look for another transform (a splice of a flipped and an unflipped part of one video).
    """
    segments: list[Segment] = []
    tried = 0
    # Hits name code rows of both fingerprints; an index entry older than the stored fingerprint (the
    # video was fingerprinted again and this worker's index is not synced yet) can name rows that no
    # longer exist: such hits say nothing about the stored fingerprint.
    hits = np.asarray(hits, np.int64).reshape(-1, 3)
    remaining = hits[(hits[:, 0] >= 0) & (hits[:, 0] < q.codes.shape[0]) & (hits[:, 2] >= 0) & (hits[:, 2] < r.codes.shape[0])]
    while tried < params.align.max_transforms and remaining.shape[0]:
        hyps = hit_transforms(q, r, remaining, params.align)
        if not hyps:
            break
        found_here = False
        for t, members in hyps:
            if tried >= params.align.max_transforms:
                break
            tried += 1
            h = remaining[members]
            pairs = _spread(np.unique(np.stack([q.code_frame[h[:, 0]], r.code_frame[h[:, 2]]], axis=1), axis=0), 12)
            t = refine(q, r, t, pairs, params.align)
            if t.score < params.min_transform_score:
                continue
            desc = region_descriptors(q, r, t, params.align)
            if desc is None:
                continue
            found = _segments(q, r, desc, params)
            for sg in found:
                sg.transform = t
            if found:
                segments += found
                found_here = True
                break
        if not found_here:
            break
        remaining = _unexplained(q, r, remaining, segments)
        if np.unique(q.code_frame[remaining[:, 0]]).size < params.min_candidate_frames:
            break
    if not segments:
        return None
    segments = suppress_duplicates(segments, params.align.min_segment_s)
    similarity = pair_similarity(segments)
    if not segments or similarity < params.min_similarity:
        return None
    return PairMatch(key, similarity, segments, reference=r)


MIN_ROTATED_SUPPORT = 4  # query samples with hits before a rotated (or picture-in-picture) reading is verified
MAX_ROTATED_CANDIDATES = 4  # per rotation (and for the picture-in-picture box)


def _views(q: Fingerprint, params: MatchParams) -> list[tuple[Fingerprint, int]]:
    return query_views(q, params.pip_boxes, params.pip_jitter, params.pip_contrast)


def _ungated(p: MatchParams) -> MatchParams:
    """``p`` with no evidence gate: how alike two stretches are, whether or not that is a copy."""
    return replace(p, min_similarity=0.0, min_motion=0.0, motion_noise_ratio=0.0, min_correlation=-1.0, min_pair_correlation=-1.0,
                   min_short_correlation=-1.0, min_offspeed_correlation=-1.0, offspeed_tiny_s=0.0, min_symmetry=0.0,
                   align=replace(p.align, min_segment_s=min(p.align.min_segment_s, TEMPLATE_MIN_SEGMENT_S)))


def _better(a: PairMatch | None, b: PairMatch | None) -> PairMatch | None:
    if a is None or b is None:
        return a or b
    da, db = sum(s.duration for s in a.segments), sum(s.duration for s in b.segments)
    return a if da * a.similarity >= db * b.similarity else b


def compare(q: Fingerprint, r: Fingerprint, params: MatchParams | None = None) -> PairMatch | None:
    """Compare two fingerprints directly (no index), in every orientation."""
    params = params or MatchParams()
    best = verify(q, r, pair_hits(q, r, params), params)
    for qr, deg in _views(q, params):
        hits = pair_hits(qr, r, params, view=True)
        if np.unique(qr.code_frame[hits[:, 0]]).size < MIN_ROTATED_SUPPORT:
            continue
        m = verify(qr, r, hits, params)
        if m is not None and view_fits(qr.info, m.transform):
            m.rotation = deg
            best = _better(best, m)
    return best


def candidates(
    q: Fingerprint, index: CodeIndex, params: MatchParams, exclude: Iterable[int] = (), view: bool = False
) -> list[tuple[int, int, np.ndarray]]:
    """Library videos worth verifying: (video, support, hits ``[h, 3]``), best first (``view``: see ``pair_hits``)."""
    codes, flips, rows = query_codes(q)
    qrow, vid, crow, dist = index.search(codes, params.code_radius)
    if qrow.size == 0:
        return []
    # Codes that hit all over the library (flat-ish or generic pictures) say nothing about any one video.
    generic = generic_queries(qrow, codes.shape[0], params.max_hits_per_code, *((vid, dist) if view else ()))
    skip = np.isin(vid, np.fromiter(exclude, np.int64)) | generic[qrow]
    qrow, vid, crow, dist = qrow[~skip], vid[~skip], crow[~skip], dist[~skip]
    if qrow.size == 0:
        return []
    qframe = q.code_frame[rows[qrow]]
    order = np.lexsort((crow, qrow, vid))
    qrow, vid, crow, dist, qframe = qrow[order], vid[order], crow[order], dist[order], qframe[order]
    bounds = np.nonzero(np.diff(vid))[0] + 1
    out = []
    for a, b in zip(np.concatenate([[0], bounds]), np.concatenate([bounds, [vid.size]]), strict=True):
        support = int(np.unique(qframe[a:b]).size)
        if support < params.min_candidate_frames:
            continue
        k = a + _thin(q, rows[qrow[a:b]], crow[a:b], dist[a:b], params)
        hits = np.stack([rows[qrow[k]], flips[qrow[k]], crow[k]], axis=1)
        out.append((int(vid[a]), support, hits))
    out.sort(key=lambda c: (-c[1], c[0]))
    return out[: params.max_candidates]


def search(
    q: Fingerprint,
    index: CodeIndex,
    load: Callable[[int], tuple[Any, Fingerprint] | None],
    params: MatchParams | None = None,
    exclude: Iterable[int] = (),
) -> list[PairMatch]:
    """Every library video the query copies from, most similar first.

    ``load(video)`` returns (key, fingerprint) of a library video, or None if it vanished.
    """
    params = params or MatchParams()
    found: dict[int, PairMatch] = {}
    exclude = set(exclude)

    def check(query: Fingerprint, vid: int, support: int, hits: Any, rotation: int = 0) -> None:
        loaded = load(vid)
        if loaded is None:
            return
        key, ref = loaded
        m = verify(query, ref, hits, params, key)
        if m is not None and view_fits(query.info, m.transform):
            m.candidate_support = support
            if rotation:
                m.rotation = rotation
            found[vid] = _better(found.get(vid), m) or m

    for vid, support, hits in candidates(q, index, params, exclude):
        check(q, vid, support, hits)
    # Rotated copies (whole-picture codes read in the other orientations) and picture-in-picture boxes' codes.
    for qr, deg in _views(q, params):
        # A video already found is verified again through a view: a rotated copy can also line up, poorly, as
        # it is (a 180-degree turn read as a short reversed piece); the better explanation is kept.
        cands = [c for c in candidates(qr, index, params, exclude, view=True) if c[1] >= MIN_ROTATED_SUPPORT]
        for vid, support, hits in cands[:MAX_ROTATED_CANDIDATES]:
            check(qr, vid, support, hits, deg)
    holders: dict[tuple[int, float, float], int] = {}
    recurs = recurs_in(index, load, params, candidates, verify, holders)

    def nearest(s: Segment, vid: int, piece: Fingerprint) -> float:  # the query's stretch vs the piece's other holder
        other, stretch = holders.get(piece_key(piece, vid)), window(q, s.q0 - TEMPLATE_MARGIN_S, s.q1 + TEMPLATE_MARGIN_S)
        loaded = load(other) if other is not None else None
        m = compare(stretch, loaded[1], _ungated(params)) if loaded is not None and stretch is not None else None
        return m.similarity if m is not None else 0.0

    found = closest_sources(found, params.rival_distance_ratio, params.min_similarity, recurs, nearest)
    out = distinctive(found, recurs, params.template_max_s, params.min_similarity)
    out.sort(key=lambda m: (-round(m.similarity, 2), str(m.key)))
    return out
