"""Segments follow the copy: ends are not run past it over look-alike footage, short copies inside long
videos and re-ordered parts are found with bounds within a second (default settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from openvod.analyzers.dna.align import RegionDescriptors, Segment
from openvod.analyzers.dna.fingerprint import fingerprint_file
from openvod.analyzers.dna.search import compare, segment_evidence, single_threaded_blas
from openvod.analyzers.dna.segments import (extend_over_blank, picture_change, trim_uncorrelated_ends, unit_speed_if_still,
                                            with_still_pieces)
from openvod.config import DNASettings
from openvod.engine.analyzer_options import match_params
from tests.analyzers.test_dna_clips import decode, encode, make_copy, make_source

SETTINGS = DNASettings()


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _lookalike_tail(seed: int, copy_s: float, tail_s: float) -> tuple[RegionDescriptors, np.ndarray, np.ndarray, Segment]:
    """Query = a copy of reference [10, 10 + copy_s) with coding noise, then a still picture that looks
    like the reference's (slowly changing) next shot about as well as that shot looks like itself."""
    rng = np.random.default_rng(seed)
    tr = np.arange(0, 40, 0.25)
    base = rng.normal(size=(1, 256))
    ref = base + np.cumsum(rng.normal(scale=0.5, size=(tr.size, 256)), axis=0)  # slowly drifting picture
    tq = np.arange(0, copy_s + tail_s, 0.25)
    n_copy = int(copy_s / 0.25)
    q = np.empty((tq.size, 256))
    q[:n_copy] = ref[40:40 + n_copy] + rng.normal(scale=0.03, size=(n_copy, 256))
    if tq.size > n_copy:
        still = ref[40 + n_copy: 40 + tq.size].mean(axis=0)
        q[n_copy:] = still + rng.normal(scale=0.03, size=(tq.size - n_copy, 256))
    desc = RegionDescriptors(_unit(q), _unit(ref), np.ones(tq.size, bool), np.ones(tr.size, bool))
    end = copy_s + tail_s
    return desc, tq, tr, Segment(0.0, end, 10.0, 10.0 + end, 0.95, 1.0)


def _trim(desc: RegionDescriptors, tq: np.ndarray, tr: np.ndarray, s: Segment, **kw: Any) -> Segment:
    sim = desc.similarity()
    return trim_uncorrelated_ends(s, lambda x: segment_evidence(x, sim, desc, tq, tr)[1], tq, desc.q_valid,
                                  tr, desc.r_valid, SETTINGS.end_trim_window_s, SETTINGS.end_trim_correlation, SETTINGS.min_segment_s,
                                  lambda i, j: max(picture_change(desc.q[i]), picture_change(desc.r[j])), SETTINGS.min_motion_floor,
                                  **kw)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_end_is_pulled_in_over_a_lookalike_still_tail(seed: int) -> None:
    desc, tq, tr, s = _lookalike_tail(seed, copy_s=3.5, tail_s=3.5)
    out = _trim(desc, tq, tr, s)
    assert abs(out.q1 - 3.5) < 1.0 and abs(out.r1 - 13.5) < 1.0, out
    assert out.q0 == s.q0 and out.r0 == s.r0 and out.slope == s.slope


def test_a_copy_that_correlates_throughout_keeps_its_bounds() -> None:
    desc, tq, tr, s = _lookalike_tail(4, copy_s=8.0, tail_s=0.0)
    assert _trim(desc, tq, tr, s) is s


def test_blank_ends_are_no_evidence_against_the_copy() -> None:
    desc, tq, tr, s = _lookalike_tail(5, copy_s=4.0, tail_s=3.0)
    desc.q_valid[16:] = False  # the tail is a fade to black: extend_over_blank's territory, not trimmed
    assert _trim(desc, tq, tr, s) is s


def test_changes_at_noise_level_are_no_evidence_against_the_copy() -> None:
    desc, tq, tr, s = _lookalike_tail(7, copy_s=3.5, tail_s=3.5)
    n = int(3.5 / 0.25)
    rng = np.random.default_rng(7)  # the tail: a picture that barely drifts on both sides (clouds), uncorrelated noise
    desc.q[n:] = _unit(desc.q[n] + rng.normal(scale=1e-3, size=desc.q[n:].shape))
    desc.r[40 + n: 40 + tq.size] = _unit(desc.q[n] + rng.normal(scale=1e-3, size=(tq.size - n, desc.r.shape[1])))
    assert _trim(desc, tq, tr, s) is s


