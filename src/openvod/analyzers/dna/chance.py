"""Chance alignments off unit speed: a line the search chose among many slopes needs more evidence.

The temporal search tries ~90 speeds between ``min_speed`` and ``max_speed`` and every offset: two
parameters are enough to line up two or three picture changes of *any* two videos with the same
rhythm (title cards that change every couple of seconds, two zooms into one fractal). At unit speed
(by far the most common copy) the search has one free parameter, and the existing evidence checks
hold; off unit speed, a short segment must show that its picture changes really follow the library's
(``Segment.correlation``), not only that a handful of cuts or a zoom rate line up. A real
speed-changed copy is still the same picture sequence and correlates strongly.
"""

from __future__ import annotations

from openvod.analyzers.dna.align import Segment
from openvod.analyzers.dna.segments import evidence_span

UNIT_SPEED_TOLERANCE = 0.03  # |speed| within 3 % of 1 is unit speed (frame-rate conversions land at 0.95-0.97)


def offspeed_passes(s: Segment, short_s: float, min_correlation: float, tiny_s: float = 0.0,
                    min_tiny_similarity: float = 0.0) -> bool:
    """False for a segment off unit speed, shorter than ``short_s`` on its shorter timeline, whose
    correlation is below ``min_correlation`` (``short_s`` 0: off), or shorter than ``tiny_s`` whose
    similarity is below ``min_tiny_similarity`` (``tiny_s`` 0: off).

    The second tier: a few seconds found at a free speed are the weakest evidence there is (two free
    parameters, two or three picture changes), and look-alike footage (another zoom into one fractal)
    can follow the library's changes closely there; such a segment must also *look* like its source."""
    if abs(abs(s.speed) - 1.0) <= UNIT_SPEED_TOLERANCE:
        return True
    span = evidence_span(s)
    if tiny_s > 0 and span < tiny_s and s.similarity < min_tiny_similarity:
        return False
    return short_s <= 0 or span >= short_s or s.correlation >= min_correlation
