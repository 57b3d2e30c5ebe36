"""Decode once with PyAV: 16 kHz mono audio, and video frames sampled adaptively by presentation time.

Each stream is decoded exactly once per job and fanned out to every analyzer that needs it. All
times are seconds from the container's presentation origin (``pts * time_base - origin``), the same
origin for audio and video, never frame index / fps.

Audio: resampled to mono float32 at 16 kHz with an explicit resampler flush; samples are placed by
their PTS, so a late-starting track or a gap becomes silence instead of shifting later speech.

Video: :func:`iter_frames` scans the stream at ``scan_fps`` (a tiny grey signature per scanned frame)
and hands out only the frames a :class:`~openvod.pipeline.sampling.FrameSampler` selects (shot
changes, content changes), converted to RGB at the analysis size.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

from openvod.pipeline.sampling import FrameSampler, SamplerOptions, SelectedFrame


class DecodeError(Exception):
    """A stream exists but cannot be decoded (corrupt packets, no decodable frame)."""


class MissingStream(DecodeError):
    """The file has no stream of the kind asked for."""


@dataclass(frozen=True)
class StreamInfo:
    """What the pipeline needs to know about a media file."""

    duration: float  # seconds (0.0 when unknown)
    origin: float  # presentation time of the container start, seconds
    has_video: bool
    has_audio: bool
    width: int = 0
    height: int = 0
    fps: float = 0.0
    rotation: int = 0


@dataclass
class AudioTrack:
    """Mono float32 samples at ``sample_rate``; sample 0 is at presentation time 0."""

    samples: np.ndarray
    sample_rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


@dataclass
class DecodeStats:
    """Counters of one decode pass (reported in the job's detail)."""

    frames_decoded: int = 0
    frames_scanned: int = 0
    frames_selected: int = 0
    corrupt_packets: int = 0
    audio_frames: int = 0
    seconds: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)


def _open(path: str | Path) -> av.container.InputContainer:
    try:
        return av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise DecodeError(f"The file cannot be opened as media: {exc}") from None


def _origin(c: av.container.InputContainer) -> float:
    return c.start_time / av.time_base if c.start_time is not None else 0.0


def _rotation(frame: av.VideoFrame) -> int:
    try:
        rot = int(round(frame.rotation or 0))
    except (AttributeError, TypeError, ValueError):
        return 0
    return rot % 360 if rot % 90 == 0 else 0


def probe(path: str | Path) -> StreamInfo:
    """Streams, duration and geometry (no frame is decoded)."""
    with _open(path) as c:
        v = c.streams.video[0] if c.streams.video else None
        a = c.streams.audio[0] if c.streams.audio else None
        duration = c.duration / av.time_base if c.duration is not None else 0.0
        if not duration:
            for s in (v, a):
                if s is not None and s.duration is not None and s.time_base is not None:
                    duration = max(duration, float(s.duration * s.time_base))
        return StreamInfo(
            duration=max(0.0, duration),
            origin=_origin(c),
            has_video=v is not None,
            has_audio=a is not None,
            width=v.codec_context.width if v is not None else 0,
            height=v.codec_context.height if v is not None else 0,
            fps=float(v.average_rate) if v is not None and v.average_rate else 0.0,
        )


