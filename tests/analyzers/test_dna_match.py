"""DNA matching on generated clips: a transformed partial copy is found with its bounds; nothing else is."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from openvod.analyzers.dna.fingerprint import Fingerprint, FingerprintOptions, fingerprint_file
from openvod.analyzers.dna.results import video_dna
from openvod.analyzers.dna.search import compare, single_threaded_blas
from tests.analyzers.test_dna_clips import CopyTruth, encode, make_copy, make_source


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    d = tmp_path_factory.mktemp("dna")
    src = make_source(d / "source.mp4", seconds=14.0, seed=1)
    other = make_source(d / "other.mp4", seconds=12.0, seed=5)
    truth = make_copy(d / "copy.mp4", src, 4.0, 10.0, crop=(0.06, 0.04, 0.88, 0.9), flip=True, speed=1.2, crf=34)
    return {"src": src, "other": other, "copy": d / "copy.mp4", "truth": truth, "dir": d}


@pytest.fixture(scope="module")
def fps(clips: dict[str, object]) -> dict[str, Fingerprint]:
    return {k: fingerprint_file(clips[k]) for k in ("src", "other", "copy")}  # type: ignore[arg-type]


def _compare(a: Fingerprint, b: Fingerprint):  # type: ignore[no-untyped-def]
    with single_threaded_blas():
        return compare(a, b)


def test_transformed_segment_copy_is_found_with_bounds(fps: dict[str, Fingerprint], clips: dict[str, object]) -> None:
    t: CopyTruth = clips["truth"]  # type: ignore[assignment]
    m = _compare(fps["copy"], fps["src"])
    assert m is not None
    assert len(m.segments) == 1
    s = m.segments[0]
    assert abs(s.q0 - t.q0) < 1.0 and abs(s.q1 - t.q1) < 1.0, (s, t)
    assert abs(s.r0 - t.r0) < 1.0 and abs(s.r1 - t.r1) < 1.0, (s, t)
    assert abs(s.slope - 1.2) < 0.08
    assert s.transform is not None and s.transform.flip
    assert 0.5 < m.similarity <= 1.0
    data = video_dna([m], fps["copy"])
    entry = data["VideoDNA"][0]
    assert entry["Transform"]["Flip"] is True and "CropBox" in entry["Transform"]
    crop = entry["Transform"]["CropBox"]
    assert abs(float(crop["X"]) - 0.06) < 0.06 and abs(float(crop["Width"]) - 0.88) < 0.08
    assert len(entry["Evidence"]) >= 1


def test_unrelated_clip_matches_nothing(fps: dict[str, Fingerprint]) -> None:
    assert _compare(fps["other"], fps["src"]) is None
    assert _compare(fps["src"], fps["other"]) is None
    assert _compare(fps["copy"], fps["other"]) is None


def test_results_are_deterministic(fps: dict[str, Fingerprint], clips: dict[str, object]) -> None:
    first = video_dna([_compare(fps["copy"], fps["src"])], fps["copy"])  # type: ignore[list-item]
    again_fp = fingerprint_file(clips["copy"])  # type: ignore[arg-type]
    assert again_fp.to_bytes() == fps["copy"].to_bytes()
    second = video_dna([_compare(again_fp, fps["src"])], again_fp)  # type: ignore[list-item]
    assert first == second


def test_wire_shape_and_strings(fps: dict[str, Fingerprint]) -> None:
    data = video_dna([_compare(fps["copy"], fps["src"])], fps["copy"])  # type: ignore[list-item]
    e = data["VideoDNA"][0]
    assert set(e) >= {"PrimaryKey", "Similarity", "Detail"}
    d = e["Detail"][0]
    for part in ("Input", "Duplication"):
        assert set(d[part]) == {"Start", "Duration"}
        assert all(isinstance(v, str) and "." in v for v in d[part].values())
    assert isinstance(e["Similarity"], str) and 0 <= float(e["Similarity"]) <= 1


def test_flat_and_black_frames_never_match(tmp_path: Path) -> None:
    black = [np.zeros((180, 320, 3), np.uint8)] * 60
    grey = [np.full((180, 320, 3), 128, np.uint8)] * 60
    a = fingerprint_file(encode(tmp_path / "a.mp4", black + grey + black, 15))
    b = fingerprint_file(encode(tmp_path / "b.mp4", grey + black, 15))
    assert a.flat.all() and a.codes.shape[0] == 0
    assert _compare(a, b) is None and _compare(b, a) is None


def test_fingerprint_round_trip_and_sampling(fps: dict[str, Fingerprint]) -> None:
    fp = fps["src"]
    again = Fingerprint.from_bytes(fp.to_bytes())
    assert np.array_equal(again.thumbs, fp.thumbs) and np.array_equal(again.codes, fp.codes)
    assert again.box == fp.box and again.options_key == FingerprintOptions().key()
    step = np.diff(fp.times)
    assert abs(float(np.median(step)) - 0.25) < 0.05  # 4 samples per second, by presentation time
    assert abs(fp.duration - 14.0) < 0.3


def test_copy_spliced_from_two_sources_and_reordered(tmp_path: Path, clips: dict[str, object], fps: dict[str, Fingerprint]) -> None:
    from tests.analyzers.test_dna_clips import decode, draw_frames

    src = decode(clips["src"])  # type: ignore[arg-type]
    oth = decode(clips["other"])  # type: ignore[arg-type]
    fr = 15
    # source[8:13] then other[1:6] then source[1:6]: three segments, reordered, two sources.
    frames = draw_frames(1.0, fr, 42) + [f for t, f in src if 8 <= t < 13] + [f for t, f in oth if 1 <= t < 6] \
        + [f for t, f in src if 1 <= t < 6]
    q = fingerprint_file(encode(tmp_path / "splice.mp4", frames, fr, crf=28))
    ms = _compare(q, fps["src"])
    mo = _compare(q, fps["other"])
    assert ms is not None and mo is not None
    got = sorted((round(s.q0), round(s.r0)) for s in ms.segments)
    assert [(a, b) for a, b in got] == [(1, 8), (11, 1)], ms.segments
    assert [(round(s.q0), round(s.r0)) for s in mo.segments] == [(6, 1)]
