"""Degraded copies never win a cover (noise, over-exposure, blocking) and a GIF highlight is taken
away from the cover moments."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openvod.analyzers.image import scoring
from openvod.analyzers.image.gif import GifOptions
from openvod.analyzers.image.images import ImageJobOptions, make_images
from openvod.analyzers.image.metrics import measure
from openvod.analyzers.image.picker import analyze
from tests.analyzers.imagegen import label_at, picture, scene_of, view, write_video

SIZE = (480, 270)
FPS = 10


def _assess(rgb: np.ndarray) -> scoring.Assessment:
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(rgb, (160, 90), interpolation=cv2.INTER_AREA)
    m = measure(grey, grey, small)
    return scoring.assess(m, scoring.VideoContext(), text_coverage=0.0, found_faces=[], face_image_size=(480, 270))


def _noisy(img: np.ndarray, sigma: float, seed: int, chroma: bool = True) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = rng.normal(0, sigma, img.shape if chroma else img.shape[:2] + (1,))
    return np.clip(img + n, 0, 255).astype(np.uint8)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(1, 50), sigma=st.floats(6.0, 40.0), chroma=st.booleans())
def test_visible_noise_is_measured_penalised_and_a_defect(seed: int, sigma: float, chroma: bool) -> None:
    clean = view(picture(seed), 0.3, SIZE)
    a, b = _assess(clean), _assess(_noisy(clean, sigma, seed, chroma))
    assert b.measures["NoiseSigma"] > a.measures["NoiseSigma"]
    assert b.criteria["Noise"] < a.criteria["Noise"]
    assert "noisy" in b.defects and "noisy" not in a.defects
    assert scoring.degradation(b) - scoring.degradation(a) >= scoring.CLEANER_BY


def test_exposure_and_blocking_defects_are_named() -> None:
    clean = view(picture(7), 0.3, SIZE)
    over = np.clip(clean.astype(np.float32) * 2.4 + 20, 0, 255).astype(np.uint8)
    under = (clean * 0.12).astype(np.uint8)
    ok, jpg = cv2.imencode(".jpg", clean, [cv2.IMWRITE_JPEG_QUALITY, 4])
    blocky = cv2.imdecode(jpg, cv2.IMREAD_UNCHANGED)
    assert "over-exposed" in _assess(over).defects
    assert "under-exposed" in _assess(under).defects
    assert "blocky" in _assess(blocky).defects
    assert not _assess(clean).defects


def _clean_then_noisy(path: Path, seed: int, sigma: float) -> list[tuple[str, float, float]]:
    """clean scene a, cut, scene b, cut, scene a again under sensor noise (fresh every frame)."""
    a, b = picture(seed), picture(seed + 100)
    plan = [("good-a", [view(a, k / 19, SIZE) for k in range(20)]),
            ("good-b", [view(b, k / 19, SIZE) for k in range(20)]),
            ("noisy-a", [_noisy(view(a, k / 19, SIZE), sigma, 1000 + k) for k in range(20)])]
    frames, labels = [], []
    for label, frs in plan:
        labels.append((label, len(frames) / FPS, (len(frames) + len(frs)) / FPS))
        frames += frs
    write_video(path, frames, FPS)
    return labels


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(1, 40), sigma=st.floats(3.0, 40.0))
def test_a_noisy_copy_never_outranks_the_clean_frame(tmp_path: Path, seed: int, sigma: float) -> None:
    path = tmp_path / f"n{seed}.mp4"
    labels = _clean_then_noisy(path, seed, sigma)
    an = analyze(path, 3)
    order = [label_at(labels, c.t) for c in an.candidates]
    assert "good-a" in order, order
    if "noisy-a" in order:
        assert order.index("good-a") < order.index("noisy-a"), [(label_at(labels, c.t), round(c.score, 2)) for c in an.candidates]
    picks = [label_at(labels, p.t) for p in an.picks]
    assert picks[0] != "noisy-a" and "good-a" in picks
    assert "noisy-a" not in picks or picks.index("good-a") < picks.index("noisy-a")


def test_gif_and_png_show_different_moments(tmp_path: Path) -> None:
    from tests.analyzers.imagegen import labelled_video

    path, labels = labelled_video(tmp_path / "l.mp4")  # three clean scenes (a, b, c), a repeat of a
    gif = GifOptions(fps=5, duration_s=1.2, max_width=160, max_bytes=200_000)
    pngs, _ = make_images(path, "png", 3, ImageJobOptions(gif=gif))
    cover_times = [float(p.detail["Time"]) for p in pngs]
    assert len(cover_times) == 3
    for avoid in (1, 2, 3):
        gifs, ga = make_images(path, "gif", 1, ImageJobOptions(gif=gif, gif_avoid_covers=avoid))
        assert len(gifs) == 1
        start, end = float(gifs[0].detail["Start"]), float(gifs[0].detail["End"])
        t = float(gifs[0].detail["Time"])
        # Never the top cover's moment, always a clean moment (no defect such as subtitles or blur).
        assert not (start - 1e-3 <= cover_times[0] <= end + 1e-3), (avoid, start, end, cover_times)
        assert scene_of(label_at(labels, t)) is not None and not gifs[0].detail["Why"].startswith("best available")
        # As many covers avoided as leave a clean moment: with 3 clean scenes, two of the covers.
        n = len(ga.stats["AvoidedCoverTimes"])
        assert n == min(avoid, 2), (avoid, ga.stats["AvoidedCoverTimes"])
        assert all(not (start - 1e-3 <= c <= end + 1e-3) for c in cover_times[:n])


def test_a_video_with_one_moment_gives_the_same_moment_to_both(tmp_path: Path) -> None:
    pic = picture(5)
    path = write_video(tmp_path / "one.mp4", [view(pic, k / 29, SIZE) for k in range(30)], FPS)
    opts = ImageJobOptions(gif=GifOptions(fps=5, duration_s=1.0, max_width=160), gif_avoid_covers=3)
    gifs, ga = make_images(path, "gif", 1, opts)
    assert len(gifs) == 1 and ga.stats["AvoidedCoverTimes"] == []
