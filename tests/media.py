"""Synthetic media for tests, made with PyAV (no downloads, no ffmpeg binary)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


class VideoWriter:
    """Encode RGB frames (numpy HxWx3 uint8) to H.264 in MP4, one frame per 1/fps, pts from the index."""

    def __init__(self, path: Path, size: tuple[int, int], fps: int = 25, *, preset: str = "ultrafast",
                 crf: int | None = None, gop: int | None = None, audio_rate: int | None = None):
        self.fps = fps
        self.container = av.open(str(path), "w")
        self.stream = self.container.add_stream("libx264", rate=fps)
        self.audio = None
        if audio_rate:  # streams must all exist before the first packet is written
            self.audio = self.container.add_stream("aac", rate=audio_rate)
            self.audio.layout = "mono"
        self.stream.width, self.stream.height, self.stream.pix_fmt = size[0], size[1], "yuv420p"
        opts = {"preset": preset}
        if crf is not None:
            opts["crf"] = str(crf)
        if gop is not None:
            opts["g"] = str(gop)
        self.stream.options = opts
        self.count = 0

    def write(self, rgb: np.ndarray) -> None:
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        frame.pts = self.count
        frame.time_base = Fraction(1, self.fps)
        self.count += 1
        for p in self.stream.encode(frame):
            self.container.mux(p)

    def flush(self) -> None:
        """Drain the video encoder (write_audio and close do it)."""
        if self.stream is not None:
            for p in self.stream.encode():
                self.container.mux(p)
            self.stream = None  # type: ignore[assignment]

    def write_audio(self, samples: np.ndarray) -> None:
        """Encode a whole mono float32 signal (after the video frames) at ``audio_rate``."""
        assert self.audio is not None, "create the writer with audio_rate"
        self.flush()
        sr = self.audio.rate
        for start in range(0, len(samples), 1024):
            chunk = np.ascontiguousarray(samples[start : start + 1024], dtype=np.float32)
            af = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="flt", layout="mono")
            af.sample_rate, af.pts, af.time_base = sr, start, Fraction(1, sr)
            for p in self.audio.encode(af):
                self.container.mux(p)
        for p in self.audio.encode():
            self.container.mux(p)

    def close(self) -> None:
        self.flush()
        self.container.close()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_video(
    path: Path,
    seconds: float = 2.0,
    size: tuple[int, int] = (320, 240),
    fps: int = 25,
    audio: bool = False,
    seed: int = 0,
) -> Path:
    """An H.264 MP4 with moving coloured content (and a sine tone if ``audio``)."""
    w, h = size
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, size=(h // 8 + 1, w // 8 + 1, 3), dtype=np.uint8)
    tex = np.kron(base, np.ones((8, 8, 1), dtype=np.uint8))[:h, :w]
    with VideoWriter(path, (w, h), fps, audio_rate=16000 if audio else None) as out:
        for i in range(int(seconds * fps)):
            out.write(np.roll(tex, shift=i * 3, axis=1))
        if audio:
            t = np.arange(int(seconds * 16000)) / 16000
            out.write_audio((0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32))
    return path


def make_bad_files(folder: Path, good: Path) -> dict[str, Path]:
    """Zero-byte, truncated, corrupt and non-video files."""
    folder.mkdir(parents=True, exist_ok=True)
    data = good.read_bytes()
    files = {
        "empty": folder / "empty.mp4",
        "truncated": folder / "truncated.mp4",
        "corrupt": folder / "corrupt.mp4",
        "text": folder / "notes.mp4",
        "image": folder / "picture.png",
    }
    files["empty"].write_bytes(b"")
    files["truncated"].write_bytes(data[: max(64, len(data) // 20)])
    rng = np.random.default_rng(1)
    files["corrupt"].write_bytes(data[:32] + rng.integers(0, 255, size=len(data), dtype=np.uint8).tobytes())
    files["text"].write_text("this is not a video\n" * 100)
    from PIL import Image

    Image.new("RGB", (64, 64), (200, 10, 10)).save(files["image"])
    return files
