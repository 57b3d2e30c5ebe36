"""The media pipeline's rules on generated media: one time origin, rotation applied once, PTS-only
timestamps, one corrupt-packet / truncation rule, the stored probe reused, and every analyzer
(DNA, image, tag) seeing the same time for the same frame."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from openvod.analyzers.dna.fingerprint import FingerprintOptions, decode_samples
from openvod.analyzers.image.samples import iter_samples
from openvod.analyzers.tag.frames import selected_frames
from openvod.media.probe import probe as register_probe
from openvod.pipeline import DecodeError, DecodeStats, MediaProbe, VideoNeed, open_media, stored_probe
from openvod.pipeline import media as media_mod
from openvod.pipeline import probe as probe_mod


def _write(path: Path, frames: list[np.ndarray], fps: int = 10, *, start_s: float = 0.0, rotation: int | None = None,
           audio_s: float = 0.0, fmt: str | None = None, options: dict[str, str] | None = None,
           preset: str = "ultrafast") -> Path:
    """An H.264 file (ultrafast: no B-frames, CAVLC); optional display rotation and a silent audio track from 0 s."""
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w", format=fmt, options=options or {}) as c:
        vs = c.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.options = {"preset": preset}
        if rotation is not None:
            vs.set_display_rotation(rotation)
        a_s = None
        if audio_s > 0:
            a_s = c.add_stream("aac", rate=16000)
            a_s.layout = "mono"
        for i, img in enumerate(frames):
            f = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            f.pts, f.time_base = i + int(round(start_s * fps)), Fraction(1, fps)
            for p in vs.encode(f):
                c.mux(p)
        for p in vs.encode():
            c.mux(p)
        if a_s is not None:
            for k in range(0, int(audio_s * 16000), 1024):
                af = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="flt", layout="mono")
                af.sample_rate, af.pts, af.time_base = 16000, k, Fraction(1, 16000)
                for p in a_s.encode(af):
                    c.mux(p)
            for p in a_s.encode():
                c.mux(p)
    return path


def _shots(values: list[int], seconds: float, fps: int = 10, w: int = 96, h: int = 64) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    out = []
    for v in values:
        base = np.clip(v + rng.integers(-30, 30, (h, w, 1)), 0, 255).astype(np.uint8).repeat(3, axis=2)
        out += [base] * int(seconds * fps)
    return out


def _pts_times(path: Path, origin: float) -> list[float]:
    with av.open(str(path)) as c:
        return [float(f.pts * f.time_base) - origin for f in c.decode(video=0)]


# ----------------------------------------------------------------------------- rotation
def test_rotated_phone_video_is_upright_for_every_analyzer(tmp_path: Path) -> None:
    """A landscape-coded picture with a display matrix (a phone held upright): turned once, for all."""
    img = np.zeros((64, 96, 3), np.uint8)
    img[:16, :24] = 255  # a marker in the stored top-left corner
    path = _write(tmp_path / "phone.mp4", [img] * 10, rotation=-90)  # 90 degrees clockwise to display
    media = open_media(path)
    assert media.probe.rotation == 270
    assert (media.probe.width, media.probe.height) == (96, 64) and media.probe.display_size == (64, 96)

    frame = next(media.video(VideoNeed()))
    assert frame.size == (64, 96)
    luma = frame.luma()
    assert luma.shape == (96, 64)
    assert luma[:20, -16:].mean() > 200 and luma[-20:, :16].mean() < 50  # stored top-left -> upright top-right
    for pic in (frame.grey(32, 48), frame.luma_box(32, 48), frame.luma_area(32, 48), frame.rgb(32, 48)[..., 0],
                frame.rgb()[..., 0]):
        hh, ww = pic.shape[:2]
        assert hh > ww and pic[: hh // 6, -ww // 6 :].mean() > 200 and pic[-hh // 4 :, : ww // 4].mean() < 50

    s = decode_samples(path, FingerprintOptions(), media=media)
    assert (s.width, s.height) == (64, 96) and s.pictures.shape[1:] == (192, 96)  # portrait working picture
    sample = next(iter_samples(media, 4.0, prefetch_depth=0))
    assert sample.luma.shape == (96, 64) and sample.small.shape[0] > sample.small.shape[1]
    tag = next(selected_frames(media))
    assert tag.image is not None and tag.image.shape[0] > tag.image.shape[1]
    grabbed = media.grab([0.0])[0.0]
    assert grabbed.shape == (96, 64, 3) and grabbed[:20, -16:].mean() > 200
    clip = media.clip(0.0, 0.5, 5.0, 32)
    assert clip and clip[0][1].shape[0] > clip[0][1].shape[1]


# ----------------------------------------------------------------------------- time origin
def test_stream_starting_at_nonzero_pts_is_timed_from_the_container_start(tmp_path: Path) -> None:
    frames = _shots([60, 200], 1.0)
    alone = _write(tmp_path / "late.mp4", frames, start_s=2.0)
    media = open_media(alone)
    assert abs(media.probe.origin - 2.0) < 1e-6
    assert [round(f.t, 3) for f in media.video(VideoNeed())][:3] == [0.0, 0.1, 0.2]

    # With an audio track from 0 s, the container starts at 0: the video keeps its 2 s offset.
    with_audio = _write(tmp_path / "late_av.mp4", frames, start_s=2.0, audio_s=5.0)
    media = open_media(with_audio)
    assert abs(media.probe.origin) < 0.05
    times = [f.t for f in media.video(VideoNeed())]
    assert abs(times[0] - 2.0) < 0.05 and abs(times[10] - 3.0) < 0.05
    cut = next(f for f in selected_frames(media) if f.reason == "cut")
    assert abs(cut.t - 3.0) < 0.15  # the second shot starts at 3 s on the shared timeline


def test_every_analyzer_gets_the_same_time_for_the_same_frame(tmp_path: Path) -> None:
    path = _write(tmp_path / "cuts.mp4", _shots([40, 200, 90], 1.5, fps=12), start_s=0.5, audio_s=5.0)
    media = open_media(path)
    truth = _pts_times(path, media.probe.origin)
    dna = decode_samples(path, FingerprintOptions(sample_fps=4.0), media=media).times.tolist()
    image = [s.t for s in iter_samples(media, 4.0, skip="DEFAULT", prefetch_depth=0)]
    tag = [f.t for f in selected_frames(media)]
    assert dna == image  # the same grid over the same frames
    for t in dna + tag:
        assert min(abs(t - x) for x in truth) < 1e-9  # every time is a frame's PTS x time_base - origin
    assert abs(dna[0] - 0.5) < 1e-6 and abs(tag[0] - 0.5) < 1e-6


def test_frame_without_timestamp_is_not_handed_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path / "v.mp4", _shots([100], 1.0))
    decoded = media_mod._decoded

    def drop_third_pts(c, s, stats):  # type: ignore[no-untyped-def]
        for i, f in enumerate(decoded(c, s, stats)):
            if i == 2:
                f.pts = None
            yield f

    monkeypatch.setattr(media_mod, "_decoded", drop_third_pts)
    stats = DecodeStats()
    times = [round(f.t, 3) for f in open_media(path).video(VideoNeed(), stats=stats)]
    assert stats.untimed == 1 and stats.frames_decoded == 10
    assert times == [0.0, 0.1, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]  # no guessed time for the untimed frame


def test_a_stream_without_any_timestamp_is_damaged(tmp_path: Path) -> None:
    path = _write(tmp_path / "raw.h264", _shots([100], 0.5), fmt="h264")
    with pytest.raises(DecodeError, match="timestamp"):
        list(open_media(path).video(VideoNeed()))


# ----------------------------------------------------------------------------- corrupt and truncated
def test_truncated_file_keeps_what_was_decoded(tmp_path: Path) -> None:
    full = _write(tmp_path / "full.mp4", _shots([40, 200], 2.0), options={"movflags": "faststart"})
    data = full.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    stats = DecodeStats()
    times = [f.t for f in open_media(cut).video(VideoNeed(), stats=stats)]
    assert 0.5 < times[-1] < 3.9 and len(times) < 40
    assert times == sorted(times) and times[0] == 0.0


def _garble(src: Path, dst: Path, bad: set[int]) -> Path:
    """Remux ``src`` to Matroska with the payload of the packets numbered in ``bad`` replaced by noise."""
    rng = np.random.default_rng(3)
    with av.open(str(src)) as i, av.open(str(dst), "w") as o:
        vs = i.streams.video[0]
        os_ = o.add_stream_from_template(vs)
        n = 0
        for p in i.demux(vs):
            if p.size == 0:
                continue
            if n in bad:
                q = av.Packet(bytes(p)[:4] + rng.integers(0, 256, p.size - 4, dtype=np.uint8).tobytes())
                q.pts, q.dts, q.time_base = p.pts, p.dts, p.time_base
                p = q
            p.stream = os_
            o.mux(p)
            n += 1
    return dst


def test_corrupt_packets_are_skipped_then_the_stream_is_damaged(tmp_path: Path) -> None:
    # The default preset (CABAC, B-frames): noise in a packet makes the decoder report an error.
    path = _write(tmp_path / "v.mp4", _shots([40, 200, 90, 150], 1.0, w=160, h=96), preset="medium")
    few = _garble(path, tmp_path / "few.mkv", {15, 27})
    stats = DecodeStats()
    times = [f.t for f in open_media(few).video(VideoNeed(skip="DEFAULT"), stats=stats)]
    assert 1 <= stats.corrupt_packets <= 8 and len(times) >= 30 and times == sorted(times)  # skipped, not fatal
    many = _garble(path, tmp_path / "many.mkv", set(range(5, 40, 2)))
    with pytest.raises(DecodeError, match="corrupt"):
        list(open_media(many).video(VideoNeed(skip="DEFAULT")))


def test_junk_is_not_media(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    with pytest.raises(DecodeError):
        list(open_media(junk).video(VideoNeed()))


# ----------------------------------------------------------------------------- the stored probe
def test_the_probe_stored_at_register_media_is_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    img = np.zeros((64, 96, 3), np.uint8)
    path = _write(tmp_path / "phone.mp4", [img] * 10, rotation=90, start_s=1.0)
    info = register_probe(path)
    row = {"probe": info.probe_json()}
    stored = stored_probe(row)
    assert stored is not None and stored == probe_mod.probe_file(path)
    assert stored_probe(json.loads(info.probe_json())) == stored  # as JobContext.probe holds it
    assert stored.rotation == 90 and abs(stored.origin - 1.0) < 1e-6
    assert MediaProbe.from_json(json.loads(json.dumps(stored.to_json()))) == stored
    assert stored_probe({"probe": json.dumps({"Format": "mov", "Video": []})}) is None  # registered before

    def no_probe(path: Path) -> MediaProbe:
        raise AssertionError("probed again")

    monkeypatch.setattr(media_mod, "probe_file", no_probe)
    media = open_media(path, stored)
    assert media.probe is stored and len(list(media.video(VideoNeed()))) == 10


def test_one_pass_serves_several_needs_as_separate_passes_would(tmp_path: Path) -> None:
    """A job with several analyzers decodes once: each need gets exactly what its own pass would give."""
    from openvod.pipeline import SamplerOptions

    path = _write(tmp_path / "cuts.mp4", _shots([40, 200, 90], 1.0))
    media = open_media(path)
    grid, adaptive = VideoNeed(fps=4.0), VideoNeed(adaptive=SamplerOptions())
    alone_grid = [f.t for f in media.video(grid)]
    alone_adaptive = [(f.t, f.selection.reason) for f in media.video(adaptive)]
    stats = DecodeStats()
    both = list(media.video(grid, adaptive, stats=stats))
    assert [f.t for f in both if 0 in f.wanted] == alone_grid
    assert [(f.t, f.selection.reason) for f in both if 1 in f.wanted] == alone_adaptive
    assert stats.frames_decoded == 30 and stats.frames_served == len(both)
