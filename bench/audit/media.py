"""Synthetic videos with known moderation content for the AIMediaAudit tests and benchmark.

Builds on bench.tag.media (backgrounds, Pillow captions, espeak-ng speech) and adds QR codes
(OpenCV's QRCodeEncoder), colour-bar test cards, black runs and frozen stretches. Nothing is
downloaded; :func:`render` returns the ground truth in seconds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from bench.tag.media import Caption, Shot, Speech, _background, caption_overlay, captions_and_grain, mix_audio
from bench.tag.media import ClipSpec as TagClipSpec
from tests.media import VideoWriter

BARS = [(192, 192, 192), (192, 192, 0), (0, 192, 192), (0, 192, 0), (192, 0, 192), (192, 0, 0), (0, 0, 192)]


@dataclass
class QR:
    """A QR code encoding ``text`` shown from ``start`` to ``end`` at (x, y) (fractions), ``size`` tall."""

    text: str
    start: float
    end: float
    x: float = 0.7
    y: float = 0.1
    size: float = 0.35


@dataclass
class Sun:
    """A round mini-program code (``sun_code``, drawn from ``seed``) shown from ``start`` to ``end``."""

    start: float
    end: float
    x: float = 0.7
    y: float = 0.1
    size: float = 0.45
    seed: int = 0


@dataclass
class Inset:
    """A picture in the picture: another (moving) background scaled into the box (fractions)."""

    start: float
    end: float
    x: float = 0.6
    y: float = 0.55
    w: float = 0.35
    h: float = 0.35
    seed: int = 1
    border: int = 0  # px of white frame around it


@dataclass
class AuditClip:
    duration: float
    width: int = 640
    height: int = 360
    fps: int = 10
    shots: list[Shot] = field(default_factory=list)  # kinds of bench.tag.media plus "bars" and "frozen"
    captions: list[Caption] = field(default_factory=list)
    qrs: list[QR] = field(default_factory=list)
    insets: list[Inset] = field(default_factory=list)
    suns: list[Sun] = field(default_factory=list)
    speech: list[Speech] = field(default_factory=list)
    audio: bool = True
    crf: int = 23
    grain: int = 0  # per-frame noise (+/- grey levels)


def qr_image(text: str, px: int) -> np.ndarray:
    import cv2

    code = cv2.QRCodeEncoder.create().encode(text)
    code = np.pad(code, 4, constant_values=255)  # quiet zone
    img = Image.fromarray(code).resize((px, px), Image.NEAREST).convert("RGB")
    return np.asarray(img)


def sun_code(px: int, seed: int = 0, colour: tuple[int, int, int] = (0, 0, 0)) -> np.ndarray:
    """A synthetic round mini-program code ("sun code") after the published design: a central logo
    disc, three bands of radial dashes of random presence, three finder "eyes" (ring + dot). It only
    looks like one (the real encoding is proprietary); the audit must locate it, not read it."""
    import cv2

    rng = np.random.default_rng(seed)
    img = np.full((px, px, 3), 255, np.uint8)
    c, R = px / 2, px * 0.47
    cv2.circle(img, (int(c), int(c)), int(R * 0.36), (40, 160, 80), -1, cv2.LINE_AA)  # the logo
    cv2.circle(img, (int(c), int(c)), int(R * 0.18), (255, 255, 255), -1, cv2.LINE_AA)
    eyes = [np.deg2rad(a) for a in (-135, -45, 135)]
    n = 40
    width = max(2, int(2 * np.pi * R * 0.5 / n * 0.55))
    for k in range(n):
        a = 2 * np.pi * k / n
        if min(abs((a - e + np.pi) % (2 * np.pi) - np.pi) for e in eyes) < 0.28:
            continue
        for lo, hi in ((0.45, 0.62), (0.64, 0.8), (0.82, 0.98)):
            if rng.random() < 0.55:
                p0 = (int(c + R * lo * np.cos(a)), int(c + R * lo * np.sin(a)))
                p1 = (int(c + R * hi * np.cos(a)), int(c + R * hi * np.sin(a)))
                cv2.line(img, p0, p1, colour, width, cv2.LINE_AA)
    for e in eyes:
        ex, ey = int(c + R * 0.72 * np.cos(e)), int(c + R * 0.72 * np.sin(e))
        cv2.circle(img, (ex, ey), int(R * 0.13), colour, max(2, width // 2), cv2.LINE_AA)
        cv2.circle(img, (ex, ey), int(R * 0.05), colour, -1, cv2.LINE_AA)
    return img


def bars(w: int, h: int) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    bw = w / 7
    for i, c in enumerate(BARS):
        img[: int(h * 0.7), int(i * bw): int((i + 1) * bw)] = c
    img[int(h * 0.7):] = (16, 16, 64)
    return img


def render(spec: AuditClip, path: Path) -> dict[str, Any]:
    w, h, fps = spec.width, spec.height, spec.fps
    tag_spec = TagClipSpec(duration=spec.duration, width=w, height=h, fps=fps, speech=spec.speech, audio=spec.audio)
    audio, speech_truth = mix_audio(tag_spec) if spec.audio else (None, [])
    captions = [(c, *caption_overlay(c, w, h)) for c in spec.captions]
    qrs = [(q, qr_image(q.text, max(48, int(q.size * h)))) for q in spec.qrs]
    qrs += [(q, sun_code(max(48, int(q.size * h)), q.seed)) for q in spec.suns]  # type: ignore[misc]
    cache: dict[Any, np.ndarray] = {}
    frozen: dict[int, np.ndarray] = {}
    grain_rng = np.random.default_rng(4321)
    n = int(round(spec.duration * fps))
    with VideoWriter(path, (w, h), fps, preset="veryfast", crf=spec.crf,
                     audio_rate=48000 if audio is not None else None) as out:
        for i in range(n):
            t = i / fps
            shot = next((s for s in spec.shots if s.start <= t < s.end), None)
            if shot is None:
                img = np.zeros((h, w, 3), np.uint8)
            elif shot.kind == "bars":
                img = bars(w, h)
            elif shot.kind == "frozen":
                key = id(shot)
                if key not in frozen:
                    frozen[key] = _background(Shot(shot.start, shot.end, "gradient", shot.seed), t, w, h, cache)
                img = frozen[key].copy()
            else:
                img = _background(shot, t, w, h, cache)
            for ins in spec.insets:
                if ins.start <= t < ins.end:
                    iw, ih = max(8, int(ins.w * w)), max(8, int(ins.h * h))
                    src = _background(Shot(ins.start, ins.end, "motion", ins.seed), t, iw, ih, cache)
                    x, y = int(ins.x * w), int(ins.y * h)
                    if ins.border:
                        b = ins.border
                        img[max(0, y - b): y + ih + b, max(0, x - b): x + iw + b] = 255
                    img[y: y + ih, x: x + iw] = src[: h - y, : w - x]
            for q, code in qrs:
                if q.start <= t < q.end:
                    x, y = int(q.x * w), int(q.y * h)
                    ch, cw = code.shape[:2]
                    img[y: y + ch, x: x + cw] = code[: h - y, : w - x]
            out.write(captions_and_grain(img, captions, t, spec.grain, grain_rng))
        if audio is not None:
            out.write_audio(audio)
    return {"spec": asdict(spec), "speech": speech_truth,
            "captions": [{"text": c.text, "start": c.start, "end": c.end} for c, _, _ in captions],
            "qrs": [asdict(q) for q in spec.qrs], "suns": [asdict(q) for q in spec.suns], "insets": [asdict(i) for i in spec.insets],
            "shots": [{"start": s.start, "end": s.end, "kind": s.kind} for s in spec.shots]}