def decode_audio(path: str | Path, sample_rate: int = 16000, *, max_corrupt: int = 50,
                 stats: DecodeStats | None = None) -> AudioTrack:
    """The first audio stream as mono float32 at ``sample_rate``, placed by presentation time."""
    stats = stats if stats is not None else DecodeStats()
    chunks: list[np.ndarray] = []
    pos = 0  # samples written so far
    with _open(path) as c:
        if not c.streams.audio:
            raise MissingStream("The file has no audio stream.")
        stream = c.streams.audio[0]
        origin = _origin(c)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        packets = 0

        def place(frames: list[av.AudioFrame], t: float | None) -> None:
            nonlocal pos
            for i, f in enumerate(frames):
                arr = f.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                if i == 0 and t is not None:
                    want = int(round(t * sample_rate))
                    # Re-sync only on a real gap or overlap (> 100 ms); the resampler's own delay is smaller.
                    if want - pos > sample_rate // 10:
                        chunks.append(np.zeros(want - pos, np.float32))
                        pos = want
                    elif pos - want > sample_rate // 10:
                        cut = min(len(arr), pos - want)
                        arr = arr[cut:]
                chunks.append(arr)
                pos += len(arr)

        for packet in c.demux(stream):
            packets += 1
            try:
                frames = packet.decode()
            except (av.FFmpegError, ValueError):
                stats.corrupt_packets += 1
                if stats.corrupt_packets > max_corrupt:
                    raise DecodeError(f"The audio stream is corrupt ({stats.corrupt_packets} bad packets).") from None
                continue
            for frame in frames:
                stats.audio_frames += 1
                t = None
                if frame.pts is not None and frame.time_base is not None:
                    t = float(frame.pts * frame.time_base) - origin
                frame.pts = None  # the resampler must not try to reconcile timestamps itself
                place(resampler.resample(frame), t)
        place(resampler.resample(None), None)  # flush the resampler's buffered tail
    if stats.audio_frames == 0:
        raise DecodeError("The audio stream has no decodable frame.")
    samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    return AudioTrack(samples=samples, sample_rate=sample_rate)


@dataclass(frozen=True)
class FrameOptions:
    """How video frames are scanned and handed out."""

    max_side: int = 960  # analysis frames are scaled so their longer side is at most this
    skip_nonref: bool = True  # skip non-reference frames: cheaper decode, every kept frame is whole
    skip_loop_filter: bool = True  # no deblocking (~15 % less decode CPU; analysis does not need it)
    max_corrupt_ratio: float = 0.2
    sampler: SamplerOptions = field(default_factory=SamplerOptions)


def _analysis_size(w: int, h: int, max_side: int) -> tuple[int, int]:
    s = min(1.0, max_side / max(w, h))
    return max(2, int(round(w * s / 2)) * 2), max(2, int(round(h * s / 2)) * 2)


def iter_frames(path: str | Path, options: FrameOptions | None = None, *,
                stats: DecodeStats | None = None) -> Iterator[SelectedFrame]:
    """Decode the first video stream once; yield the frames the sampler selects, in time order."""
    opts = options or FrameOptions()
    stats = stats if stats is not None else DecodeStats()
    sampler = FrameSampler(opts.sampler)
    sw, sh = opts.sampler.signature_size
    with _open(path) as c:
        if not c.streams.video:
            raise MissingStream("The file has no video stream.")
        stream = c.streams.video[0]
        stream.thread_type = "AUTO"
        if opts.skip_nonref:
            stream.codec_context.skip_frame = "NONREF"
        if opts.skip_loop_filter:
            stream.codec_context.options = {"skip_loop_filter": "all"}
        origin = _origin(c)
        size = _analysis_size(stream.codec_context.width or 2, stream.codec_context.height or 2, opts.max_side)
        packets = 0
        next_scan = -math.inf
        step = 1.0 / opts.sampler.scan_fps
        last_t = 0.0
        for packet in c.demux(stream):
            packets += 1
            try:
                frames = packet.decode()
            except (av.FFmpegError, ValueError):
                stats.corrupt_packets += 1
                if packets > 20 and stats.corrupt_packets > opts.max_corrupt_ratio * packets:
                    raise DecodeError(
                        f"The video stream is corrupt ({stats.corrupt_packets} of {packets} packets).") from None
                continue
            for frame in frames:
                stats.frames_decoded += 1
                t = float(frame.pts * frame.time_base) - origin if frame.pts is not None and frame.time_base else last_t
                last_t = t
                if t + 1e-6 < next_scan:
                    continue
                next_scan = t + step
                stats.frames_scanned += 1
                sig = frame.to_ndarray(format="gray", width=sw, height=sh)
                decision = sampler.consider(t, sig)
                if decision is None:
                    continue
                w, h = size
                img: np.ndarray = frame.to_ndarray(format="rgb24", width=w, height=h)
                rot = _rotation(frame)
                if rot:
                    img = np.ascontiguousarray(np.rot90(img, k=rot // 90))
                stats.frames_selected += 1
                yield decision.with_image(img)
        stats.extra["last_frame_s"] = last_t
        stats.extra["shots"] = float(len(sampler.cuts) + 1)
        if stats.frames_decoded == 0:
            raise DecodeError("The video stream has no decodable frame.")
