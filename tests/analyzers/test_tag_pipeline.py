"""Shared decode for AIVideoTag: frames selected by content change and timed by presentation time,
audio as 16 kHz mono placed by PTS, and the model cache."""

from __future__ import annotations

import threading
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from openvod.analyzers.tag.frames import selected_frames
from openvod.models.cache import ModelCache, ModelSpec
from openvod.pipeline import DecodeError, MissingStream, open_media
from openvod.pipeline.sampling import FrameSampler, SamplerOptions


def _write(path: Path, frames: list[np.ndarray], fps: int = 10, video_start_s: float = 0.0,
           audio: np.ndarray | None = None, audio_start_s: float = 0.0, sr: int = 48000) -> Path:
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.options = {"preset": "ultrafast"}
        a_s = None
        if audio is not None:
            a_s = c.add_stream("aac", rate=sr)
            a_s.layout = "mono"
        for i, img in enumerate(frames):
            f = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            f.pts, f.time_base = i + int(round(video_start_s * fps)), Fraction(1, fps)
            for p in vs.encode(f):
                c.mux(p)
        for p in vs.encode():
            c.mux(p)
        if a_s is not None and audio is not None:
            off = int(round(audio_start_s * sr))
            for k in range(0, len(audio), 1024):
                af = av.AudioFrame.from_ndarray(audio[k : k + 1024].reshape(1, -1).astype(np.float32), format="flt", layout="mono")
                af.sample_rate, af.pts, af.time_base = sr, off + k, Fraction(1, sr)
                for p in a_s.encode(af):
                    c.mux(p)
            for p in a_s.encode():
                c.mux(p)
    return path


def _solid(v: int, w: int = 160, h: int = 96) -> np.ndarray:
    return np.full((h, w, 3), v, np.uint8)


def test_static_shot_is_selected_once_and_cuts_and_local_changes_are_seen(tmp_path: Path) -> None:
    a, b = _solid(40), _solid(200)
    b_caption = b.copy()
    b_caption[70:86, 30:130] = 0  # a caption appears in a corner of shot B
    frames = [a] * 30 + [b] * 20 + [b_caption] * 20  # 3 s of A, 2 s of B, 2 s of B with caption
    path = _write(tmp_path / "v.mp4", frames)
    sel = list(selected_frames(open_media(path)))
    assert [(round(f.t, 1), f.reason) for f in sel] == [(0.0, "first"), (3.0, "cut"), (5.0, "change")]
    cap = sel[2]
    assert 0 < cap.change_fraction < 0.5
    x0, y0, x1, y1 = cap.changed_box(160, 96, dilate=0)
    assert x0 <= 30 and x1 >= 130 and y0 <= 70 and y1 >= 86 and y0 > 40
    assert sel[0].image is not None and sel[0].image.shape == (96, 160, 3)


def test_times_come_from_presentation_time(tmp_path: Path) -> None:
    """A stream whose first frame is at PTS 2 s: times are from the container origin."""
    frames = [_solid(40)] * 10 + [_solid(220)] * 10
    path = _write(tmp_path / "late.mp4", frames, video_start_s=2.0)
    info = open_media(path).probe
    sel = list(selected_frames(open_media(path)))
    cut = next(f for f in sel if f.reason == "cut")
    assert abs((cut.t + info.origin) - 3.0) < 0.15  # frame 10 at 10 fps after a 2 s start


def test_audio_is_16k_mono_placed_by_pts(tmp_path: Path) -> None:
    sr = 48000
    tone = (0.5 * np.sin(2 * np.pi * 440 * np.arange(sr) / sr)).astype(np.float32)  # 1 s
    path = _write(tmp_path / "a.mp4", [_solid(0)] * 30, audio=tone, audio_start_s=1.5)
    track = open_media(path).audio()
    assert track.sample_rate == 16000 and track.samples.dtype == np.float32 and track.samples.ndim == 1
    loud = np.flatnonzero(np.abs(track.samples) > 0.1)
    assert abs(loud[0] / 16000 - 1.5) < 0.06 and abs(loud[-1] / 16000 - 2.5) < 0.06


def test_missing_and_undecodable_streams(tmp_path: Path) -> None:
    path = _write(tmp_path / "v.mp4", [_solid(0)] * 5)
    with pytest.raises(MissingStream):
        open_media(path).audio()
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    with pytest.raises(DecodeError):
        list(selected_frames(open_media(junk)))


def test_sampler_throttles_continuous_motion() -> None:
    s = FrameSampler(SamplerOptions(min_interval_s=0.5))
    rng = np.random.default_rng(0)
    picked = [s.consider(i * 0.2, rng.integers(0, 255, (72, 128), dtype=np.uint8)) for i in range(50)]
    chosen = [p for p in picked if p is not None]
    # Noise everywhere: after the first frames the recent level of change is high, so no more "cuts",
    # and content changes are taken at most every min_interval_s (scan step 0.2 s -> every 0.6 s).
    assert sum(p.reason == "cut" for p in chosen) <= 1
    changes = [p.t for p in chosen if p.reason == "change"]
    assert all(b - a >= 0.5 for a, b in zip(changes, changes[1:], strict=False))
    assert len(chosen) <= 2 + 10 / 0.6


def test_model_cache_loads_once_per_spec() -> None:
    cache = ModelCache()
    calls: list[int] = []

    def load() -> object:
        calls.append(1)
        return object()

    spec = ModelSpec.of("m", "1", threads=1)
    threads = [threading.Thread(target=cache.get, args=(spec, load)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    other = cache.get(ModelSpec.of("m", "1", threads=2), load)  # another option is another artefact
    assert len(calls) == 2 and other is not cache.get(spec, load)
    assert {r["Name"] for r in cache.loaded()} == {"m"} and all("LoadSeconds" in r for r in cache.loaded())
