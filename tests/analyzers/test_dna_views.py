"""The picture-in-picture box detector (``views.pip_box``) on synthetic thumbnails: total on any input,
finds a box of independently changing content, and finds nothing in one picture."""

from __future__ import annotations

import numpy as np
from PIL import Image
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openvod.analyzers.dna.views import pip_box

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
S = 32


def _video(rng: np.random.Generator, n: int, cut_every: int) -> np.ndarray:
    """Smooth random pictures that drift and change completely at cuts: ``[n, S, S]``."""
    out = np.empty((n, S, S), np.float32)
    base = np.zeros((S, S), np.float32)
    shift = np.zeros(2)
    for i in range(n):
        if i % cut_every == 0:
            small = Image.fromarray(rng.normal(0, 1, (6, 6)).astype(np.float32), mode="F")
            base = np.asarray(small.resize((3 * S, 3 * S), Image.Resampling.BICUBIC))
            shift = rng.uniform(-1.0, 1.0, 2)
        k = i % cut_every
        y0, x0 = int(S + shift[0] * k), int(S + shift[1] * k)  # a slow pan over the picture
        out[i] = base[y0 : y0 + S, x0 : x0 + S]
    return np.clip(128 + 60 * out, 0, 255).astype(np.uint8)


def _pip(seed: int, x: int, y: int, side: int, n: int = 60) -> np.ndarray:
    rng = np.random.default_rng(seed)
    bg = _video(rng, n, 9)
    fg = _video(rng, n, 13)
    out = bg.copy()
    out[:, y : y + side, x : x + side] = fg[:, :side, :side]  # other footage inside the box
    return out


@SETTINGS
@given(st.integers(0, 2**31), st.integers(0, 40), st.integers(1, 40), st.sampled_from(["noise", "constant", "tiny", "flat"]))
def test_pip_box_is_total(seed: int, n: int, size: int, kind: str) -> None:
    rng = np.random.default_rng(seed)
    if kind == "noise":
        t = rng.integers(0, 256, (n, size, size), dtype=np.uint8)
    elif kind == "constant":
        t = np.full((n, size, size), int(rng.integers(0, 256)), np.uint8)
    elif kind == "tiny":
        t = rng.integers(0, 256, (n, 2, 2), dtype=np.uint8)
    else:
        t = np.zeros((n, size, size), np.uint8)
    valid = rng.random(n) < 0.8
    box = pip_box(t, valid)
    if box is not None:
        x, y, w, h, score = box
        assert 0.0 <= x and 0.0 <= y and x + w <= 1.0 + 1e-9 and y + h <= 1.0 + 1e-9
        assert w > 0 and h > 0 and np.isfinite(score)


@SETTINGS
@given(st.integers(0, 2**31), st.integers(0, 14), st.integers(0, 14), st.integers(15, 22))
def test_pip_box_finds_a_box_of_other_footage(seed: int, x: int, y: int, side: int) -> None:
    x, y = min(x, S - side), min(y, S - side)
    t = _pip(seed, x, y, side)
    box = pip_box(t, np.ones(t.shape[0], bool))
    assert box is not None
    bx, by, bw, bh, _ = box
    assert abs(bx * S - x) <= 2 and abs(by * S - y) <= 2, (box, x, y, side)
    assert abs(bw * S - side) <= 2 and abs(bh * S - side) <= 2, (box, x, y, side)


@SETTINGS
@given(st.integers(0, 2**31))
def test_one_picture_has_no_box(seed: int) -> None:
    t = _video(np.random.default_rng(seed), 60, 9)
    assert pip_box(t, np.ones(t.shape[0], bool)) is None
