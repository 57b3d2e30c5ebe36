"""Probe a media file with PyAV: container, streams, duration, size, bitrate. Decodes a frame to be sure.

The same pass builds the media pipeline's probe (``openvod.pipeline.probe.describe``: time origin,
rotation, geometry), stored with the media row and reused by every job on it.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from openvod.pipeline.probe import describe


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
    pipeline: dict[str, Any] = field(default_factory=dict)  # openvod.pipeline.MediaProbe, reused by jobs

    def probe_json(self) -> str:
        """The media row's ``probe`` column: container and streams, and the pipeline's probe."""
        return json.dumps({"Format": self.format_name, "Video": self.video_streams, "Audio": self.audio_streams,
                           "Pipeline": self.pipeline})


def _frac(x: Fraction | None) -> str:
    return f"{x.numerator}/{x.denominator}" if x else ""


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            h.update(chunk)
    return h.hexdigest()


DEFAULT_MAX_PIXELS = 7680 * 4320
# Streams that get the bounded decoder options (formats with more streams are not media we accept).
_MAX_STREAMS = 64
_slots_lock = threading.Lock()
_slots: dict[int, threading.BoundedSemaphore] = {}
# Formats whose streams appear only while FFmpeg reads packets (MPEG-PS, FLV): per-stream decoder
# options cannot be set before FFmpeg decodes frames to describe them, so they are opened in a
# child process under a memory limit instead.
_CHILD_MEMORY_BYTES = 512 * 1024 * 1024


def _slot(n: int) -> threading.BoundedSemaphore:
    with _slots_lock:
        if n not in _slots:
            _slots[n] = threading.BoundedSemaphore(n)
        return _slots[n]


def probe(path: Path, *, max_pixels: int = DEFAULT_MAX_PIXELS, concurrency: int = 2) -> MediaInfo:
    """Open the file, require a decodable video stream, and describe it. Raises ProbeError.

    Memory is bounded: FFmpeg's decoders get ``max_pixels`` (they refuse to allocate a bigger frame,
    also while the container is being analysed) and one thread; a video whose declared size exceeds
    ``max_pixels`` is refused before any frame is decoded; at most ``concurrency`` probes run at once
    in this process.
    """
    size = path.stat().st_size
    if size == 0:
        raise ProbeError("the file is empty")
    with _slot(concurrency):
        return _probe(path, size, max_pixels)


def _open(path: Path, max_pixels: int, header_only: bool = False) -> Any:
    opts = {"max_pixels": str(max_pixels), "threads": "1"}
    if header_only:
        opts["skip_frame"] = "all"  # describe the streams without decoding a frame
    try:
        return av.open(str(path), metadata_errors="ignore", stream_options=[opts] * _MAX_STREAMS)  # type: ignore[list-item]
    except ValueError as exc:
        if "stream_options" in str(exc):
            return None  # streams appear only while reading: probe in a child process
        raise ProbeError(f"not a media file: {exc}") from exc
    except (av.FFmpegError, UnicodeDecodeError, OSError) as exc:
        raise ProbeError(f"not a media file: {exc}") from exc


def _probe(path: Path, size: int, max_pixels: int) -> MediaInfo:
    header = _open(path, max_pixels, header_only=True)
    if header is None:
        return _probe_in_child(path, max_pixels)
    with header:
        # The declared size, read without decoding: most huge files stop here, at a few MB.
        for v in header.streams.video[:1]:
            if v.codec_context is not None:
                _check_size(v.codec_context, max_pixels)
    container = _open(path, max_pixels)
    return _describe(container, path, size, max_pixels)


def _check_size(cc: Any, max_pixels: int) -> None:
    w, h = int(cc.width or 0), int(cc.height or 0)
    if w * h > max_pixels:
        raise ProbeError(f"the video is {w}x{h}; at most {max_pixels} pixels a frame are accepted (media.max_pixels)")


def _describe(container: Any, path: Path, size: int, max_pixels: int) -> MediaInfo:
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
        _check_size(v.codec_context, max_pixels)
        # Prove the stream decodes: at least one frame, with the same bounded decoder options.
        v.codec_context.options = {"max_pixels": str(max_pixels)}
        v.thread_count = 1
        try:
            got = False
            first = None
            for frame in container.decode(video=0):
                got = frame is not None
                first = frame
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
            pipeline=describe(container, first).to_json(),
        )


def _limit_memory() -> None:  # the child limits itself (no preexec_fn in a threaded server)
    resource.setrlimit(resource.RLIMIT_AS, (_CHILD_MEMORY_BYTES, _CHILD_MEMORY_BYTES))


def _probe_in_child(path: Path, max_pixels: int) -> MediaInfo:
    """Probe in a fresh interpreter limited to ``_CHILD_MEMORY_BYTES`` of address space."""
    try:
        r = subprocess.run(
            [sys.executable, "-m", "openvod.media.probe", str(path), str(max_pixels)],
            capture_output=True, timeout=120, env={**os.environ, "OMP_NUM_THREADS": "1"},
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ProbeError("probing the file took too long") from None
    try:
        out = json.loads(r.stdout.decode() or "null")
    except ValueError:
        out = None
    if not isinstance(out, dict):
        raise ProbeError("the file could not be probed within the memory limit")
    if "error" in out:
        raise ProbeError(str(out["error"]))
    return MediaInfo(**out)


def _child_main(argv: list[str]) -> int:
    from dataclasses import asdict

    _limit_memory()
    path, max_pixels = Path(argv[0]), int(argv[1])
    try:
        container = av.open(str(path), metadata_errors="ignore")
        print(json.dumps(asdict(_describe(container, path, path.stat().st_size, max_pixels))))
    except ProbeError as exc:
        print(json.dumps({"error": str(exc)}))
    except (av.FFmpegError, UnicodeDecodeError, OSError, MemoryError) as exc:
        print(json.dumps({"error": f"not a media file: {exc}"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(_child_main(sys.argv[1:]))
