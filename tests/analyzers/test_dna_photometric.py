"""A copy whose contrast was cut in half and gamma raised (a pale, washed-out re-upload of soft footage)
is found with its bounds, with the default settings: flatness is judged against the video's own
contrast (features.flat_mask), so the copy's pictures keep their codes and their place in the alignment."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from openvod.analyzers.dna.features import flat_mask
from openvod.analyzers.dna.fingerprint import fingerprint_file
from openvod.analyzers.dna.search import compare, single_threaded_blas
from openvod.config import DNASettings
from openvod.engine.analyzer_options import fingerprint_options, match_params
from tests.analyzers.test_dna_clips import draw_frames, encode

SETTINGS = DNASettings()
FPS = 15


def _soft(frames: list[np.ndarray], contrast: float) -> list[np.ndarray]:
    return [np.clip((f.astype(np.float32) - 128.0) * contrast + 128.0, 0, 255).astype(np.uint8) for f in frames]


def _photometric(frames: list[np.ndarray], contrast: float, gamma: float, brightness: float) -> list[np.ndarray]:
    out = []
    for f in frames:
        x = np.clip((f.astype(np.float32) - 128.0) * contrast + 128.0 + brightness, 0, 255) / 255.0
        out.append((255.0 * x ** (1.0 / gamma)).round().astype(np.uint8))
    return out


def test_flat_mask_is_relative_to_the_videos_contrast() -> None:
    std = np.array([0.3, 1.5, 4.5, 5.0, 4.8, 30.0])
    assert flat_mask(std, 6.0).tolist() == [True, True, True, True, True, False]
    assert flat_mask(std, 6.0, 0.5).tolist() == [True, True, False, False, False, False]  # typical 4.9: below 2.45 is flat
    assert flat_mask(np.array([0.0, 0.5]), 6.0, 0.5).tolist() == [True, True]  # all black stays black
    assert flat_mask(np.array([10.0, 12.0, 40.0]), 6.0, 0.5).tolist() == [False, False, False]  # never above flat_std


@pytest.mark.parametrize(("contrast", "gamma", "brightness"), [(0.5, 1.6, 0.0), (0.55, 0.6, -20.0)])
def test_pale_copy_of_soft_footage_is_found_with_its_bounds(tmp_path: Path, contrast: float, gamma: float,
                                                              brightness: float) -> None:
    src_frames = _soft(draw_frames(24.0, FPS, seed=31), 0.3)
    source = encode(tmp_path / "src.mp4", src_frames, FPS)
    r0, r1 = 6.0, 16.0
    filler = _soft(draw_frames(4.0, FPS, seed=77), 0.3)
    copy = src_frames[int(r0 * FPS): int(r1 * FPS)]
    query = encode(tmp_path / "q.mp4", _photometric(filler + copy, contrast, gamma, brightness), FPS, crf=26)
    opts = fingerprint_options(SETTINGS)
    with single_threaded_blas():
        m = compare(fingerprint_file(query, opts), fingerprint_file(source, opts), match_params(SETTINGS))
    assert m is not None and m.segments, m
    q0, q1 = min(s.q0 for s in m.segments), max(s.q1 for s in m.segments)
    rr0, rr1 = min(s.r0 for s in m.segments), max(s.r1 for s in m.segments)
    assert max(abs(q0 - 4.0), abs(q1 - 14.0), abs(rr0 - r0), abs(rr1 - r1)) < 1.0, m.segments
