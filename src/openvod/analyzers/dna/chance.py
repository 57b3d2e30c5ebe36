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

UNIT_SPEED_TOLERANCE = 0.03  # |speed| within 3 % of 1 is unit speed (frame-rate conversions land at 0.95-0.97)


def offspeed_passes(s: Segment, short_s: float, min_correlation: float) -> bool:
    """False for a segment off unit speed, shorter than ``short_s`` on its shorter timeline, whose
    correlation is below ``min_correlation`` (``short_s`` 0: off)."""
    if short_s <= 0 or abs(abs(s.speed) - 1.0) <= UNIT_SPEED_TOLERANCE:
        return True
    return min(s.duration, abs(s.r1 - s.r0)) >= short_s or s.correlation >= min_correlation
