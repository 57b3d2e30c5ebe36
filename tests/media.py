"""Synthetic media for tests, made with PyAV (no downloads, no ffmpeg binary)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


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
    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.options = {"preset": "ultrafast"}
        a_s = None
        if audio:
            a_s = c.add_stream("aac", rate=16000)
            a_s.layout = "mono"
        n = int(seconds * fps)
        for i in range(n):
            img = np.roll(tex, shift=i * 3, axis=1)
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for p in vs.encode(frame):
                c.mux(p)
        for p in vs.encode():
            c.mux(p)
        if a_s is not None:
            sr = 16000
            total = int(seconds * sr)
            t = np.arange(total) / sr
            samples = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            for start in range(0, total, 1024):
                chunk = samples[start : start + 1024]
                af = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="fltp", layout="mono")
                af.sample_rate = sr
                af.pts = start
                af.time_base = Fraction(1, sr)
                for p in a_s.encode(af):
                    c.mux(p)
            for p in a_s.encode():
                c.mux(p)
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
