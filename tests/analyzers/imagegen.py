"""Synthetic pictures and labelled videos for the AIImage analyzer tests (no downloads, no ffmpeg binary)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tests.media import VideoWriter


def picture(seed: int, w: int = 960, h: int = 540) -> np.ndarray:
    """A sharp, colourful picture: a gradient, fine texture and many hard-edged shapes."""
    rng = np.random.default_rng(seed)
    c0, c1 = rng.integers(30, 225, 3), rng.integers(30, 225, 3)
    ramp = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
    img = (c0 * (1 - ramp) + c1 * ramp) * np.ones((h, 1, 1), np.float32)
    tex = cv2.GaussianBlur(rng.normal(0, 18, (h, w)).astype(np.float32), (0, 0), 1.2)[..., None]
    img = np.clip(img + tex, 0, 255).astype(np.uint8)
    for _ in range(40):
        color = tuple(int(v) for v in rng.integers(0, 256, 3))
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        r = int(rng.integers(h // 30, h // 6))
        if rng.random() < 0.5:
            cv2.circle(img, (x, y), r, color, -1, lineType=cv2.LINE_AA)
        else:
            cv2.rectangle(img, (x, y), (x + 2 * r, y + r), color, -1)
        cv2.line(img, (x, y), (int(rng.integers(0, w)), int(rng.integers(0, h))), (0, 0, 0), 2, cv2.LINE_AA)
    return img


def view(pic: np.ndarray, u: float, size: tuple[int, int], zoom: tuple[float, float] = (1.0, 1.08)) -> np.ndarray:
    """A slow zoom into the picture (u = 0..1), scaled to ``size``."""
    w, h = size
    ph, pw = pic.shape[:2]
    z = max(w / pw, h / ph) * (zoom[0] + (zoom[1] - zoom[0]) * u)
    m = np.array([[z, 0, w / 2 - z * pw / 2], [0, z, h / 2 - z * ph / 2]], np.float32)
    return cv2.warpAffine(pic, m, (w, h), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT)


def with_subtitles(img: np.ndarray, lines: int = 3) -> np.ndarray:
    h, w = img.shape[:2]
    im = Image.fromarray(img)
    d = ImageDraw.Draw(im)
    size = max(12, int(h * 0.075))
    font = ImageFont.load_default(size=size)
    y = h - int(size * 1.35) * lines - int(h * 0.05)
    for i in range(lines):
        d.text((w // 2, y), f"Subtitle line {i + 1}: we are going home now", font=font, fill=(255, 255, 255),
               anchor="ma", stroke_width=max(2, size // 12), stroke_fill=(0, 0, 0))
        y += int(size * 1.35)
    return np.asarray(im)


def write_video(path: Path, frames: list[np.ndarray], fps: int = 25) -> Path:
    h, w = frames[0].shape[:2]
    with VideoWriter(path, (w, h), fps, crf=18, gop=2 * fps) as out:
        for img in frames:
            out.write(img)
    return path


def labelled_video(path: Path, size: tuple[int, int] = (480, 270), fps: int = 12) -> tuple[Path, list[tuple[str, float, float]]]:
    """A video whose good and bad stretches are known: [(label, start, end)]; see :func:`scene_of`."""
    a, b, c, d = picture(1), picture(2), picture(3), picture(4)
    plan: list[tuple[str, list[np.ndarray]]] = []

    def seg(label: str, seconds: float, fn) -> None:  # type: ignore[no-untyped-def]
        n = int(seconds * fps)
        plan.append((label, [fn(k / max(1, n - 1)) for k in range(n)]))

    black = np.zeros((size[1], size[0], 3), np.uint8)
    seg("black", 0.75, lambda u: black)
    seg("good-a", 1.75, lambda u: view(a, u, size))
    seg("fade", 1.0, lambda u: (view(a, 1.0, size) * (1 - u)).astype(np.uint8))
    seg("black", 0.5, lambda u: black)
    seg("blur", 1.5, lambda u: cv2.GaussianBlur(view(b, u, size), (0, 0), size[0] / 120))
    seg("good-c", 1.75, lambda u: view(c, u, size))
    seg("dissolve", 1.0, lambda u: ((1 - u) * view(c, 1.0, size) + u * view(b, 0.0, size)).astype(np.uint8))
    seg("good-b", 1.75, lambda u: view(b, u, size))
    seg("dup-a", 1.5, lambda u: view(a, u, size))
    seg("subtitles", 1.5, lambda u: with_subtitles(view(d, u, size)))
    frames: list[np.ndarray] = []
    labels: list[tuple[str, float, float]] = []
    for label, frs in plan:
        labels.append((label, len(frames) / fps, (len(frames) + len(frs)) / fps))
        frames.extend(frs)
    return write_video(path, frames, fps), labels


def scene_of(label: str) -> str | None:
    """The scene a good moment shows ("good-a" and its repeat "dup-a" both show "a"); None for bad ones."""
    kind, _, scene = label.partition("-")
    return scene if kind in ("good", "dup") else None


def label_at(labels: list[tuple[str, float, float]], t: float) -> str:
    for label, start, end in labels:
        if start - 1e-6 <= t < end:
            return label
    return labels[-1][0]
