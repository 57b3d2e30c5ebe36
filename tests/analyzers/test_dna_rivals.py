"""rivals.closest_sources, the library-rival rule and its nearest-holder check, on stub similarities.

A query segment whose library moments another library video holds more closely than the query does is
dropped (a look-alike of a kind of footage the library holds several of), unless the query itself is
``NEAREST_RATIO`` times closer to its source than to that other video: a transformed copy of one of two
near-identical library videos (blind suite 2, seed 7102: paintings from one generator, held at 0.955 by
each other; a vertically flipped copy 0.92 similar to its source and 0.87 to the other) is further from
its source than the two are from each other, yet closer to its source; a look-alike is about as close
to both (credits with other names: 0.65 vs 0.68).
"""

from __future__ import annotations

import numpy as np
import pytest

from openvod.analyzers.dna.align import Segment
from openvod.analyzers.dna.fingerprint import Fingerprint
from openvod.analyzers.dna.rivals import NEAREST_RATIO, closest_sources
from openvod.analyzers.dna.search import MatchParams, PairMatch
from openvod.analyzers.dna.templates import covered, piece_key, recurs_in, window


def _reference(seconds: float = 40.0) -> Fingerprint:
    n = int(seconds * 4)
    rng = np.random.default_rng(0)
    return Fingerprint(times=(np.arange(n) / 4.0).astype(np.float32), thumbs=np.zeros((n, 32, 32), np.uint8),
                       flat=np.zeros(n, bool), code_frame=np.arange(n, dtype=np.int32),
                       code_geom=np.tile(np.array([[0.5, 0.5, 0.5]], np.float32), (n, 1)),
                       codes=rng.integers(0, 256, (n, 8), dtype=np.uint8), codes_flip=rng.integers(0, 256, (n, 8), dtype=np.uint8),
                       duration=seconds, width=480, height=270, box=(0.0, 0.0, 1.0, 1.0), options_key="test")


def _found(similarity: float) -> dict[int, PairMatch]:
    s = Segment(q0=4.4, q1=15.6, r0=25.0, r1=36.2, similarity=similarity, slope=1.0, reversed=False, correlation=0.9)
    return {13: PairMatch("L13", similarity, [s], reference=_reference())}


@pytest.mark.parametrize("query_to_source, query_to_other, library_holds, kept", [
    (0.92, 0.87, 0.955, True),  # a flipped copy of one of two near-identical paintings: clearly closest to its source
    (0.92, 0.91, 0.955, False),  # about as close to both: no evidence which one was copied
    (0.65, 0.68, 0.80, False),  # credits with other names: a look-alike, closer to the library's other credits
    (0.92, 0.0, 0.955, True),  # the query's stretch does not even align with the other holder
    (0.92, 0.91, 0.98, True),  # the library holds a copy of these moments: no rival at all
    (0.98, 0.95, 0.80, True),  # the query is nearer its source than the library's look-alike is: no rival
])
def test_a_library_rival_loses_when_the_query_is_clearly_closer_to_its_source(
        query_to_source: float, query_to_other: float, library_holds: float, kept: bool) -> None:
    calls: list[int] = []

    def nearest(s: Segment, vid: int, piece: Fingerprint) -> float:
        calls.append(vid)
        return query_to_other

    out = closest_sources(_found(query_to_source), 2.0, 0.6, lambda piece, vid: library_holds, nearest)
    assert (13 in out) is kept
    if library_holds < 0.97 and 2.0 * (1 - query_to_source) > 1 - library_holds:
        assert calls == [13]  # asked only where the library rival would otherwise win
    else:
        assert calls == []


def test_without_a_nearest_check_the_library_rival_wins_as_before() -> None:
    assert closest_sources(_found(0.92), 2.0, 0.6, lambda piece, vid: 0.955) == {}
    assert NEAREST_RATIO > 1.0


def _holder_match(similarity: float, spans: list[tuple[float, float]]) -> PairMatch:
    segs = [Segment(q0=a, q1=b, r0=a, r1=b, similarity=similarity, slope=1.0) for a, b in spans]
    return PairMatch("L08", similarity, segs, reference=_reference())


@pytest.mark.parametrize("spans, similarity, holds", [
    ([(3.0, 9.0)], 0.9, False),  # one look-alike shot (credits) of a 20 s stretch: the other video does not hold it
    ([(0.0, 6.0), (5.0, 9.0)], 0.9, False),  # overlapping segments count once: 9 s of 20
    ([(0.0, 6.0), (8.0, 14.0)], 0.9, True),  # 12 s of 20
    ([(0.0, 20.0)], 0.9, True),
    ([(3.0, 9.0)], 0.98, True),  # a copy of part of it (a short clip cut from it): the library holds these moments twice
])
def test_a_library_video_holds_a_piece_only_over_most_of_it(spans: list[tuple[float, float]], similarity: float,
                                                            holds: bool) -> None:
    # blind suite 2, seed 7103: a 19.6 s copy over cellular automaton, credits, a photograph and life was dropped
    # because another library video's credits (one layout, other names) lined up with its 6 s of credits.
    piece = window(_reference(), 10.0, 30.0)
    assert piece is not None and abs(piece.duration - 20.0) < 0.5
    holders: dict[tuple[int, float, float], int] = {}
    recurs = recurs_in(None, lambda vid: ("L08", _reference()), MatchParams(),
                       lambda piece, index, params, exclude: [(8, 10, np.zeros((0, 3), np.int64))],
                       lambda q, r, hits, params: _holder_match(similarity, spans), holders)
    assert (recurs(piece, 5) == similarity) is holds
    assert (holders == {piece_key(piece, 5): 8}) is holds
    assert covered([Segment(q0=-1.0, q1=4.0, r0=0, r1=5, similarity=1, slope=1)], 10.0) == pytest.approx(0.4)
