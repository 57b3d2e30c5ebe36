"""Audio at one sample rate, mono float32, placed by presentation time (the pipeline's origin)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from openvod.pipeline.probe import DecodeError, MissingStream, open_container
from openvod.pipeline.stats import DecodeStats, check_corrupt


@dataclass
class AudioTrack:
    """Mono float32 samples at ``sample_rate``; sample 0 is at presentation time 0 (the origin)."""

    samples: np.ndarray
    sample_rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


class _Placer:
    """Appends resampled chunks, re-synced to their PTS on a real gap or overlap (> 100 ms)."""

    def __init__(self, sample_rate: int):
        self.rate = sample_rate
        self.chunks: list[np.ndarray] = []
        self.pos = 0  # samples written so far

    def place(self, frames: list[av.AudioFrame], t: float | None) -> None:
        for i, f in enumerate(frames):
            arr = f.to_ndarray().reshape(-1).astype(np.float32, copy=False)
            if i == 0 and t is not None:
                want = int(round(t * self.rate))
                # The resampler's own delay is smaller than the tolerance.
                if want - self.pos > self.rate // 10:
                    self.chunks.append(np.zeros(want - self.pos, np.float32))
                    self.pos = want
                elif self.pos - want > self.rate // 10:
                    arr = arr[min(len(arr), self.pos - want):]
            self.chunks.append(arr)
            self.pos += len(arr)

    def samples(self) -> np.ndarray:
        return np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.float32)


def decode_audio(path: str | Path, origin: float, sample_rate: int, *, stats: DecodeStats) -> AudioTrack:
    """The first audio stream, resampled; a frame without PTS follows the previous one (no re-sync)."""
    placer = _Placer(sample_rate)
    with open_container(path) as c:
        if not c.streams.audio:
            raise MissingStream("The file has no audio stream.")
        stream = c.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        packets = c.demux(stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except (av.FFmpegError, OSError):
                stats.truncated = True
                break
            stats.packets += 1
            try:
                frames = packet.decode()
            except (av.FFmpegError, ValueError):
                stats.corrupt_packets += 1
                check_corrupt(stats, "audio")
                continue
            for frame in frames:
                stats.frames_decoded += 1
                t = float(frame.pts * frame.time_base) - origin if frame.pts is not None and frame.time_base else None
                if t is None:
                    stats.untimed += 1
                frame.pts = None  # the resampler must not try to reconcile timestamps itself
                placer.place(resampler.resample(frame), t)
        placer.place(resampler.resample(None), None)  # flush the resampler's buffered tail
    if stats.frames_decoded == 0:
        raise DecodeError("The audio stream has no decodable frame.")
    return AudioTrack(samples=placer.samples(), sample_rate=sample_rate)
