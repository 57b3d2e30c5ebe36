"""Sampling in time: the temporal mean of a sample's slot, and the short-segment rule on both timelines.

A copy embedded at an arbitrary offset (or re-timed) is sampled at other instants than its source.
For content that changes every frame (cellular automata, fast scrolling, noise), one frame per
sample then shows another picture on each side; the mean over the sample's slot does not.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.dna.content import Program, Shot, render
from openvod.analyzers.dna import features as ft
from openvod.analyzers.dna.align import Segment
from openvod.analyzers.dna.fingerprint import FingerprintOptions, decode_samples, fingerprint_file
from openvod.analyzers.dna.search import evidence_span
from tests.analyzers.test_dna_clips import encode

FPS = 24
SIZE = (320, 180)


@pytest.fixture(scope="module")
def automata(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, float]:
    """A scrolling cellular automaton and a copy of it that starts 5 frames (0.21 s) late, as an
    embedded copy does: the copy's samples fall between the source's."""
    d = tmp_path_factory.mktemp("dna-sampling")
    frames = list(render(Program([Shot("lavfi", 10.0, {"source": "cellauto", "seed": 3, "hue": 0.0})]), SIZE, FPS))
    src = encode(d / "src.mp4", frames, FPS, crf=20)
    lag = 5
    copy = encode(d / "copy.mp4", frames[lag:], FPS, crf=26)
    return src, copy, lag / FPS


def _aligned_distance(src: Path, copy: Path, lag: float, opts: FingerprintOptions) -> tuple[float, float]:
    """Median code distance and mean thumbnail difference between each copy sample and the source
    sample nearest to the same source moment."""
    a, b = fingerprint_file(src, opts), fingerprint_file(copy, opts)
    ga = ft.hash_windows(b.thumbs[:, :, :].astype(np.float32).reshape(-1, 16, 2, 16, 2).mean(axis=(2, 4)))[0]
    gs = ft.hash_windows(a.thumbs.astype(np.float32).reshape(-1, 16, 2, 16, 2).mean(axis=(2, 4)))[0]
    j = np.clip(np.searchsorted(a.times, b.times + lag), 1, a.n - 1)
    j = np.where(np.abs(a.times[j - 1] - (b.times + lag)) < np.abs(a.times[j] - (b.times + lag)), j - 1, j)
    keep = (b.times + lag) < a.times[-1] - 0.3
    d = ft.hamming(ga[keep], gs)[np.arange(int(keep.sum())), j[keep]]
    diff = np.abs(b.thumbs[keep].astype(np.float32) - a.thumbs[j[keep]].astype(np.float32)).mean()
    return float(np.median(d)), float(diff)


def test_the_temporal_mean_keeps_fast_changing_content_comparable(automata: tuple[Path, Path, float]) -> None:
    src, copy, lag = automata
    d1, t1 = _aligned_distance(src, copy, lag, FingerprintOptions(sample_frames=1))
    d4, t4 = _aligned_distance(src, copy, lag, FingerprintOptions(sample_frames=4))
    assert t4 < 0.8 * t1, (t1, t4)
    assert d4 < d1, (d1, d4)


def test_a_sample_is_timed_at_its_slot_first_frame(automata: tuple[Path, Path, float]) -> None:
    src, _, _ = automata
    one = decode_samples(src, FingerprintOptions(sample_frames=1))
    four = decode_samples(src, FingerprintOptions(sample_frames=4))
    assert one.times.tolist() == four.times.tolist()  # the same grid: the first frame at or after each 1/4 s
    assert four.pictures.shape == one.pictures.shape
    assert not np.array_equal(four.pictures, one.pictures)  # ... but each picture is its slot's mean


def test_short_means_short_on_either_timeline() -> None:
    # 5.5 s of the query against 3.5 s of the library video (speed 0.63): the evidence is 3.5 s long.
    s = Segment(10.0, 15.5, 2.0, 5.5, 0.74, 0.636)
    assert evidence_span(s) == pytest.approx(3.5)
    fast = Segment(0.0, 3.0, 0.0, 6.0, 0.9, 2.0)  # 2x: 3 s of the query, 6 s of the library
    assert evidence_span(fast) == pytest.approx(3.0)
    back = Segment(0.0, 6.0, 4.0, 10.0, 0.9, 1.0, reversed=True)
    assert evidence_span(back) == pytest.approx(6.0)


def test_the_area_scaler_keeps_levels_and_sampling_of_the_box_average(automata: tuple[Path, Path, float]) -> None:
    """``scaler="area"`` (swscale, the default) samples the same frames as the exact box average, keeps
    the stored luma levels (no limited-to-full range expansion) and gives nearly the same pictures; it
    is its own fingerprint (another options key), while ``box`` keeps the key from before the option."""
    src, _, _ = automata
    box = decode_samples(src, FingerprintOptions(scaler="box"))
    area = decode_samples(src, FingerprintOptions())
    assert box.times.tolist() == area.times.tolist() and box.pictures.shape == area.pictures.shape
    a, b = area.pictures.astype(np.float32), box.pictures.astype(np.float32)
    assert abs(float(a.mean() - b.mean())) < 1.0  # same levels
    assert abs(float(a.std() / b.std()) - 1.0) < 0.15  # no range expansion (x 1.16)
    assert float(np.abs(a - b).mean()) < 6.0, float(np.abs(a - b).mean())
    assert '"scaler"' not in FingerprintOptions(scaler="box").key()
    assert FingerprintOptions(scaler="box").key() != FingerprintOptions().key()
    with pytest.raises(KeyError):
        decode_samples(src, FingerprintOptions(scaler="lanczos"))
