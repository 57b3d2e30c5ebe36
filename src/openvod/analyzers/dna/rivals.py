"""Rival sources: one stretch of a query is reported against the library videos it is closest to.

Footage of one *kind* made the same way (scrolling credits in one layout and font with other names,
painted landscapes, zooms into one fractal) looks alike on a luma thumbnail: a query holding such a
shot verifies against every library video with a shot of that kind, at similarities well above
chance. A copy is much closer to its source than to those look-alikes (a re-encoded copy of credits
0.98, the same layout with other names 0.6-0.95). So, as in a ratio test between nearest
neighbours, a query segment that another library video matches over the same query stretch with a
*clearly smaller distance* (1 - similarity over the shared stretch, times ``ratio`` or more) is dropped
from its pair; a pair left with no segment, or below ``min_similarity``, is no match.

Library videos that hold the same footage (a programme uploaded twice) match a copy about equally
well and are all kept; a look-alike query whose look-alikes match about equally well is not helped
by this (templates.py and the evidence checks deal with those). Pure, on ``search.PairMatch``es.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openvod.analyzers.dna.align import Segment
from openvod.analyzers.dna.fingerprint import Fingerprint
from openvod.analyzers.dna.templates import TEMPLATE_MARGIN_S, window

DUPLICATE_SIMILARITY = 0.97  # a library video this similar to another's moments holds a copy of them
MIN_OVERLAP = 0.5  # share of the shorter of two segments their query stretches must share to be rivals


def _similarity_over(s: Segment, a: float, b: float) -> float:
    """Mean frame similarity of a segment's evidence samples within query time a..b (its mean without any)."""
    vals = [e[2] for e in s.evidence if a <= e[0] <= b]
    return sum(vals) / len(vals) if vals else s.similarity


def _beaten(s: Segment, own: Any, matches: list[Any], ratio: float) -> bool:
    for m in matches:
        if m is own:
            continue
        for o in m.segments:
            a, b = max(s.q0, o.q0), min(s.q1, o.q1)
            if b - a < MIN_OVERLAP * min(s.duration, o.duration):
                continue
            mine, theirs = 1.0 - _similarity_over(s, a, b), 1.0 - _similarity_over(o, a, b)
            if mine > ratio * max(theirs, 1e-3):
                return True
    return False


def closest_sources(found: dict[int, Any], ratio: float, min_similarity: float = 0.0,
                    recurs: Callable[[Fingerprint, int], float] | None = None) -> dict[int, Any]:
    """``found`` (``search.PairMatch`` by library video) less the segments a rival beats by ``ratio`` in
    distance (``ratio`` 0: off): another pair over the same query stretch, or (``recurs``, see
    ``templates.recurs_in``) another library video that holds the segment's library moments more
    closely than the query does (a look-alike the library already holds: the query is no nearer to
    this source than the library's own look-alikes are). A library video holding the moments at
    ``DUPLICATE_SIMILARITY`` or more holds a copy of them, not a look-alike, and is no rival.
    Similarities are recomputed over the segments left (duration-weighted, as ``search.verify`` does)."""
    if ratio <= 0:
        return found
    matches = list(found.values())

    def library_rival(s: Segment, vid: int, m: Any) -> bool:
        if recurs is None or m.reference is None:
            return False
        piece = window(m.reference, min(s.r0, s.r1) - TEMPLATE_MARGIN_S, max(s.r0, s.r1) + TEMPLATE_MARGIN_S)
        other = recurs(piece, vid) if piece is not None else 0.0
        return 0.0 < other < DUPLICATE_SIMILARITY and ratio * (1.0 - s.similarity) > 1.0 - other

    kept_by = {vid: [s for s in m.segments if not _beaten(s, m, matches, ratio) and not library_rival(s, vid, m)]
               for vid, m in found.items()}
    out = {}
    for vid, m in found.items():
        kept = kept_by[vid]
        if not kept:
            continue
        if len(kept) < len(m.segments):
            total = sum(s.duration for s in kept)
            m.similarity = float(min(1.0, max(0.0, sum(s.similarity * s.duration for s in kept) / max(total, 1e-6))))
            m.segments = kept
            if m.similarity < min_similarity:
                continue
        out[vid] = m
    return out
