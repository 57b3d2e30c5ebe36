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
from openvod.analyzers.dna.segments import narrowed
from openvod.analyzers.dna.templates import DUPLICATE_SIMILARITY, library_piece

NEAREST_RATIO = 1.5  # the query this many times closer to its source than to the library's look-alike of it: the source
MIN_OVERLAP = 0.5  # share of a segment's query stretch another pair's segment must cover to be its rival (a splice's
# neighbouring segments overlap by a few seconds at the cut and are no rivals)


def _similarity_over(s: Segment, a: float, b: float) -> float:
    """Mean frame similarity of a segment's evidence samples within query time a..b (its mean without any)."""
    vals = [e[2] for e in s.evidence if a <= e[0] <= b]
    return sum(vals) / len(vals) if vals else s.similarity


def _rivalry(s: Segment, own: Any, matches: list[Any], ratio: float) -> str:
    """'beaten' when another pair matches the segment's query stretch ``ratio`` times closer, else
    'ambiguous' when one matches it about as closely (neither ``ratio`` times closer), else ''."""
    out = ""
    for m in matches:
        if m is own:
            continue
        for o in m.segments:
            a, b = max(s.q0, o.q0), min(s.q1, o.q1)
            if b - a < MIN_OVERLAP * s.duration:
                continue
            mine, theirs = max(1.0 - _similarity_over(s, a, b), 1e-3), max(1.0 - _similarity_over(o, a, b), 1e-3)
            if mine > ratio * theirs:
                return "beaten"
            if theirs <= ratio * mine:
                out = "ambiguous"
    return out


def closest_sources(found: dict[int, Any], ratio: float, min_similarity: float = 0.0,
                    recurs: Callable[[Fingerprint, int], float] | None = None,
                    nearest: Callable[[Segment, int, Fingerprint], float] | None = None) -> dict[int, Any]:
    """``found`` (``search.PairMatch`` by library video) less the segments a rival beats by ``ratio`` in
    distance (``ratio`` 0: off), or that a rival matches about as closely (ambiguous: neither is ``ratio``
    times closer): another pair over the same query stretch, or (``recurs``, see
    ``templates.recurs_in``) another library video that holds the segment's library moments (over
    ``templates.HELD_SHARE`` of them at least) more closely than the query does (a look-alike the library already holds: the query is no nearer to
    this source than the library's own look-alikes are). A library video holding the moments at
    ``DUPLICATE_SIMILARITY`` or more holds a copy of them, not a look-alike, and is no rival.
    ``nearest(segment, video, piece)`` (if given) says which library video holds the piece of ``video``
    (0: none known), and how similar the query's stretch is to it, with no evidence gates: a library
    rival loses when the query is ``NEAREST_RATIO`` times closer to its own source than to it (a transformed
    copy of one of two near-identical library videos, such as paintings from one generator, is further
    from its source than the two are from each other, yet clearly closer to its source than to the
    other; a look-alike is about as close to both).
    Similarities are recomputed over the segments left (duration-weighted, as ``search.verify`` does)."""
    if ratio <= 0:
        return found
    matches = list(found.values())

    def library_rival(s: Segment, vid: int, m: Any, ambiguous: bool) -> bool:
        if recurs is None or m.reference is None:
            return ambiguous
        piece = library_piece(m, s)
        other = recurs(piece, vid) if piece is not None else 0.0
        if other >= DUPLICATE_SIMILARITY:  # the library holds a copy of these moments: its rivals are copies too
            return False
        if ambiguous:
            return True
        if not (other > 0.0 and ratio * (1.0 - s.similarity) > 1.0 - other):
            return False
        return nearest is None or piece is None or NEAREST_RATIO * (1.0 - s.similarity) > 1.0 - nearest(s, vid, piece)

    kept_by: dict[int, list[Segment]] = {}
    for vid, m in found.items():
        kept_by[vid] = []
        for s in m.segments:
            rivalry = _rivalry(s, m, matches, ratio)
            if rivalry != "beaten" and not library_rival(s, vid, m, rivalry == "ambiguous"):
                kept_by[vid].append(s)
    narrow = {vid: narrowed(m, kept_by[vid], min_similarity) for vid, m in found.items()}
    return {vid: m for vid, m in narrow.items() if m is not None}
