"""The whole analysis on generated videos: good moments picked, bad ones and duplicates not; PNG and GIF
outputs within their bounds; an all-black video explained; the ``openvod cover`` command."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from openvod.analyzers.image.gif import GifOptions
from openvod.analyzers.image.images import ImageJobOptions, make_images
from openvod.analyzers.image.picker import NoUsableFrame, analyze
from openvod.cli import main
from tests.analyzers.imagegen import label_at, labelled_video, picture, scene_of, view, write_video


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[str, float, float]]]:
    return labelled_video(tmp_path_factory.mktemp("img") / "labelled.mp4")


def test_picks_only_good_distinct_moments(labelled) -> None:  # type: ignore[no-untyped-def]
    path, labels = labelled
    a = analyze(path, 3)
    got = [label_at(labels, p.t) for p in a.picks]
    scenes = [scene_of(g) for g in got]
    assert len(got) == 3
    assert None not in scenes, got  # not black, fade, blur, dissolve or subtitles
    assert sorted(scenes) == ["a", "b", "c"], got  # three different scenes: a and its repeat count once
    assert [p.score for p in a.picks] == sorted((p.score for p in a.picks), reverse=True)
    # Fades and the dissolve were found as transitions, and nothing inside them was a candidate.
    kinds = {t.kind for t in a.shots.transitions}
    assert {"fade", "dissolve"} <= kinds
    for c in a.candidates:
        assert label_at(labels, c.t) not in ("fade", "dissolve", "black")


def test_asking_for_more_than_there_is_returns_fewer(labelled) -> None:  # type: ignore[no-untyped-def]
    path, labels = labelled
    a = analyze(path, 8)
    labels_got = [label_at(labels, p.t) for p in a.picks]
    # Three clean scenes exist; extra picks may only be clearly different frames of those shots.
    assert 3 <= len(a.picks) < 8
    assert not any(lab in ("black", "fade", "dissolve", "blur", "subtitles") for lab in labels_got), labels_got


def test_png_covers_at_source_and_configured_size(labelled) -> None:  # type: ignore[no-untyped-def]
    path, _ = labelled
    images, _ = make_images(path, "png", 2)
    assert len(images) == 2
    for img in images:
        im = Image.open(io.BytesIO(img.data))
        assert im.format == "PNG" and im.size == (480, 270)
        assert {"Time", "Shot", "Breakdown", "Why", "Measures"} <= set(img.detail)
        assert 0.0 < img.score <= 10.0
    small, _ = make_images(path, "png", 1, ImageJobOptions(cover_width=200))
    assert Image.open(io.BytesIO(small[0].data)).size == (200, 112)


def test_gif_highlight_respects_its_bounds(labelled) -> None:  # type: ignore[no-untyped-def]
    path, labels = labelled
    opts = ImageJobOptions(gif=GifOptions(fps=5, duration_s=1.2, max_width=240, max_bytes=120_000))
    images, a = make_images(path, "gif", 2, opts)
    assert len(images) == 2
    for img in images:
        im = Image.open(io.BytesIO(img.data))
        assert im.format == "GIF" and im.width <= 240 and len(img.data) <= 120_000
        assert 2 <= im.n_frames <= 6
        assert im.info["duration"] == 200  # 5 fps
        start, end = float(img.detail["Start"]), float(img.detail["End"])
        assert end - start <= 1.2 + 1e-6
        # The clip stays inside one good shot: no frame of a transition or another scene.
        assert label_at(labels, start) == label_at(labels, end - 0.05) and scene_of(label_at(labels, start))
    # Two highlights never overlap.
    starts = sorted(float(i.detail["Start"]) for i in images)
    assert starts[1] - starts[0] >= 1.2 - 1e-6


def test_gif_shrinks_to_fit_a_tight_byte_budget(labelled) -> None:  # type: ignore[no-untyped-def]
    path, _ = labelled
    opts = ImageJobOptions(gif=GifOptions(fps=10, duration_s=1.5, max_width=480, max_bytes=40_000))
    images, _ = make_images(path, "gif", 1, opts)
    assert len(images[0].data) <= 40_000
    im = Image.open(io.BytesIO(images[0].data))
    assert im.width < 480 or images[0].detail["Frames"] < 15


def test_all_black_video_is_explained(tmp_path: Path) -> None:
    black = [np.zeros((180, 320, 3), np.uint8)] * 24
    path = write_video(tmp_path / "black.mp4", black, fps=12)
    with pytest.raises(NoUsableFrame) as ei:
        analyze(path, 3)
    assert ei.value.counts.get("black", 0) > 0 and "black" in str(ei.value)


def test_only_defective_frames_still_give_the_best_of_them(tmp_path: Path) -> None:
    import cv2

    pic = picture(9)
    frames = [cv2.GaussianBlur(view(pic, k / 23, (480, 270)), (0, 0), 5) for k in range(24)]
    a = analyze(write_video(tmp_path / "blurred.mp4", frames, fps=12), 3)
    assert len(a.picks) >= 1 and "blurry" in a.picks[0].assessment.defects
    from openvod.analyzers.image.picker import pick_detail

    assert pick_detail(a, a.picks[0])["Why"].startswith("best available, but blurry")


def test_cover_command(labelled, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    path, _ = labelled
    out = tmp_path / "covers"
    assert main(["cover", str(path), "--count", "2", "--out", str(out), "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert len(res["Images"]) == 2 and res["Stats"]["Shots"] >= 5
    for img in res["Images"]:
        assert Path(img["Path"]).is_file() and img["Breakdown"]["Sharpness"] > 0.2
    assert main(["cover", str(path), "--count", "1"]) == 0
    text = capsys.readouterr().out
    assert "why:" in text and "Sharpness" in text
