"""Faint and 12 px captions reach OCR: the sampler sees them appear, and the region read does not
shrink them below the detector's reach."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from bench.tag.ocr_recall import backgrounds, caption_layer
from openvod.pipeline.sampling import FrameSampler, SamplerOptions

W, H = 1280, 720


def _sig(rgb: np.ndarray) -> np.ndarray:
    return cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), (128, 72), interpolation=cv2.INTER_AREA)


def _with(bg: np.ndarray, layer: np.ndarray) -> np.ndarray:
    a = layer[..., 3:4].astype(np.float32) / 255.0
    return (bg * (1 - a) + layer[..., :3] * a).astype(np.uint8)


@pytest.fixture(scope="module")
def bgs() -> list[np.ndarray]:
    return backgrounds(W, H)


@pytest.mark.parametrize("kind", ["faint", "small"])
def test_a_faint_or_small_caption_appearing_selects_a_frame_around_it(bgs: list[np.ndarray], kind: str) -> None:
    rng = random.Random(5)
    for bg in bgs:
        layer = caption_layer("Harbour council", kind, W, H, rng)
        s = FrameSampler(SamplerOptions())
        assert s.consider(0.0, _sig(bg)) is not None  # first frame
        assert s.consider(1.0, _sig(bg)) is None  # unchanged
        sel = s.consider(2.0, _sig(_with(bg, layer)))
        assert sel is not None and sel.reason == "change"
        ys, xs = np.nonzero(layer[..., 3] > 0)
        box = sel.changed_box(W, H)
        assert box is not None and box[1] <= ys.min() + 40 and box[3] >= ys.max() - 40
        # OCR reads such a band across the whole width (the ends of a faint line barely change).
        from openvod.analyzers.tag.ocr import OcrOptions, TextTracker

        region = TextTracker(None, OcrOptions())._region(sel, W, H)  # type: ignore[arg-type]
        assert region is not None
        assert region[0] <= xs.min() and region[2] >= xs.max() and region[1] <= ys.min() and region[3] >= ys.max()


def test_sensor_grain_alone_selects_nothing(bgs: list[np.ndarray]) -> None:
    g = np.random.default_rng(0)
    for bg in bgs:
        s = FrameSampler(SamplerOptions())
        s.consider(0.0, _sig(bg))
        noisy = np.clip(bg.astype(np.int16) + g.integers(-8, 9, bg.shape[:2] + (1,)), 0, 255).astype(np.uint8)
        assert s.consider(1.0, _sig(noisy)) is None


@pytest.mark.slow
def test_a_12px_caption_strip_is_read() -> None:
    from openvod.analyzers.tag.ocr import OcrEngine, OcrOptions, missing_dependency
    from openvod.models.cache import ModelCache

    if missing_dependency():
        pytest.skip(missing_dependency())
    rng = random.Random(2)
    frame = _with(backgrounds(W, H)[0], caption_layer("Museum garden festival", "small", W, H, rng))
    small = cv2.resize(frame, (960, 540), interpolation=cv2.INTER_AREA)  # the analysis frame
    ys = np.nonzero(caption_layer("Museum garden festival", "small", W, H, random.Random(2))[..., 3] > 0)[0]
    y0, y1 = int(ys.min() * 0.75) - 30, int(ys.max() * 0.75) + 30
    eng = OcrEngine(OcrOptions(), ModelCache())
    texts = [t for t, _, _ in eng.read(small[max(0, y0):y1], (960, 540))]
    assert any("museum" in t.lower() for t in texts), texts


def _parts(ref: np.ndarray, cur: np.ndarray) -> list[tuple[float, float, float, float]] | None:
    from openvod.analyzers.tag.ocr import OcrOptions, TextTracker

    tr = TextTracker(None, OcrOptions())  # type: ignore[arg-type]
    tr.ref = cv2.cvtColor(cv2.resize(ref, (960, 540), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    grey = cv2.cvtColor(cv2.resize(cur, (960, 540), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    return tr._pan_parts(grey, 960, 540)


@pytest.mark.parametrize("kind", ["faint", "small"])
def test_a_pan_reads_only_the_new_caption_and_the_revealed_strip(bgs: list[np.ndarray], kind: str) -> None:
    bg = bgs[0]
    layer = caption_layer("Harbour walk tonight", kind, W, H, random.Random(3))
    ys, xs = np.nonzero(layer[..., 3] > 40)
    cap = (xs.min() * 0.75, ys.min() * 0.75, xs.max() * 0.75, ys.max() * 0.75)  # in the 960 px frame
    ref = np.roll(bg, 0, axis=1)
    cur = _with(np.roll(bg, 80, axis=1), layer)  # the camera panned 80 px (60 px at 960), a caption came
    parts = _parts(ref, cur)
    assert parts is not None
    assert sum((p[2] - p[0]) * (p[3] - p[1]) for p in parts) < 0.5 * 960 * 540
    assert any(p[0] <= cap[0] and p[1] <= cap[1] and p[2] >= cap[2] and p[3] >= cap[3] for p in parts), (parts, cap)
    assert any(p[0] == 0 and p[2] >= 60 and p[3] - p[1] >= 500 for p in parts)  # the strip the pan revealed
    # the same pan without a caption: only the strip
    assert all(p[0] < 100 for p in _parts(ref, np.roll(bg, 80, axis=1)) or [])


def test_anything_but_a_pan_is_read_whole(bgs: list[np.ndarray]) -> None:
    assert _parts(bgs[0], bgs[1]) is None


def test_only_the_part_that_is_not_flat_is_detected(bgs: list[np.ndarray]) -> None:
    from openvod.analyzers.tag.regions import content_box

    slide = np.full((540, 960), 120, np.uint8)
    slide += np.linspace(0, 30, 960, dtype=np.float32).astype(np.uint8)[None, :]  # a smooth gradient
    layer = caption_layer("Harbour walk tonight", "faint", 960, 540, random.Random(5))
    a = layer[..., 3].astype(np.float32) / 255.0
    img = (slide * (1 - a) + 255 * a).astype(np.uint8)
    ys, xs = np.nonzero(layer[..., 3] > 0)
    box = content_box(img, 3.0)
    assert box is not None
    assert box[0] <= xs.min() and box[1] <= ys.min() and box[2] > xs.max() and box[3] > ys.max()
    assert (box[2] - box[0]) * (box[3] - box[1]) < 0.3 * 960 * 540
    assert content_box(slide, 3.0) is None
    photo = cv2.cvtColor(cv2.resize(bgs[0], (960, 540)), cv2.COLOR_RGB2GRAY)
    assert content_box(photo, 3.0) == (0.0, 0.0, 960.0, 540.0)
