"""Shot detection on generated frame sequences: hard cuts, fades through black, dissolves, and a pan
that must not read as either."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from openvod.analyzers.image.samples import iter_samples
from openvod.analyzers.image.shots import ShotDetector, signature
from openvod.pipeline import open_media
from tests.analyzers.imagegen import picture, view, write_video

SIZE = (160, 90)  # the analysis uses 160-px-wide RGB for signatures
STEP = 0.25  # 4 samples per second


def _run(frames: list[np.ndarray]):  # type: ignore[no-untyped-def]
    det = ShotDetector()
    for i, f in enumerate(frames):
        det.add(i * STEP, signature(f))
    return det.finish()


def _scene(seed: int, n: int) -> list[np.ndarray]:
    pic = picture(seed, 480, 270)
    return [view(pic, k / max(1, n - 1), SIZE) for k in range(n)]


def test_hard_cuts_split_shots() -> None:
    frames = _scene(1, 12) + _scene(2, 12) + _scene(3, 12)
    res = _run(frames)
    assert res.cuts == [12 * STEP, 24 * STEP]
    assert res.transitions == []
    assert [(s.first, s.last, s.starts_with) for s in res.shots] == [(0, 11, "start"), (12, 23, "cut"), (24, 35, "cut")]


def test_fade_through_black_is_a_transition() -> None:
    a, b = _scene(1, 10), _scene(2, 10)
    black = np.zeros_like(a[0])
    fade_out = [(a[-1] * k).astype(np.uint8) for k in (0.8, 0.6, 0.4, 0.2)]
    fade_in = [(b[0] * k).astype(np.uint8) for k in (0.2, 0.4, 0.6, 0.8)]
    frames = a + fade_out + [black] * 3 + fade_in + b
    res = _run(frames)
    assert [t.kind for t in res.transitions] == ["fade", "fade"]
    inside = [i for i, s in enumerate(res.shot_of) if s == -1]
    assert set(range(10, 14)) <= set(inside) and set(range(17, 21)) <= set(inside)
    assert res.cuts == []
    # A, the black stretch and B are the shots; no fade frame belongs to one.
    assert len(res.shots) == 3 and res.shots[-1].starts_with == "fade"


def test_dissolve_is_a_transition() -> None:
    a, b = _scene(3, 10), _scene(4, 10)
    mix = [((1 - k) * a[-1] + k * b[0]).astype(np.uint8) for k in (0.2, 0.4, 0.6, 0.8)]
    res = _run(a + mix + b)
    assert [t.kind for t in res.transitions] == ["dissolve"]
    tr = res.transitions[0]
    assert tr.first <= 9 and tr.last >= 14
    assert all(res.shot_of[i] == -1 for i in range(10, 14))
    assert res.cuts == []


def test_fast_pan_is_neither_cut_nor_transition() -> None:
    wide = picture(5, 1600, 270)
    frames = [cv2.resize(wide[:, x : x + 480], SIZE, interpolation=cv2.INTER_AREA) for x in range(0, 1100, 40)]
    res = _run(frames)
    assert res.cuts == [] and res.transitions == []
    assert len(res.shots) == 1


def test_cuts_found_in_a_decoded_video(tmp_path: Path) -> None:
    size = (320, 180)
    frames = []
    for seed in (11, 12, 13):
        pic = picture(seed, 640, 360)
        frames += [view(pic, k / 49, size) for k in range(50)]  # 2 s per shot at 25 fps
    path = write_video(tmp_path / "cuts.mp4", frames)
    det = ShotDetector()
    for s in iter_samples(open_media(path), 4.0, mid_width=320):
        det.add(s.t, signature(s.small))
    res = det.finish()
    assert len(res.cuts) == 2
    assert abs(res.cuts[0] - 2.0) <= 0.3 and abs(res.cuts[1] - 4.0) <= 0.3
