"""layout.stretches: runs of samples framed on their own (a padded or 9:16 copy between full-frame footage).

Pictures here are synthetic working pictures (what ``fingerprint.decode_samples`` keeps): textured
full-frame samples around a stretch whose picture is letterboxed in one colour, or a band of rows
over a blurred, moving surround in a portrait frame. Content that is merely flat or smooth at its
edges (a sky gradient, credits on black) is no stretch: a spurious box would crop a library video's
thumbnails where its copies are not cropped.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.ndimage import gaussian_filter

from openvod.analyzers.dna.layout import STRETCH_WINDOW, active_box, sample_boxes, stretches


def _texture(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    return rng.integers(30, 225, (h, w)).astype(np.uint8)


def _letterboxed(n: int = 60, a: int = 20, b: int = 45, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pics = np.stack([_texture(rng, 96, 96) for _ in range(n)])
    pics[a:b, :16] = 40
    pics[a:b, 80:] = 40
    return pics


def test_a_letterboxed_stretch_between_full_frame_footage_is_found_to_the_sample() -> None:
    pics = _letterboxed()
    whole = active_box(pics)
    assert whole == (0, 0, 96, 96)  # the video as a whole has no padding
    runs = stretches(pics, whole)
    assert len(runs) == 1
    a, b, box = runs[0]
    assert (a, b) == (20, 45) and box == (0, 16, 96, 80)
    boxes = sample_boxes(len(pics), whole, runs)
    assert (boxes[20] == (0, 16, 96, 80)).all() and (boxes[19] == whole).all() and (boxes[45] == whole).all()


def test_a_9_16_band_over_its_blurred_copy_between_full_frame_footage_is_found() -> None:
    rng = np.random.default_rng(1)
    pics = np.stack([_texture(rng, 192, 96) for _ in range(60)])
    for i in range(20, 48):
        band = _texture(rng, 54, 96)
        surround = gaussian_filter(rng.integers(0, 255, (192, 96)).astype(np.float32), 12) * 0.7 + 20 + i
        pics[i] = surround.clip(0, 255).astype(np.uint8)
        pics[i, 70:124] = band
    runs = stretches(pics, (0, 0, 96, 192), frame_aspect=9 / 16)
    assert len(runs) == 1
    a, b, box = runs[0]
    assert abs(a - 20) <= 1 and abs(b - 48) <= 1 and abs(box[1] - 70) <= 2 and abs(box[3] - 124) <= 2


def test_smooth_or_dark_edges_of_content_are_no_frame() -> None:
    rng = np.random.default_rng(2)
    sky = np.stack([_texture(rng, 96, 96) for _ in range(40)])
    sky[:, :20] = np.linspace(90, 200, 20)[None, :, None].astype(np.uint8)  # a gradient sky: rows flat, levels not one colour
    sky[:, 84:] = 60
    assert stretches(sky, (0, 0, 96, 96)) == []
    credits = np.zeros((40, 96, 96), np.uint8)  # text on black: black "pads" around black picture edges
    for i in range(40):
        credits[i, 40 + (i % 8) : 44 + (i % 8), 30:66] = 230
    assert stretches(credits, (0, 0, 96, 96)) == []


def test_a_turned_landscape_is_no_band() -> None:
    # A wide video turned by 90 degrees is a portrait frame with smooth content at its ends (sky, ground):
    # without a straight border at both ends of its detailed middle it is not a picture over a blurred copy.
    rng = np.random.default_rng(3)
    pics = np.empty((40, 192, 96), np.uint8)
    for i in range(40):
        sky = gaussian_filter(rng.integers(0, 255, (192, 96)).astype(np.float32), 20) + i
        detail = gaussian_filter(_texture(rng, 192, 96).astype(np.float32), 1)
        weight = np.clip(1 - np.abs(np.arange(192) - 96) / 40, 0, 1)[:, None]
        pics[i] = (sky * (1 - weight) + detail * weight).clip(0, 255).astype(np.uint8)
    assert stretches(pics, (0, 0, 96, 192), frame_aspect=9 / 16) == []


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 3 * STRETCH_WINDOW), st.sampled_from([(96, 96), (192, 96), (96, 192)]), st.integers(0, 2**31 - 1),
       st.sampled_from(["noise", "flat", "letterbox", "mixed"]))
def test_stretches_are_disjoint_runs_inside_the_video(n: int, shape: tuple[int, int], seed: int, kind: str) -> None:
    rng = np.random.default_rng(seed)
    h, w = shape
    pics = rng.integers(0, 255, (n, h, w)).astype(np.uint8)
    if kind == "flat":
        pics[:] = rng.integers(0, 255)
    elif kind in ("letterbox", "mixed"):
        a, b = sorted(int(x) for x in rng.integers(0, n + 1, 2))
        cut = int(rng.integers(1, h // 3))
        pics[a:b, :cut] = pics[a:b, h - cut :] = int(rng.integers(0, 255))
        if kind == "mixed":
            pics[rng.integers(0, max(n, 1), n // 4)] = 0
    whole = active_box(pics, frame_aspect=w / h) if n else (0, 0, w, h)
    runs = stretches(pics, whole, frame_aspect=w / h)
    end = 0
    for a, b, (x0, y0, x1, y1) in runs:
        assert end <= a < b <= n and b - a >= STRETCH_WINDOW
        assert whole[0] <= x0 < x1 <= whole[2] and whole[1] <= y0 < y1 <= whole[3]
        end = b
    assert sample_boxes(n, whole, runs).shape == (n, 4)
