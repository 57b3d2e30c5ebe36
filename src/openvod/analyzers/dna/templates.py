"""Library templates: short moments the library holds in several videos are no evidence of a copy.

A channel's intro or outro bumper, a show's opening titles, a leader: the same few seconds open or
close many library videos. Look-alike footage (the same bumper animation in other colours with
another title, the next episode's opening) matches such a moment about as well as a copy does, and
even a real copy of it could not say which library video it was taken from. So a *short* matched
segment whose library moments also appear in another library video is dropped (the way a text
search ignores stop words); a pair keeps its other segments, and a pair left with none is no match.

Long shared stretches (a library that holds the same programme twice) are not templates: segments
of at least ``template_max_s``, or over half their library video (a short clip held twice), are never
checked, so a real copy of them is still reported against every library video that holds it.
Pure: the caller says whether a piece of a library video recurs elsewhere in the library
(``search.search`` asks its own index and verification).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from openvod.analyzers.dna.fingerprint import Fingerprint
from openvod.analyzers.dna.segments import evidence_span, narrowed

TEMPLATE_MARGIN_S = 0.5  # library time kept around a segment's span when it is looked up elsewhere
MAX_TEMPLATE_CHECKS = 3  # other library videos verified per segment (best supported first)
# A template is a part of a video around other content: a segment over most of its library video is the
# video itself (the library holds a short clip twice, a re-upload), and a copy of it is reported.
TEMPLATE_MAX_SHARE = 0.5
TEMPLATE_MIN_SEGMENT_S = 1.5  # shortest stretch of a piece that counts as held by another library video
# ... and the share of the piece another library video's segments must cover to hold it: a look-alike of one shot
# (a credits roll) inside a long matched stretch does not hold the stretch, as a pair rival must cover half a segment;
# a copy of part of it (``DUPLICATE_SIMILARITY``: a short clip cut from it) does.
HELD_SHARE = 0.5
DUPLICATE_SIMILARITY = 0.97  # a library video this similar to another's moments holds a copy of them


def window(fp: Fingerprint, t0: float, t1: float) -> Fingerprint | None:
    """The fingerprint of ``fp``'s moments t0..t1 (times from 0), or None if it holds no code."""
    rows = np.nonzero((fp.times >= t0) & (fp.times <= t1))[0]
    if rows.size < 3:
        return None
    keep = np.isin(fp.code_frame, rows)
    if not keep.any():
        return None
    remap = np.full(fp.n, -1, np.int64)
    remap[rows] = np.arange(rows.size)
    start = float(fp.times[rows[0]])
    return Fingerprint(
        times=(fp.times[rows] - start).astype(np.float32), thumbs=fp.thumbs[rows], flat=fp.flat[rows],
        code_frame=remap[fp.code_frame[keep]].astype(np.int32), code_geom=fp.code_geom[keep],
        codes=fp.codes[keep], codes_flip=fp.codes_flip[keep], duration=float(fp.times[rows[-1]]) - start + fp.step,
        width=fp.width, height=fp.height, box=fp.box, options_key=fp.options_key, info={**fp.info, "t0": start},
    )


def library_piece(m: Any, s: Any) -> Fingerprint | None:
    """The library moments a segment of a pair (``search.PairMatch``) matched, with ``TEMPLATE_MARGIN_S`` around."""
    return window(m.reference, min(s.r0, s.r1) - TEMPLATE_MARGIN_S, max(s.r0, s.r1) + TEMPLATE_MARGIN_S)


def piece_key(piece: Fingerprint, vid: int) -> tuple[int, float, float]:
    """The cache key of a piece (``window``) of library video ``vid``."""
    return (vid, float(piece.info.get("t0", 0.0)), piece.duration)


def covered(segments: list[Any], duration: float) -> float:
    """Share of ``duration`` seconds of query time that the segments' query spans cover (overlaps counted once)."""
    spans = sorted((max(0.0, s.q0), min(duration, s.q1)) for s in segments)
    total, end = 0.0, 0.0
    for a, b in spans:
        a = max(a, end)
        if b > a:
            total, end = total + b - a, b
    return total / duration if duration > 0 else 0.0


def recurs_in(index: Any, load: Callable[[int], Any], params: Any, candidates: Callable[..., Any],
              verify: Callable[..., Any], holders: dict[tuple[int, float, float], int] | None = None
              ) -> Callable[[Fingerprint, int], float]:
    """``recurs(piece, video)``: how similar (``PairMatch.similarity``, 0.0: not at all) the closest other
    library video that also holds a piece of a library video is (``search.candidates`` on the index,
    then ``search.verify`` with the same thresholds, its segments covering ``HELD_SHARE`` of the piece unless it is a
    copy of a part of it); cached per piece. ``holders`` (if given) gets that
    other video by ``piece_key``."""

    # The piece is a few seconds cut out of a video: its first or last moments may be a cut or a fade,
    # so a shorter stretch of it than a reported segment is enough to say it recurs.
    short = replace(params, align=replace(params.align, min_segment_s=min(params.align.min_segment_s, TEMPLATE_MIN_SEGMENT_S)))

    seen: dict[tuple[int, float, float], float] = {}

    def recurs(piece: Fingerprint, vid: int) -> float:
        key = piece_key(piece, vid)
        if key not in seen:
            best = 0.0
            for other, _, hits in candidates(piece, index, short, {vid})[:MAX_TEMPLATE_CHECKS]:
                loaded = load(other)
                m = verify(piece, loaded[1], hits, short) if loaded is not None else None
                if m is not None and m.similarity > best and (
                        m.similarity >= DUPLICATE_SIMILARITY or covered(m.segments, piece.duration) >= HELD_SHARE):
                    best = m.similarity
                    if holders is not None:
                        holders[key] = other
            seen[key] = best
        return seen[key]

    return recurs


def distinctive(found: dict[int, Any], recurs: Callable[[Fingerprint, int], float], max_s: float,
                min_similarity: float = 0.0) -> list[Any]:
    """The matches (``search.PairMatch``, by library video) less their template segments.

    A segment shorter than ``max_s`` on its shorter timeline whose library span (``reference``)
    ``recurs(piece, video)`` in another library video is dropped; the pair's similarity is then
    recomputed over the segments left (``segments.pair_similarity``, as ``search.verify`` does), and a pair
    left with none, or now below ``min_similarity``, is dropped. ``max_s`` 0 turns the check off.
    """
    out = []
    for vid, m in found.items():
        if max_s > 0 and m.reference is not None:
            kept = []
            for s in m.segments:
                if evidence_span(s) < max_s and abs(s.r1 - s.r0) < TEMPLATE_MAX_SHARE * m.reference.duration:
                    piece = library_piece(m, s)
                    if piece is not None and recurs(piece, vid) > 0:
                        continue
                kept.append(s)
            m = narrowed(m, kept, min_similarity)
        if m is not None:
            out.append(m)
    return out
