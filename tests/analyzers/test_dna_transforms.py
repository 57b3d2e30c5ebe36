"""One test per transform class: a copy of a generated multi-shot clip (hard cuts every 3 s) is found,
localised within 1 s on both timelines, and reported with the right ``Transform`` keys.

Each copy sits between unrelated filler. The cheaper classes run by default; a few more variants of
the same classes are marked slow.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from openvod.analyzers.dna.fingerprint import Fingerprint, fingerprint_file
from openvod.analyzers.dna.results import video_dna
from openvod.analyzers.dna.search import compare, single_threaded_blas
from tests.analyzers.test_dna_clips import SIZE, decode, draw_frames, encode

Frame = np.ndarray


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    d = tmp_path_factory.mktemp("dna-tf")
    path = encode(d / "source.mp4", draw_frames(18.0, 15, 31, shot_s=3.0), 15)
    return {"dir": d, "path": path, "frames": decode(path), "fp": fingerprint_file(path)}


def make(src: dict[str, Any], name: str, r0: float, r1: float, *, fn: Callable[[Frame, int], Frame] | None = None,
         speed: float = 1.0, fps: int = 15, reverse: bool = False, before: float = 2.0, after: float = 2.0,
         filler_seed: int = 500) -> tuple[Fingerprint, tuple[float, float, float, float]]:
    """Filler + transformed copy of source[r0, r1) + filler; returns the fingerprint and (q0, q1, r0, r1)."""
    frames = src["frames"]
    times = np.array([t for t, _ in frames])
    fn = fn or (lambda f, i: f)
    n_copy = int(round((r1 - r0) / speed * fps))
    copy = []
    for k in range(n_copy):
        kk = n_copy - 1 - k if reverse else k
        j = max(0, int(np.searchsorted(times, r0 + kk / fps * speed + 1e-4, side="right")) - 1)
        copy.append(frames[j][1])
    pre = draw_frames(before, fps, filler_seed) if before else []
    post = draw_frames(after, fps, filler_seed + 1) if after else []
    out = [fn(f, i) for i, f in enumerate(pre + copy + post)]
    path = encode(src["dir"] / f"{name}.mp4", out, fps, crf=28)
    q0 = len(pre) / fps
    return fingerprint_file(path), (q0, q0 + n_copy / fps, r0, r0 + n_copy / fps * speed)


def check(src: dict[str, Any], q: Fingerprint, truth: tuple[float, float, float, float], tol: float = 1.0) -> dict[str, Any]:
    with single_threaded_blas():
        m = compare(q, src["fp"])
    assert m is not None, "not found"
    assert len(m.segments) == 1, m.segments
    s = m.segments[0]
    q0, q1, r0, r1 = truth
    got = (s.q0, s.q1, s.r0, s.r1)
    assert all(abs(a - b) <= tol for a, b in zip(got, truth, strict=True)), (got, truth)
    entry = video_dna([m], q)["VideoDNA"][0]
    return {"entry": entry, "match": m, "segment": s}


def _resize(f: Frame, size: tuple[int, int]) -> Frame:
    return np.asarray(Image.fromarray(f).resize(size, Image.Resampling.BILINEAR))


def test_copy_across_shot_cuts_is_one_segment(source: dict[str, Any]) -> None:
    q, truth = make(source, "cuts", 1.5, 14.5)  # spans four hard cuts
    r = check(source, q, truth, tol=0.6)
    assert r["entry"]["Transform"]["Speed"] == "1.000"


def test_whole_duplicate_is_localised_end_to_end(source: dict[str, Any]) -> None:
    q, truth = make(source, "whole", 0.0, 18.0, before=0.0, after=0.0, fps=24, fn=lambda f, i: _resize(f, (256, 144)))
    r = check(source, q, truth, tol=0.6)
    assert r["segment"].q1 - r["segment"].q0 > 17.0


def test_vertical_flip(source: dict[str, Any]) -> None:
    q, truth = make(source, "vflip", 3.0, 12.0, fn=lambda f, i: f[::-1])
    tr = check(source, q, truth)["entry"]["Transform"]
    assert tr["VFlip"] is True and tr["Flip"] is False and tr["Rotation"] == 0


@pytest.mark.parametrize("deg", [90, pytest.param(180, marks=pytest.mark.slow), pytest.param(270, marks=pytest.mark.slow)])
def test_rotation(source: dict[str, Any], deg: int) -> None:
    q, truth = make(source, f"rot{deg}", 3.0, 12.0, fn=lambda f, i: np.ascontiguousarray(np.rot90(f, deg // 90)))
    tr = check(source, q, truth)["entry"]["Transform"]
    assert tr["Rotation"] == deg and tr["Flip"] is False


def test_reversed_playback(source: dict[str, Any]) -> None:
    q, truth = make(source, "reverse", 4.0, 13.0, reverse=True)
    r = check(source, q, truth)
    tr = r["entry"]["Transform"]
    assert tr["Reversed"] is True and abs(float(tr["Speed"]) + 1.0) < 0.05
    assert float(r["entry"]["Detail"][0]["Speed"]) < 0


@pytest.mark.parametrize("speed", [0.5, 2.0, pytest.param(0.75, marks=pytest.mark.slow), pytest.param(1.5, marks=pytest.mark.slow)])
def test_speed(source: dict[str, Any], speed: float) -> None:
    q, truth = make(source, f"speed{speed}", 2.0, 2.0 + (6.0 if speed < 1 else 14.0), speed=speed)
    tr = check(source, q, truth)["entry"]["Transform"]
    assert abs(float(tr["Speed"]) / speed - 1.0) < 0.04, tr


@pytest.mark.parametrize("fps", [12, pytest.param(60, marks=pytest.mark.slow)])
def test_frame_rate(source: dict[str, Any], fps: int) -> None:
    q, truth = make(source, f"fps{fps}", 3.0, 12.0, fps=fps)
    tr = check(source, q, truth)["entry"]["Transform"]
    assert tr["Speed"] == "1.000"


def test_picture_in_picture_at_a_quarter_of_the_area(source: dict[str, Any]) -> None:
    bg = draw_frames(14.0, 15, 777, shot_s=5.0)
    w, h = SIZE

    def pip(f: Frame, i: int) -> Frame:
        out = Image.fromarray(bg[min(i, len(bg) - 1)])
        out.paste(Image.fromarray(f).resize((w // 2, h // 2)), (int(w * 0.42), int(h * 0.1)))
        return np.asarray(out)

    q, truth = make(source, "pip", 3.0, 12.0, fn=pip)
    tr = check(source, q, truth)["entry"]["Transform"]
    box = tr["PiPBox"]
    assert abs(float(box["Width"]) - 0.5) < 0.08 and abs(float(box["X"]) - 0.42) < 0.08, box


def test_small_picture_in_picture_in_a_corner_over_busy_footage_between_other_footage(source: dict[str, Any]) -> None:
    """52 % of the frame side (27 % of the area) in the bottom-right corner over an automaton-like
    background, with unrelated full-frame footage before and after: found, bounds within 1 s."""
    w, h = SIZE
    rng = np.random.default_rng(11)
    cells = rng.random((h // 4, w // 4)) < 0.5
    side = (int(w * 0.52), int(h * 0.52))
    pre, r0, r1 = 4.0, 3.0, 12.0
    first, last = int(pre * 15), int(pre * 15) + int(round((r1 - r0) * 15))

    def pip(f: Frame, i: int) -> Frame:
        nonlocal cells
        if not first <= i < last:
            return f
        cells = cells ^ (rng.random(cells.shape) < 0.25)
        bg = np.kron(np.where(cells, 210, 30), np.ones((4, 4))).astype(np.uint8)
        out = Image.fromarray(np.repeat(bg[:h, :w, None], 3, axis=2))
        out.paste(Image.fromarray(f).resize(side), (w - side[0] - 3, h - side[1] - 3))
        return np.asarray(out)

    q, truth = make(source, "pip-corner", r0, r1, fn=pip, before=pre, after=4.0)
    box = check(source, q, truth)["entry"]["Transform"]["PiPBox"]
    assert abs(float(box["Width"]) - 0.52) < 0.08 and abs(float(box["X"]) - 0.47) < 0.08, box


@pytest.mark.parametrize("background", ["blur", pytest.param("colour", marks=pytest.mark.slow)])
def test_vertical_9_16_frame(source: dict[str, Any], background: str) -> None:
    vw, vh = 180, 320
    ih = int(vw * SIZE[1] / SIZE[0])

    def vertical(f: Frame, i: int) -> Frame:
        src = Image.fromarray(f)
        if background == "blur":
            bw = int(SIZE[0] * vh / SIZE[1])
            canvas = src.resize((bw, vh)).crop(((bw - vw) // 2, 0, (bw - vw) // 2 + vw, vh)).filter(ImageFilter.GaussianBlur(10))
        else:
            canvas = Image.new("RGB", (vw, vh), (30, 90, 200))
        canvas.paste(src.resize((vw, ih)), (0, (vh - ih) // 2))
        return np.asarray(canvas)

    q, truth = make(source, f"vertical-{background}", 3.0, 12.0, fn=vertical)
    tr = check(source, q, truth)["entry"]["Transform"]
    assert "Padding" in tr and abs(float(tr["Padding"]["Height"]) - ih / vh) < 0.08, tr


@pytest.mark.parametrize("frame", ["vertical-blur", pytest.param("pillarbox-colour", marks=pytest.mark.slow)])
def test_reframed_copy_between_footage_that_fills_the_frame(source: dict[str, Any], frame: str) -> None:
    """A compilation: the copy is reframed (a 9:16 frame over a blurred copy of itself, or pillarboxed in
    colour) only while it lasts; the footage around it fills the frame, so the video as a whole has no
    padding to cut and the copy's own framing is found on its stretch (``layout.stretches``)."""
    vw, vh = (180, 320) if frame.startswith("vertical") else (320, 180)
    fps, before, n_copy = 15, 4.0, int(9.0 * 15)

    def reframe(f: Frame, i: int) -> Frame:
        src = Image.fromarray(f)
        if not int(before * fps) <= i < int(before * fps) + n_copy:  # filler: the whole frame, centre-cropped
            h = f.shape[0]
            cw = min(f.shape[1], int(round(h * vw / vh)))
            ch = int(round(cw * vh / vw))
            x0, y0 = (f.shape[1] - cw) // 2, (h - ch) // 2
            return np.asarray(src.crop((x0, y0, x0 + cw, y0 + ch)).resize((vw, vh)))
        if frame.startswith("vertical"):
            ih = int(vw * SIZE[1] / SIZE[0])
            bw = int(SIZE[0] * vh / SIZE[1])
            canvas = src.resize((bw, vh)).crop(((bw - vw) // 2, 0, (bw - vw) // 2 + vw, vh)).filter(ImageFilter.GaussianBlur(10))
            canvas.paste(src.resize((vw, ih)), (0, (vh - ih) * 2 // 5))
        else:
            iw = int(vh * 4 / 3)
            canvas = Image.new("RGB", (vw, vh), (200, 60, 30))
            canvas.paste(src.resize((iw, vh)), ((vw - iw) // 2, 0))
        return np.asarray(canvas)

    q, truth = make(source, f"mixed-{frame}", 3.0, 12.0, fn=reframe, before=before, after=4.0)
    assert q.box == (0.0, 0.0, 1.0, 1.0) and len(q.info["stretches"]) == 1, q.info
    tr = check(source, q, truth)["entry"]["Transform"]
    assert "Padding" in tr, tr  # the copy's own framing, not the whole video's


def test_three_second_copy_inside_a_long_video(source: dict[str, Any]) -> None:
    q, truth = make(source, "short", 7.0, 10.0, before=12.0, after=10.0)
    check(source, q, truth)


def test_three_transforms_at_once(source: dict[str, Any]) -> None:
    """Vertical flip + 1.25x speed + grayscale, re-encoded at 20 fps."""
    def fn(f: Frame, i: int) -> Frame:
        g = (f[::-1] @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)
        return np.repeat(g[:, :, None], 3, axis=2)

    q, truth = make(source, "combo", 2.0, 14.0, fn=fn, speed=1.25, fps=20)
    tr = check(source, q, truth)["entry"]["Transform"]
    assert tr["VFlip"] is True and abs(float(tr["Speed"]) - 1.25) < 0.05


@pytest.mark.parametrize("keep", [0.62, pytest.param(0.7, marks=pytest.mark.slow)])
def test_tight_mirrored_crop(source: dict[str, Any], keep: float) -> None:
    """A repost zoomed in: ``keep`` of the width and height off the middle, mirrored, scaled back to the
    frame (a zoom of 1.4-1.6, beyond the 1.45 this release started from; ``AlignParams.max_scale``)."""
    def fn(f: Frame, i: int) -> Frame:
        h, w = f.shape[:2]
        cw, ch = int(w * keep), int(h * keep)
        x0, y0 = int(0.1 * w), int((1 - keep) * 0.7 * h)
        return _resize(np.ascontiguousarray(f[y0:y0 + ch, x0:x0 + cw][:, ::-1]), (w, h))

    q, truth = make(source, f"tight{keep}", 3.0, 12.0, fn=fn)
    tr = check(source, q, truth)["entry"]["Transform"]
    assert tr["Flip"] is True and "CropBox" in tr and abs(float(tr["CropBox"]["Width"]) - keep) < 0.08, tr


def _screen_frames(seconds: float, fps: int, seed: int) -> list[Frame]:
    """A screen recording: lines of code-like text on a dark editor page (gutter, title bar) scrolling
    in bursts with pauses, a blinking cursor."""
    w, h = SIZE
    rng = np.random.default_rng(seed)
    font = ImageFont.load_default(size=9)
    lh = 10
    page = Image.new("RGB", (w, 120 * lh + h), (30, 30, 34))
    d = ImageDraw.Draw(page)
    d.rectangle([0, 0, 22, page.size[1]], fill=(22, 22, 26))
    words = ["def", "self", "value", "return", "async", "frame", "index", "=", "(", "):", "import", "result", "# note"]
    for k in range(120):
        d.text((2, k * lh + 2), f"{k + 1:3d}", fill=(110, 110, 110), font=font)
        indent = int(rng.integers(0, 4)) * 12
        text = " ".join(str(x) for x in rng.choice(words, int(rng.integers(2, 11))))
        d.text((26 + indent, k * lh + 2), text, fill=tuple(int(c) for c in rng.integers(120, 256, 3)), font=font)
    top, speed, t_next, out = float(rng.uniform(0, 20 * lh)), 0.0, 0.0, []
    for i in range(int(round(seconds * fps))):
        t = i / fps
        if t >= t_next:
            speed = 0.0 if rng.random() < 0.35 else float(rng.uniform(2, 10)) * lh
            t_next = t + float(rng.uniform(0.5, 2.0))
        top = min(page.size[1] - h, top + speed / fps)
        frame = page.crop((0, int(top), w, int(top) + h))
        fd = ImageDraw.Draw(frame)
        fd.rectangle([0, 0, w, 12], fill=(60, 63, 65))
        if int(t * 2) % 2 == 0:
            fd.rectangle([120, 90, 122, 100], fill=(220, 220, 220))
        out.append(np.asarray(frame))
    return out


@pytest.fixture(scope="module")
def screen(source: dict[str, Any]) -> dict[str, Any]:
    """A source made of a screen recording, one drawn shot, and another screen recording."""
    frames = _screen_frames(8.0, 15, 3) + draw_frames(3.0, 15, 41) + _screen_frames(7.0, 15, 4)
    path = encode(source["dir"] / "screen.mp4", frames, 15)
    return {"dir": source["dir"], "path": path, "frames": decode(path), "fp": fingerprint_file(path)}


@pytest.mark.parametrize("place, border", [((0.48, 0.08), True), pytest.param((0.0, 0.0), False, marks=pytest.mark.slow)])
def test_picture_in_picture_of_a_screen_recording(screen: dict[str, Any], place: tuple[float, float], border: bool) -> None:
    """A quarter of the area, over moving footage: the copied text is a few pixels tall in the query's
    thumbnails, so it is compared on the detail it keeps."""
    bg = draw_frames(16.0, 15, 778, shot_s=4.0)
    w, h = SIZE
    x, y = int(w * place[0]), int(h * place[1])

    def pip(f: Frame, i: int) -> Frame:
        out = Image.fromarray(bg[min(i, len(bg) - 1)])
        if border:
            ImageDraw.Draw(out).rectangle([x - 3, y - 3, x + w // 2 + 2, y + h // 2 + 2], fill=(240, 240, 240))
        out.paste(Image.fromarray(f).resize((w // 2, h // 2)), (x, y))
        return np.asarray(out)

    q, truth = make(screen, "pip-screen", 1.0, 13.0, fn=pip)
    tr = check(screen, q, truth)["entry"]["Transform"]
    box = tr["PiPBox"]
    assert abs(float(box["Width"]) - 0.5) < 0.08 and abs(float(box["X"]) - place[0]) < 0.08, box


@pytest.mark.parametrize("offset, framed, aspect", [(0, False, 9 / 16), pytest.param(-12, False, 9 / 16, marks=pytest.mark.slow),
                                                     (8, True, 9 / 16), pytest.param(4, False, 1.0, marks=pytest.mark.slow)])
def test_vertical_9_16_centre_crop(source: dict[str, Any], offset: int, framed: bool, aspect: float) -> None:
    """A 9:16 crop of the 16:9 picture at full height (a third of the width, a few pixels off centre, as
    reposts do), between filler cropped the same way: the query's picture is the source's stretched 3.2
    times across, found through the library's band codes and the query's band view. ``framed``: the crop
    pillarboxed in a 16:9 frame between footage that fills it (a compilation; ``layout.stretches``);
    ``aspect`` 1: a square crop (the library band is the same, a narrower share of the query)."""
    vw, vh = int(round(320 * aspect / 2)) * 2, 320
    fps, before, n_copy = 15, 2.0, int(9.0 * 15)

    def crop(f: Frame, i: int) -> Frame:
        h, w = f.shape[:2]
        cw = int(round(h * aspect))
        x0 = (w - cw) // 2 + offset
        if not framed:
            return np.asarray(Image.fromarray(f[:, x0:x0 + cw]).resize((vw, vh), Image.Resampling.BICUBIC))
        if not int(before * fps) <= i < int(before * fps) + n_copy:
            return f
        out = np.full_like(f, 12)
        out[:, (w - cw) // 2 : (w - cw) // 2 + cw] = f[:, x0:x0 + cw]
        return out

    q, truth = make(source, f"vcrop{offset}{framed}{aspect:.2f}", 3.0, 12.0, fn=crop, fps=fps, before=before)
    tr = check(source, q, truth)["entry"]["Transform"]
    assert "CropBox" in tr and abs(float(tr["CropBox"]["Width"]) - aspect * SIZE[1] / SIZE[0]) < 0.08, tr
    assert float(tr["CropBox"]["Height"]) > 0.9, tr


@pytest.mark.parametrize("side", ["left", pytest.param("right", marks=pytest.mark.slow)])
def test_split_screen_squeezed(source: dict[str, Any], side: str) -> None:
    """The copy squeezed to half the width beside other footage (a split screen): found through the
    query's halves view, reported as a picture-in-picture box of half the frame."""
    other = draw_frames(20.0, 15, 77, shot_s=3.0)

    def split(f: Frame, i: int) -> Frame:
        h, w = f.shape[:2]
        a, b = _resize(f, (w // 2, h)), _resize(other[i % len(other)], (w - w // 2, h))
        return np.concatenate([a, b] if side == "left" else [b, a], axis=1)

    q, truth = make(source, f"split-{side}", 3.0, 12.0, fn=split)
    tr = check(source, q, truth)["entry"]["Transform"]
    box = tr["PiPBox"]
    assert abs(float(box["Width"]) - 0.5) < 0.08 and float(box["Height"]) > 0.9, tr
    assert (float(box["X"]) < 0.1) == (side == "left"), tr
