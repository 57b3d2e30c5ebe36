"""What the pipeline needs to know about a media file, probed once.

RegisterMedia probes the file (``openvod.media.probe``, which builds on :func:`describe`) and stores
the result in the media row's ``probe`` JSON under ``"Pipeline"``; a job passes it back to
:func:`openvod.pipeline.open_media` so the file is not probed again. Files registered before that
key existed (or opened outside a job) are probed here.

**Time origin** (the one every analyzer uses): the container's start time, ``start_time`` of the
format context, i.e. the earliest presentation time of any stream. A frame's time is
``pts * time_base - origin`` seconds; audio and video share it, so a track that starts late keeps
its offset.

**Rotation**: degrees counter-clockwise (0, 90, 180, 270) to turn the stored picture upright, read
from the display matrix of the first decoded frame (PyAV's ``VideoFrame.rotation``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import av


class DecodeError(Exception):
    """A stream exists but cannot be decoded (corrupt packets, no decodable frame), or the file is not media."""


class MissingStream(DecodeError):
    """The file has no stream of the kind asked for."""


@dataclass(frozen=True)
class MediaProbe:
    """Streams, duration, geometry and the time origin of one media file."""

    duration: float  # seconds (0.0 when unknown)
    origin: float  # presentation time of the container start, seconds (see module doc)
    has_video: bool
    has_audio: bool
    width: int = 0  # stored (coded) picture size of the first video stream
    height: int = 0
    fps: float = 0.0  # average frame rate, 0.0 when unknown
    sar: float = 1.0  # sample aspect ratio (pixel width / height)
    rotation: int = 0  # degrees counter-clockwise to display upright (0, 90, 180, 270)

    @property
    def display_size(self) -> tuple[int, int]:
        """Width, height of the upright picture with square pixels."""
        w = int(round(self.width * self.sar)) if self.sar and abs(self.sar - 1.0) > 1e-3 else self.width
        return (self.height, w) if self.rotation in (90, 270) else (w, self.height)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> MediaProbe:
        return cls(duration=float(d["duration"]), origin=float(d["origin"]), has_video=bool(d["has_video"]),
                   has_audio=bool(d["has_audio"]), width=int(d.get("width", 0)), height=int(d.get("height", 0)),
                   fps=float(d.get("fps", 0.0)), sar=float(d.get("sar", 1.0) or 1.0),
                   rotation=int(d.get("rotation", 0)) % 360)


def stored_probe(stored: Any) -> MediaProbe | None:
    """The probe RegisterMedia stored, or None when absent (media registered before it was stored).

    ``stored``: the stored probe (a mapping with ``"Pipeline"``, as ``JobContext.probe`` holds it), or
    the media row (its ``probe`` column, JSON text or a mapping), or None.
    """
    if stored is None:
        return None
    if isinstance(stored, Mapping) and "Pipeline" not in stored and "probe" in stored:
        stored = stored["probe"]
    try:
        d = json.loads(stored) if isinstance(stored, str | bytes) else stored
        return MediaProbe.from_json(d["Pipeline"]) if isinstance(d, Mapping) and d.get("Pipeline") else None
    except (ValueError, KeyError, TypeError):
        return None


def rotation_of(frame: av.VideoFrame | None) -> int:
    """Display-matrix rotation of a decoded frame (degrees CCW, a multiple of 90; 0 when none or odd)."""
    if frame is None:
        return 0
    try:
        rot = int(round(frame.rotation or 0))
    except (AttributeError, TypeError, ValueError):
        return 0
    return rot % 360 if rot % 90 == 0 else 0


def container_origin(c: Any) -> float:
    return c.start_time / av.time_base if c.start_time is not None else 0.0


def describe(c: Any, first_frame: av.VideoFrame | None) -> MediaProbe:
    """A :class:`MediaProbe` of an open container; ``first_frame``: its first decoded video frame (rotation)."""
    v = c.streams.video[0] if c.streams.video else None
    a = c.streams.audio[0] if c.streams.audio else None
    duration = c.duration / av.time_base if c.duration is not None else 0.0
    if not duration:
        for s in (v, a):
            if s is not None and s.duration is not None and s.time_base is not None:
                duration = max(duration, float(s.duration * s.time_base))
    fps = sar = 0.0
    width = height = 0
    if v is not None:
        cc = v.codec_context
        width, height = int(cc.width or 0), int(cc.height or 0)
        fps_q = v.average_rate or v.guessed_rate
        fps = float(fps_q) if fps_q else 0.0
        sar = float(v.sample_aspect_ratio) if v.sample_aspect_ratio else 1.0
    return MediaProbe(duration=max(0.0, float(duration)), origin=container_origin(c), has_video=v is not None,
                      has_audio=a is not None, width=width, height=height, fps=fps, sar=sar or 1.0,
                      rotation=rotation_of(first_frame))


def open_container(path: str | Path) -> Any:
    try:
        return av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise DecodeError(f"The file cannot be opened as media: {exc}") from None


def first_video_frame(c: Any) -> av.VideoFrame | None:
    """The first decodable video frame (None when there is none); the container is left mid-stream."""
    if not c.streams.video:
        return None
    try:
        for frame in c.decode(c.streams.video[0]):
            return frame
    except (av.FFmpegError, ValueError):
        return None
    return None


def probe_file(path: str | Path) -> MediaProbe:
    """Probe a file that has no stored probe (decodes at most the first video frame, for its rotation)."""
    with open_container(path) as c:
        first = first_video_frame(c)
        # describe() reads header fields only; decoding one frame does not change them.
        return describe(c, first)
