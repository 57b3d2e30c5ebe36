"""Probe a media file with PyAV: container, streams, duration, size, bitrate. Decodes a few frames to be sure."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av


class ProbeError(ValueError):
    """The file is not a readable video."""


@dataclass
class MediaInfo:
    """What GetVideoInfo / GetMezzanineInfo report about a source file."""

    size: int
    md5: str
    duration: float
    width: int
    height: int
    fps: float
    bitrate_kbps: float
    format_name: str
    video_streams: list[dict[str, Any]] = field(default_factory=list)
    audio_streams: list[dict[str, Any]] = field(default_factory=list)


def _frac(x: Fraction | None) -> str:
    return f"{x.numerator}/{x.denominator}" if x else ""


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            h.update(chunk)
    return h.hexdigest()


def probe(path: Path) -> MediaInfo:
    """Open the file, require a decodable video stream, and describe it. Raises ProbeError."""
    size = path.stat().st_size
    if size == 0:
        raise ProbeError("the file is empty")
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, OSError) as exc:
        raise ProbeError(f"not a media file: {exc}") from exc
    with container:
        # A still image (PNG, JPEG, …) opens as a one-frame "video"; it is not a video file.
        fmt = container.format.name or ""
        if fmt == "image2" or fmt.endswith("_pipe"):
            raise ProbeError(f"the file is a still image ({fmt}), not a video")
        vstreams = list(container.streams.video)
        if not vstreams:
            raise ProbeError("the file has no video stream")
        v = vstreams[0]
        if v.codec_context is None or not v.codec_context.name:
            raise ProbeError("the video stream has no decodable codec")
        # Prove the stream decodes: at least one frame.
        try:
            got = False
            for frame in container.decode(video=0):
                got = frame is not None
                break
        except (av.FFmpegError, ValueError) as exc:
            raise ProbeError(f"the video stream does not decode: {exc}") from exc
        if not got:
            raise ProbeError("the video stream has no decodable frame")
        duration = 0.0
        if container.duration:
            duration = container.duration / 1_000_000
        elif v.duration and v.time_base:
            duration = float(v.duration * v.time_base)
        fps_q = v.average_rate or v.guessed_rate or v.base_rate
        fps = float(fps_q) if fps_q else 0.0
        bitrate = (container.bit_rate or (size * 8 / duration if duration else 0)) / 1000.0
        vinfo = []
        for s in vstreams:
            cc = s.codec_context
            vinfo.append(
                {
                    "Index": str(s.index),
                    "CodecName": cc.name or "",
                    "CodecLongName": getattr(cc.codec, "long_name", "") or "",
                    "CodecTimeBase": _frac(s.time_base),
                    "Timebase": _frac(s.time_base),
                    "Width": str(cc.width or 0),
                    "Height": str(cc.height or 0),
                    "Fps": f"{float(s.guessed_rate or 0):.3f}" if s.guessed_rate else "",
                    "AvgFPS": f"{float(s.average_rate):.3f}" if s.average_rate else "",
                    "Bitrate": f"{(s.bit_rate or 0) / 1000:.3f}",
                    "Duration": f"{float(s.duration * s.time_base):.4f}" if s.duration and s.time_base else "",
                    "NumFrames": str(s.frames or 0),
                    "PixFmt": cc.pix_fmt or "",
                    "Profile": cc.profile or "",
                    "StartTime": f"{float(s.start_time * s.time_base):.4f}" if s.start_time and s.time_base else "0",
                    "Lang": s.language or "",
                    "Sar": _frac(s.sample_aspect_ratio) if s.sample_aspect_ratio else "",
                }
            )
        ainfo = []
        for s in container.streams.audio:
            cc = s.codec_context
            ainfo.append(
                {
                    "Index": str(s.index),
                    "CodecName": cc.name or "",
                    "CodecLongName": getattr(cc.codec, "long_name", "") or "",
                    "CodecTimeBase": _frac(s.time_base),
                    "Timebase": _frac(s.time_base),
                    "SampleFmt": cc.format.name if cc.format else "",
                    "SampleRate": str(cc.sample_rate or 0),
                    "Channels": str(cc.channels if hasattr(cc, "channels") else len(cc.layout.channels)),
                    "ChannelLayout": cc.layout.name if cc.layout else "",
                    "Bitrate": f"{(s.bit_rate or 0) / 1000:.3f}",
                    "Duration": f"{float(s.duration * s.time_base):.4f}" if s.duration and s.time_base else "",
                    "NumFrames": str(s.frames or 0),
                    "Lang": s.language or "",
                    "StartTime": f"{float(s.start_time * s.time_base):.4f}" if s.start_time and s.time_base else "0",
                }
            )
        return MediaInfo(
            size=size,
            md5=_md5(path),
            duration=round(duration, 4),
            width=int(v.codec_context.width or 0),
            height=int(v.codec_context.height or 0),
            fps=round(fps, 3),
            bitrate_kbps=round(bitrate, 3),
            format_name=container.format.name,
            video_streams=vinfo,
            audio_streams=ainfo,
        )
