"""PyAV decoding for the image analyzer: one cheap analysis pass, then exact re-decodes of a few moments.

The analysis pass decodes the stream once with frame threading, skips B-frames (about two thirds of
a typical H.264 stream; every kept frame is still a real, whole picture; see ``SKIP_MODES``),
samples by presentation time (``pts * time_base``, never frame index / fps) and hands out small
copies: the luma plane at full resolution (a view, for blockiness), a mid-size grey image (sharpness,
text, faces) and a small RGB image (colour, shot signatures). Output frames are then decoded at full
resolution by seeking to the chosen times only.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

try:  # cv2 is a declared dependency; the handler reports itself unavailable without it.
    import cv2
except ImportError:  # pragma: no cover - exercised only on broken installs
    cv2 = None


# What the analysis pass may leave undecoded. "auto" skips all B-frames (I and P frames only, about a
# third of a typical H.264 stream, still several per second) and falls back to skipping only
# non-reference frames when the I/P cadence turns out too sparse for the sampling rate.
SKIP_MODES = {"auto": "BIDIR", "nonref": "NONREF", "none": "DEFAULT"}


class DecodeError(Exception):
    """The video cannot be decoded (no video stream, too many corrupt packets, no frame)."""


@dataclass(frozen=True)
class VideoInfo:
    """What the analysis needs to know about the video stream."""

    width: int
    height: int
    duration: float  # seconds, 0.0 when unknown
    fps: float  # average frame rate, 0.0 when unknown
    sar: float = 1.0  # sample aspect ratio (pixel width / height)
    rotation: int = 0  # degrees counter-clockwise to display upright (0, 90, 180, 270)

    @property
    def display_size(self) -> tuple[int, int]:
        w = int(round(self.width * self.sar)) if self.sar and self.sar != 1.0 else self.width
        h = self.height
        return (h, w) if self.rotation in (90, 270) else (w, h)


@dataclass
class Sample:
    """One analysis sample: a decoded frame at time ``t`` (seconds) in three sizes."""

    t: float
    luma: np.ndarray  # full-resolution Y plane (H, W) uint8
    grey: np.ndarray  # mid-size grey image, at most ``mid_width`` wide
    small: np.ndarray  # small RGB image (h, w, 3) uint8, ``small_width`` wide


@dataclass
class DecodeStats:
    """Counters of one analysis pass."""

    decoded: int = 0
    sampled: int = 0
    corrupt: int = 0
    packets: int = 0
    skip: str = "DEFAULT"  # the frames the decoder skipped by the end of the pass (see SKIP_MODES)


def _frame_time(frame: av.VideoFrame, stream: av.video.stream.VideoStream, fallback: float) -> float:
    if frame.pts is None:
        return fallback
    tb = frame.time_base or stream.time_base
    return float(frame.pts * tb) if tb is not None else fallback


def _start_time(stream: av.video.stream.VideoStream) -> float:
    if stream.start_time is None or stream.time_base is None:
        return 0.0
    return float(stream.start_time * stream.time_base)


def _rotation(stream: av.video.stream.VideoStream, frame: av.VideoFrame | None = None) -> int:
    rot = 0
    if frame is not None:
        try:
            rot = int(round(frame.rotation or 0))
        except (AttributeError, TypeError, ValueError):
            rot = 0
    return rot % 360 if rot % 90 == 0 else 0


def probe(path: str | Path) -> VideoInfo:
    """Size, duration, frame rate, aspect and rotation of the first video stream."""
    try:
        with av.open(str(path)) as c:
            if not c.streams.video:
                raise DecodeError("The file has no video stream.")
            s = c.streams.video[0]
            duration = 0.0
            if s.duration is not None and s.time_base is not None:
                duration = float(s.duration * s.time_base)
            elif c.duration is not None:
                duration = c.duration / av.time_base
            fps = float(s.average_rate) if s.average_rate else 0.0
            sar = float(s.sample_aspect_ratio) if s.sample_aspect_ratio else 1.0
            first = None
            try:
                first = next(c.decode(s))
            except (StopIteration, av.FFmpegError):
                first = None
            return VideoInfo(s.codec_context.width, s.codec_context.height, max(0.0, duration), fps,
                             sar or 1.0, _rotation(s, first))
    except av.FFmpegError as exc:
        raise DecodeError(f"The video cannot be opened: {exc}") from None


def _mid_size(w: int, h: int, mid_width: int) -> tuple[int, int]:
    if w <= mid_width:
        return w, h
    return mid_width, max(2, int(round(h * mid_width / w)))


def iter_samples(
    path: str | Path,
    fps: float,
    *,
    mid_width: int = 640,
    small_width: int = 160,
    skip: str = "auto",
    max_corrupt_ratio: float = 0.2,
    stats: DecodeStats | None = None,
    prefetch: int = 6,
) -> Iterator[Sample]:
    """Decode once and yield one :class:`Sample` every ``1/fps`` seconds of presentation time.

    With ``prefetch`` > 0 decoding runs in a helper thread, ``prefetch`` samples ahead, so the
    caller's per-sample analysis overlaps with decoding (both release the GIL).
    """
    stats = stats if stats is not None else DecodeStats()
    gen = _decode_samples(path, fps, mid_width, small_width, skip, max_corrupt_ratio, stats)
    if prefetch <= 0:
        yield from gen
        return
    q: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=prefetch)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in gen:
                while not stop.is_set():
                    try:
                        q.put(("sample", item), timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(("end", None))
        except BaseException as exc:  # handed to the consumer, raised there
            q.put(("error", exc))
        finally:
            gen.close()

    worker = threading.Thread(target=produce, name="aiimage-decode", daemon=True)
    worker.start()
    try:
        while True:
            kind, item = q.get()
            if kind == "end":
                break
            if kind == "error":
                raise item  # type: ignore[misc]
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        while worker.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                worker.join(0.05)


def _decode_samples(
    path: str | Path,
    fps: float,
    mid_width: int,
    small_width: int,
    skip: str,
    max_corrupt_ratio: float,
    stats: DecodeStats,
) -> Iterator[Sample]:
    step = 1.0 / fps
    try:
        container = av.open(str(path))
    except av.FFmpegError as exc:
        raise DecodeError(f"The video cannot be opened: {exc}") from None
    reformatter = VideoReformatter()  # one swscale context for the whole pass
    with container as c:
        if not c.streams.video:
            raise DecodeError("The file has no video stream.")
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        stats.skip = SKIP_MODES[skip]
        s.codec_context.skip_frame = stats.skip
        t0 = _start_time(s)
        next_t = -math.inf
        last_t = 0.0
        first_t: float | None = None
        for packet in c.demux(s):
            stats.packets += 1
            try:
                frames = packet.decode()
            except av.FFmpegError:
                stats.corrupt += 1
                if stats.corrupt > max(8, max_corrupt_ratio * stats.packets):
                    raise DecodeError(f"Too many corrupt packets ({stats.corrupt} of {stats.packets}).") from None
                continue
            for frame in frames:
                stats.decoded += 1
                t = _frame_time(frame, s, last_t) - t0
                last_t = t + t0
                first_t = t if first_t is None else first_t
                if stats.skip == "BIDIR" and stats.decoded == 24 and t > first_t:
                    # Too few I/P frames for the sampling rate: decode the reference B-frames too.
                    if (stats.decoded - 1) / (t - first_t) < 1.2 * fps:
                        stats.skip = "NONREF"
                        s.codec_context.skip_frame = stats.skip
                if t + 1e-6 < next_t:
                    continue
                # Next sample on a fixed grid so the rate does not drift with skipped frames.
                next_t = (math.floor(t / step + 1e-6) + 1) * step
                yield _make_sample(frame, max(0.0, t), mid_width, small_width, reformatter)
                stats.sampled += 1
    if stats.sampled == 0:
        raise DecodeError("The video has no decodable frame.")


def _luma(frame: av.VideoFrame) -> np.ndarray:
    if frame.format.name in ("yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12"):
        plane = frame.planes[0]
        buf = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
        return buf[:, : frame.width]
    return frame.to_ndarray(format="gray")


def _make_sample(
    frame: av.VideoFrame, t: float, mid_width: int, small_width: int, reformatter: VideoReformatter
) -> Sample:
    luma = _luma(frame)
    h, w = luma.shape
    mw, mh = _mid_size(w, h, mid_width)
    grey = cv2.resize(luma, (mw, mh), interpolation=cv2.INTER_AREA) if (mw, mh) != (w, h) else luma.copy()
    sw = min(small_width, w)
    sh = max(2, int(round(h * sw / w)))
    small = reformatter.reformat(frame, width=sw, height=sh, format="rgb24", interpolation="AREA").to_ndarray()
    return Sample(t=t, luma=luma, grey=grey, small=small)


def _upright(img: np.ndarray, info: VideoInfo) -> np.ndarray:
    if info.sar and abs(info.sar - 1.0) > 1e-3:
        h, w = img.shape[:2]
        img = cv2.resize(img, (max(2, int(round(w * info.sar))), h), interpolation=cv2.INTER_AREA)
    k = {90: 1, 180: 2, 270: 3}.get(info.rotation, 0)
    return np.ascontiguousarray(np.rot90(img, k)) if k else img


def _seek(c: av.container.InputContainer, s: av.video.stream.VideoStream, t: float) -> None:
    tb = s.time_base or Fraction(1, av.time_base)
    target = int((t + _start_time(s)) / tb)
    c.seek(max(0, target), stream=s, backward=True, any_frame=False)


def grab_frames(
    path: str | Path, times: list[float], info: VideoInfo, *, skip: str = "DEFAULT", reuse_s: float = 3.0
) -> dict[float, np.ndarray]:
    """Full-resolution, upright RGB frames at the given times (the first frame at or after each).

    Times come from the analysis pass; decoding with the frame skipping that pass ended with
    (``DecodeStats.skip``) reaches the very same frames at a fraction of the cost. A time less than
    ``reuse_s`` ahead of the decoder's position is reached by decoding on instead of seeking again.
    """
    out: dict[float, np.ndarray] = {}
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        s.codec_context.skip_frame = skip
        t0 = _start_time(s)
        frames = None
        pos = -math.inf
        for want in sorted(set(times)):
            if frames is None or not (pos <= want <= pos + reuse_s):
                _seek(c, s, want)
                frames = c.decode(s)
            best = None
            try:
                for frame in frames:
                    t = _frame_time(frame, s, want + t0) - t0
                    pos = t
                    best = frame
                    if t + 1e-3 >= want:
                        break
            except av.FFmpegError:
                frames = None
            if best is not None:
                out[want] = _upright(best.to_ndarray(format="rgb24"), info)
    return out


def grab_clip(
    path: str | Path, start: float, end: float, fps: float, width: int, info: VideoInfo
) -> list[tuple[float, np.ndarray]]:
    """Upright RGB frames from ``start`` to ``end`` seconds at ``fps``, scaled to ``width`` (display aspect)."""
    frames: list[tuple[float, np.ndarray]] = []
    step = 1.0 / fps
    disp_w, disp_h = info.display_size
    scale = min(1.0, width / float(disp_w))
    out_w = max(2, int(round(disp_w * scale / 2)) * 2)
    out_h = max(2, int(round(disp_h * scale / 2)) * 2)
    # swscale works in stored orientation; rotate afterwards.
    stored_w, stored_h = (out_h, out_w) if info.rotation in (90, 270) else (out_w, out_h)
    k = {90: 1, 180: 2, 270: 3}.get(info.rotation, 0)
    reformatter = VideoReformatter()
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        t0 = _start_time(s)
        _seek(c, s, start)
        next_t = start
        try:
            for frame in c.decode(s):
                t = _frame_time(frame, s, next_t + t0) - t0
                if t > end + 1e-6:
                    break
                if t + 1e-6 < next_t:
                    continue
                next_t += step * max(1, math.floor((t - next_t) / step + 1e-6) + 1)
                img = reformatter.reformat(frame, width=stored_w, height=stored_h, format="rgb24",
                                           interpolation="AREA").to_ndarray()
                frames.append((t, np.ascontiguousarray(np.rot90(img, k)) if k else img))
        except av.FFmpegError:
            pass
    return frames
