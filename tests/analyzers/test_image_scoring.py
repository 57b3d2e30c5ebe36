"""Frame measures and the quality score: black / blank rejection, blur, fading, text, blockiness, noise, faces."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from openvod.analyzers.image import faces as faces_mod
from openvod.analyzers.image import scoring
from openvod.analyzers.image.metrics import measure, noise_sigma
from openvod.analyzers.image.text import text_coverage
from tests.analyzers.imagegen import picture, view, with_subtitles

SIZE = (1280, 720)


def _assess(rgb: np.ndarray, faces: list[faces_mod.Face] | None = None) -> scoring.Assessment:
    luma = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    grey = cv2.resize(luma, (640, 360), interpolation=cv2.INTER_AREA)
    small = cv2.resize(rgb, (160, 90), interpolation=cv2.INTER_AREA)
    m = measure(luma, grey, small)
    return scoring.assess(m, scoring.VideoContext(), noise_sigma=noise_sigma(grey),
                          text_coverage=text_coverage(grey).coverage, found_faces=faces or [],
                          face_image_size=(640, 360))


@pytest.fixture(scope="module")
def sharp() -> np.ndarray:
    return view(picture(7), 0.5, SIZE)


def test_sharp_frame_scores_on_the_cloud_scale(sharp: np.ndarray) -> None:
    a = _assess(sharp)
    assert not a.rejected and not a.defects
    assert 5.0 <= a.score <= 10.0
    assert set(a.criteria) == set(scoring.WEIGHTS) and abs(sum(scoring.WEIGHTS.values()) - 1.0) < 1e-9


@pytest.mark.parametrize("value", [0, 8, 14])
def test_black_frames_are_rejected(value: int) -> None:
    frame = np.full((*SIZE[::-1], 3), value, np.uint8)
    frame[:4, :4] = value + 20  # a stray bright pixel does not rescue it
    a = _assess(frame)
    assert "black" in a.rejected and a.score < 1.0


def test_flat_and_washed_out_frames(sharp: np.ndarray) -> None:
    grey = np.full((*SIZE[::-1], 3), 128, np.uint8)
    assert "blank" in _assess(grey).rejected
    washed = (0.25 * sharp + 0.75 * 200).astype(np.uint8)
    a = _assess(washed)
    assert a.rejected or "faded" in a.defects
    assert a.score < _assess(sharp).score


def test_blur_is_measured_and_penalised(sharp: np.ndarray) -> None:
    base = _assess(sharp)
    blurred = _assess(cv2.GaussianBlur(sharp, (0, 0), 6))
    assert blurred.criteria["Sharpness"] < 0.2 < base.criteria["Sharpness"]
    assert "blurry" in blurred.defects
    assert blurred.score < base.score - 1.0


def test_motion_blur_is_directional(sharp: np.ndarray) -> None:
    k = np.zeros((31, 31), np.float32)
    k[15, :] = 1 / 31
    smeared = _assess(cv2.filter2D(sharp, -1, k))
    assert smeared.criteria["MotionBlur"] < 0.5 and smeared.measures["BlurAxisRatio"] > 1.5


def test_subtitles_cover_the_frame(sharp: np.ndarray) -> None:
    clean = _assess(sharp)
    subbed = _assess(with_subtitles(sharp, 3))
    assert clean.measures["TextCoverage"] < 0.01
    assert subbed.measures["TextCoverage"] > 0.06
    assert "covered by text" in subbed.defects and subbed.score < clean.score


def test_blockiness_of_heavy_jpeg(sharp: np.ndarray) -> None:
    buf = io.BytesIO()
    Image.fromarray(sharp).save(buf, "JPEG", quality=5)
    blocky = _assess(np.asarray(Image.open(buf).convert("RGB")))
    assert blocky.measures["BlockRatio"] > 1.6 and blocky.criteria["Blockiness"] < 0.6
    assert _assess(sharp).measures["BlockRatio"] < 1.15


def test_noise_is_measured(sharp: np.ndarray) -> None:
    noisy = np.clip(sharp + np.random.default_rng(0).normal(0, 20, sharp.shape), 0, 255).astype(np.uint8)
    assert _assess(noisy).criteria["Noise"] < _assess(sharp).criteria["Noise"]


def test_face_criterion_prefers_large_faces_with_open_eyes() -> None:
    no_face = scoring.faces([], 640, 360)
    open_eyes = scoring.faces([faces_mod.Face(250, 60, 120, 120, 2, True)], 640, 360)
    closed = scoring.faces([faces_mod.Face(250, 60, 120, 120, 0, True)], 640, 360)
    tiny = scoring.faces([faces_mod.Face(10, 10, 20, 20, 0, False)], 640, 360)
    assert open_eyes == pytest.approx(1.0) and open_eyes > closed > no_face
    assert tiny < closed


def test_haar_faces_and_eyes_on_a_real_face() -> None:
    data = pytest.importorskip("skimage.data")
    if faces_mod.available() is not None:
        pytest.skip(faces_mod.available())
    astro = data.astronaut()
    frame = cv2.resize(astro, (720, 720))[60:465]  # a 16:9 crop that keeps the face
    frame = cv2.resize(frame, (640, 360), interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    found = faces_mod.detect(cv2.resize(grey, (384, 216), interpolation=cv2.INTER_AREA), eye_image=grey)
    assert len(found) == 1 and found[0].eyes == 2
    # Paint the eyes shut: the face stays, the open eyes go.
    shut = astro.copy()
    for cx, cy in ((202, 100), (246, 103)):
        skin = np.median(shut[cy + 12 : cy + 18, cx - 8 : cx + 8].reshape(-1, 3), axis=0)
        cv2.ellipse(shut, (cx, cy), (13, 8), 0, 0, 360, tuple(int(v) for v in skin), -1)
        cv2.ellipse(shut, (cx, cy - 1), (11, 4), 0, 10, 170, (60, 40, 35), 2)
    frame2 = cv2.resize(cv2.resize(shut, (720, 720))[60:465], (640, 360), interpolation=cv2.INTER_AREA)
    grey2 = cv2.cvtColor(frame2, cv2.COLOR_RGB2GRAY)
    found2 = faces_mod.detect(cv2.resize(grey2, (384, 216), interpolation=cv2.INTER_AREA), eye_image=grey2)
    assert len(found2) == 1 and found2[0].eyes < 2