def test_reversed_sub_segment_keeps_the_line() -> None:
    desc, tq, tr, s = _lookalike_tail(6, copy_s=3.5, tail_s=3.5)
    rev = Segment(s.q0, s.q1, s.r0, s.r1, s.similarity, s.slope, reversed=True)
    out = trim_uncorrelated_ends(rev, lambda x: -1.0 if x.q1 > 4.0 else 1.0, tq, desc.q_valid, tr, desc.r_valid, 1.0, 0.3, 2.5)
    assert out.reversed and out.q1 <= 4.0 + 1e-9
    assert abs(out.r0 - (rev.r1 - out.q1)) < 1e-9 and abs(out.r1 - rev.r1) < 1e-9  # q0 still shows r1


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_source(tmp_path_factory.mktemp("ends") / "src.mp4", seconds=30.0, seed=11)


def _match(q: Path, src: Path):  # type: ignore[no-untyped-def]
    with single_threaded_blas():
        return compare(fingerprint_file(q), fingerprint_file(src), match_params(SETTINGS))


def test_three_second_copy_inside_a_long_unrelated_video(tmp_path: Path, source: Path) -> None:
    truth = make_copy(tmp_path / "q.mp4", source, 16.1, 19.1, before_s=15.0, after_s=14.0, filler_seed=22, crf=28)
    m = _match(tmp_path / "q.mp4", source)
    assert m is not None and len(m.segments) == 1, m
    s = m.segments[0]
    assert abs(s.q0 - truth.q0) < 1.0 and abs(s.q1 - truth.q1) < 1.0, (s, truth)
    assert abs(s.r0 - truth.r0) < 1.0 and abs(s.r1 - truth.r1) < 1.0, (s, truth)


def test_reorder_of_three_parts_gives_three_segments(tmp_path: Path, source: Path) -> None:
    frames, truth, t, fps = [], [], 0.0, 15
    src = decode(source)
    for a, b in [(20.2, 26.0), (1.1, 7.5), (11.0, 16.0)]:
        part = [f for ts, f in src if a <= ts < b]
        truth.append((t, t + len(part) / fps, a, b))
        t += len(part) / fps
        frames += part
    m = _match(encode(tmp_path / "reorder.mp4", frames, fps, crf=28), source)
    assert m is not None and len(m.segments) == 3, m
    for s, (q0, q1, r0, r1) in zip(sorted(m.segments, key=lambda s: s.q0), truth, strict=True):
        assert max(abs(s.q0 - q0), abs(s.q1 - q1), abs(s.r0 - r0), abs(s.r1 - r1)) < 1.0, (s, (q0, q1, r0, r1))


def _seg(q0: float, q1: float, r0: float, r1: float, sim: float, slope: float, motion: float) -> Segment:
    s = Segment(q0, q1, r0, r1, sim, slope)
    s.motion = motion
    return s


def test_still_piece_is_kept_only_beside_a_confirmed_segment() -> None:
    moving, still = _seg(0, 5, 10, 15, 0.97, 1.0, 0.5), _seg(5, 10, 30, 35, 0.995, 1.0, 0.001)
    moves, rest = (lambda s: s.motion >= 0.04), (lambda s: True)
    assert with_still_pieces([moving, still], moves, rest, 0.98) == [moving, still]
    assert with_still_pieces([still], moves, rest, 0.98) == []  # a still picture alone is no evidence
    assert with_still_pieces([moving, still], moves, rest, 2.0) == [moving]  # off
    assert with_still_pieces([moving, still], moves, lambda s: False, 0.98) == [moving]  # must pass the other checks
    blurry = _seg(5, 10, 30, 35, 0.95, 1.0, 0.001)
    assert with_still_pieces([moving, blurry], moves, rest, 0.98) == [moving]


def test_still_segment_is_measured_at_unit_speed() -> None:
    def evidence(x: Segment) -> tuple[float, float]:  # correlates best at speed 1 from r0 = 30.25
        return 0.001, 1.0 - abs(x.r0 - 30.25) - 5 * abs(x.slope - 1.0)

    still = _seg(0, 6, 30.5, 35.3, 0.997, 0.8, 0.001)
    unit_speed_if_still(still, evidence, lambda m, v: m < 0.04 and v >= 0.98)
    assert still.slope == 1.0 and abs(still.r0 - 30.25) < 0.1 and abs(still.r1 - still.r0 - 6.0) < 1e-9, still
    moving = _seg(0, 6, 30.5, 35.3, 0.997, 0.8, 0.5)
    unit_speed_if_still(moving, lambda x: (0.5, 0.9), lambda m, v: m < 0.04 and v >= 0.98)
    assert moving.slope == 0.8 and moving.r0 == 30.5 and moving.correlation == 0.9


