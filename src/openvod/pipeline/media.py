"""``open_media``: the one way analyzers get frames and audio out of a file.

A job opens the file once (``open_media(path, probe)``, reusing the probe RegisterMedia stored) and
asks for what its analyzers need, all at once, as :class:`VideoNeed` s; one decode pass serves them
all. Rules shared by every analyzer:

* **Time origin**: the container start (see :mod:`openvod.pipeline.probe`); a frame's time is
  ``pts * time_base - origin``.
* **Timestamps** come from the PTS only. A frame without a PTS is not handed out (counted in
  ``DecodeStats.untimed``); a frame whose time is not after the previous one's is dropped too
  (``DecodeStats.out_of_order``). Nothing guesses a frame duration.
* **Corrupt packets**: a packet that fails to decode is skipped and counted; the stream is damaged
  (:class:`DecodeError`) once more than ``max(8, 20 %)`` of the packets read so far failed, or when
  no frame decodes. A read error (a truncated file) ends the stream: what was decoded is kept.
* **Rotation**: applied once, in :class:`~openvod.pipeline.frames.Frame`; every picture is upright.
* **Decoder shortcuts**: each need says which frames it can do without (``skip``) and whether it
  needs deblocked pictures; the pass uses the least skipping any need allows.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from openvod.pipeline.audio import AudioTrack, decode_audio
from openvod.pipeline.frames import Frame
from openvod.pipeline.probe import DecodeError, MediaProbe, MissingStream, open_container, probe_file
from openvod.pipeline.progress import Reporter
from openvod.pipeline.sampling import FrameSampler, SamplerOptions
from openvod.pipeline.seek import clip as _seek_clip
from openvod.pipeline.seek import grab as _seek_grab
from openvod.pipeline.stats import DecodeStats, check_corrupt

# What a decode pass may leave undecoded, from least to most. "auto" skips all B-frames and falls back
# to skipping only non-reference frames when the I/P cadence is too sparse for the sampling rate.
SKIP_ORDER = ("DEFAULT", "NONREF", "auto", "BIDIR")


@dataclass(frozen=True)
class VideoNeed:
    """What one analyzer wants from the video stream.

    ``fps`` > 0: the first frame at or after each multiple of ``1/fps`` s (a fixed grid, so the rate
    does not drift with skipped frames). ``adaptive``: a frame every ``1/scan_fps`` s is scanned and
    a :class:`FrameSampler` keeps the changed ones (``Frame.selection``). Neither: every frame.
    """

    fps: float = 0.0
    adaptive: SamplerOptions | None = None
    skip: str = "NONREF"  # one of SKIP_ORDER
    loop_filter: bool = False  # True: the pictures must be deblocked


class _Schedule:
    """Which frame times one need wants."""

    def __init__(self, need: VideoNeed):
        self.need = need
        self.sampler = FrameSampler(need.adaptive) if need.adaptive is not None else None
        self.step = 1.0 / (need.adaptive.scan_fps if need.adaptive is not None else need.fps or math.inf)
        self.next = 0.0 if need.adaptive is None else -math.inf

    def wants(self, t: float) -> bool:
        if self.need.adaptive is not None:  # scan: every step after the last scanned frame
            if t + 1e-6 < self.next:
                return False
            self.next = t + self.step
            return True
        if self.need.fps <= 0:
            return True
        if t + 1e-6 < self.next:
            return False
        self.next = (math.floor(t / self.step + 1e-6) + 1) * self.step
        return True


class Media:
    """An opened media file: its probe, and decode passes over its streams."""

    def __init__(self, path: Path, probe: MediaProbe):
        self.path = path
        self.probe = probe

    @property
    def origin(self) -> float:
        return self.probe.origin

    def grab(self, times: list[float], *, skip: str = "DEFAULT", reuse_s: float = 3.0) -> dict[float, np.ndarray]:
        """Full-resolution upright RGB frames at the given times (see :func:`openvod.pipeline.seek.grab`)."""
        return _seek_grab(self, times, skip=skip, reuse_s=reuse_s)

    def clip(self, start: float, end: float, fps: float, width: int) -> list[tuple[float, np.ndarray]]:
        """Upright RGB frames of a time range (see :func:`openvod.pipeline.seek.clip`)."""
        return _seek_clip(self, start, end, fps, width)

    def audio(self, sample_rate: int = 16000, *, stats: DecodeStats | None = None) -> AudioTrack:
        """The first audio stream as mono float32 at ``sample_rate``; sample 0 is at time 0."""
        return decode_audio(self.path, self.origin, sample_rate, stats=stats if stats is not None else DecodeStats())

    def video(self, *needs: VideoNeed, stats: DecodeStats | None = None) -> Iterator[Frame]:
        """Decode the first video stream once; yield each frame some need wants, in time order.

        ``Frame.wanted`` tells which needs (indices) want the frame; an adaptive need's selection is
        in ``Frame.selection``.
        """
        needs = needs or (VideoNeed(),)
        stats = stats if stats is not None else DecodeStats()
        schedules = [_Schedule(n) for n in needs]
        with open_container(self.path) as c:
            if not c.streams.video:
                raise MissingStream("The file has no video stream.")
            s = c.streams.video[0]
            skipper = _Skipper(s, needs, stats)
            reformatter = VideoReformatter()  # one swscale context for the whole pass
            progress = Reporter(self.probe.duration)  # to the job's listener, if any (pipeline/progress.py)
            for frame, t in _timed(_decoded(c, s, stats), s.time_base, self.origin, stats):
                skipper.observe(t)
                progress.at(t)
                out = _offer(Frame(frame, t, self.probe.rotation, reformatter), schedules, stats)
                if out is not None:
                    yield out
            for sc in schedules:
                if sc.sampler is not None:
                    stats.extra["shots"] = float(len(sc.sampler.cuts) + 1)
        if stats.frames_decoded == 0:
            raise DecodeError("The video stream has no decodable frame.")
        if stats.frames_decoded == stats.untimed:
            raise DecodeError("No video frame has a presentation timestamp.")


class _Skipper:
    """Sets the decoder's shortcuts for a pass's needs; with ``auto``, falls back from B-frames to
    non-reference frames when the I/P cadence of the first 24 frames is too sparse for the grid."""

    def __init__(self, s: Any, needs: tuple[VideoNeed, ...], stats: DecodeStats):
        self.s, self.stats = s, stats
        self.auto = min((n.skip for n in needs), key=SKIP_ORDER.index) == "auto"
        self.grid_fps = max((n.fps for n in needs), default=0.0)
        self.first_t: float | None = None
        s.thread_type = "AUTO"
        stats.skip = "BIDIR" if self.auto else min((n.skip for n in needs), key=SKIP_ORDER.index)
        s.codec_context.skip_frame = stats.skip
        if not any(n.loop_filter for n in needs):
            s.codec_context.options = {"skip_loop_filter": "all"}

    def observe(self, t: float) -> None:
        if self.first_t is None:
            self.first_t = t
        st = self.stats
        if not self.auto or st.skip != "BIDIR" or st.frames_decoded != 24 or t <= self.first_t:
            return
        if (st.frames_decoded - 1) / (t - self.first_t) < 1.2 * self.grid_fps:  # too few I/P frames
            st.skip = "NONREF"
            self.s.codec_context.skip_frame = st.skip


def _timed(frames: Iterator[av.VideoFrame], stream_tb: Any, origin: float,
           stats: DecodeStats) -> Iterator[tuple[av.VideoFrame, float]]:
    """Frames with their time ``pts * time_base - origin``; untimed and non-increasing ones dropped."""
    last_t = -math.inf
    for frame in frames:
        stats.frames_decoded += 1
        tb = frame.time_base or stream_tb
        if frame.pts is None or tb is None:
            stats.untimed += 1
            continue
        t = float(frame.pts * tb) - origin
        if t <= last_t:
            stats.out_of_order += 1
            continue
        last_t = stats.last_t = t
        yield frame, t


def _offer(frame: Frame, schedules: list[_Schedule], stats: DecodeStats) -> Frame | None:
    """The frame, marked with the needs that want it, or None when none does."""
    wanted = [i for i, sc in enumerate(schedules) if sc.wants(frame.t)]
    if not wanted:
        return None
    stats.frames_scanned += 1
    wanted = [i for i in wanted if _select(schedules[i], frame)]
    if not wanted:
        return None
    frame.wanted = tuple(wanted)
    stats.frames_served += 1
    return frame


def _select(sc: _Schedule, frame: Frame) -> bool:
    if sc.sampler is None:
        return True
    assert sc.need.adaptive is not None
    sw, sh = sc.need.adaptive.signature_size
    sel = sc.sampler.consider(frame.t, frame.grey(sw, sh))
    frame.selection = sel
    return sel is not None


def _decoded(c: Any, s: Any, stats: DecodeStats) -> Iterator[av.VideoFrame]:
    """Frames of stream ``s`` with the corrupt-packet and truncation rules applied."""
    packets = c.demux(s)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except (av.FFmpegError, OSError):
            stats.truncated = True  # a read error: the rest of the file is missing or unreadable
            try:
                yield from s.codec_context.decode(None)  # the frames still in the decoder
            except (av.FFmpegError, ValueError):
                pass
            return
        stats.packets += 1
        try:
            frames = packet.decode()
        except (av.FFmpegError, ValueError):
            stats.corrupt_packets += 1
            check_corrupt(stats)
            continue
        yield from frames


def open_media(path: str | Path, probe: MediaProbe | None = None) -> Media:
    """Open a media file for analysis; ``probe``: the one stored at RegisterMedia (probed here if None)."""
    path = Path(path)
    return Media(path, probe if probe is not None else probe_file(path))