@pytest.mark.parametrize(("raw_sim", "extended"), [(0.98, True), (0.3, False)])
def test_samples_flat_on_one_side_extend_the_copy_when_the_pictures_match(raw_sim: float, extended: bool) -> None:
    tq = np.arange(0, 10, 0.25)
    tr = np.arange(0, 30, 0.25)
    q_valid = np.ones(tq.size, bool)
    r_valid = np.ones(tr.size, bool)
    r_valid[(tr >= 10) & (tr < 12)] = False  # the library's faint fade-in, which the copy brightened
    s = Segment(1.875, 10.0, 11.875, 20.0, 0.97, 1.0)  # starts half a sample before its first matched sample
    out = extend_over_blank([s], tq, tr, 10.0, 30.0, q_valid, r_valid, lambda i, j: raw_sim)[0]
    assert (out.q0 < 0.3 and abs(out.r0 - 10.0) < 0.3) if extended else out.q0 == s.q0, out


@pytest.mark.parametrize(("query_flat", "library_flat", "extended"),
                         [(True, True, True), (False, False, True), (True, False, False), (False, True, True)])
def test_both_blank_means_alike_whole_pictures(query_flat: bool, library_flat: bool, extended: bool) -> None:
    """Both sides featureless over the shared region: black in both (flat whole pictures), a copy of a
    texture too fine for the descriptors (textured in both), or a picture-in-picture copy's black moment
    (the query's whole frame shows other footage too) carries the copy back; a faint title card of the
    query (flat) over a brick wall of the library (textured) does not (a 160x90 tuning query: the
    segment began 3.7 s early)."""
    tq = np.arange(0, 10, 0.25)
    tr = np.arange(0, 30, 0.25)
    q_valid = np.ones(tq.size, bool)
    r_valid = np.ones(tr.size, bool)
    q_valid[tq < 2] = False
    r_valid[(tr >= 10) & (tr < 12)] = False
    flat = (~q_valid if query_flat else np.zeros(tq.size, bool), ~r_valid if library_flat else np.zeros(tr.size, bool))
    s = Segment(1.875, 10.0, 11.875, 20.0, 0.97, 1.0)
    out = extend_over_blank([s], tq, tr, 10.0, 30.0, q_valid, r_valid, lambda i, j: 0.0, flat)[0]
    assert (out.q0 < 0.3 and abs(out.r0 - 10.0) < 0.3) if extended else out.q0 == s.q0, out
    assert extend_over_blank([s], tq, tr, 10.0, 30.0, q_valid, r_valid, lambda i, j: 0.0)[0].q0 < 0.3  # without ``flat``: as before


def _still_start(seed: int, correlation: float) -> tuple[RegionDescriptors, np.ndarray, np.ndarray, Segment]:
    """A copy whose first 3 s are a nearly still picture (a title, a held frame: the same picture on both
    sides, each with its own small changes) before 6 s of moving content."""
    rng = np.random.default_rng(seed)
    tr = np.arange(0, 40, 0.25)
    ref = rng.normal(size=(1, 256)) + np.cumsum(rng.normal(scale=0.5, size=(tr.size, 256)), axis=0)
    held = rng.normal(size=256) * 3.0
    ref[40:52] = held + rng.normal(scale=0.35, size=(12, 256))  # reference 10-13 s: nearly still
    tq = np.arange(0, 9, 0.25)
    q = ref[40:40 + tq.size] + rng.normal(scale=0.03, size=(tq.size, 256))
    q[:12] = held + rng.normal(scale=0.35, size=(12, 256))  # the copy's own small changes there
    desc = RegionDescriptors(_unit(q), _unit(ref), np.ones(tq.size, bool), np.ones(tr.size, bool))
    return desc, tq, tr, Segment(0.0, 9.0, 10.0, 19.0, 0.95, 1.0, correlation=correlation)


@pytest.mark.parametrize(("correlation", "kept"), [(0.95, True), (0.5, False)])
def test_a_nearly_still_start_of_a_confirmed_copy_is_kept(correlation: float, kept: bool) -> None:
    """Tuning4 q_pip_small_0 lost 1.8 s: its start moves too little to correlate although it shows the
    copy's own pictures. Kept when the segment's changes confirm its line elsewhere; a weakly correlated
    line (a wrong line through a still scene matches at any offset) is trimmed as before."""
    desc, tq, tr, s = _still_start(3, correlation)
    moves = max(picture_change(desc.q[:12]), picture_change(desc.r[40:52]))
    assert SETTINGS.min_motion_floor < moves < SETTINGS.min_motion  # nearly still, not at noise level
    sim = desc.similarity()
    assert _trim(desc, tq, tr, s).q0 > 2.0  # without the likeness: trimmed (the behaviour before)
    out = _trim(desc, tq, tr, s, likeness=lambda i, j: float(sim[i, j].mean()), still_motion=SETTINGS.min_motion,
                strong_correlation=SETTINGS.min_short_correlation)
    assert (out.q0 == 0.0) if kept else out.q0 > 2.0, out
