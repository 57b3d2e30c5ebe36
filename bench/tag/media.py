"""Synthetic videos with known content for the AIVideoTag tests and benchmark.

A :class:`ClipSpec` lists shots (backgrounds), burned-in captions (drawn with Pillow, Noto CJK
for Chinese), face photographs composited at known times (``astronaut.png`` ships inside
scikit-image), and speech synthesised with espeak-ng at known start times. :func:`render` writes
an H.264/AAC MP4 with PyAV and returns the ground truth (what is where, in seconds).

Nothing is downloaded. espeak-ng and the CJK font are system packages; :func:`espeak_available`
and :func:`cjk_font` let callers skip what the machine cannot make.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
import wave
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tests.media import VideoWriter

CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
LATIN_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def cjk_font() -> str | None:
    """A font with Chinese glyphs, or None (``apt-get install fonts-noto-cjk``)."""
    return next((f for f in CJK_FONTS if Path(f).is_file()), None)


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


@functools.lru_cache(maxsize=8)
def photo(name: str) -> np.ndarray:
    """A photograph that ships inside scikit-image (``astronaut``, ``chelsea``, ``coffee`` …)."""
    import skimage

    p = Path(skimage.__file__).parent / "data" / f"{name}.png"
    if not p.is_file():
        p = p.with_suffix(".jpg")
    return np.asarray(Image.open(p).convert("RGB"))


# Where the face is inside each face photograph (x, y, w, h in the source image's pixels).
FACE_BOXES = {"astronaut": (165, 60, 115, 130)}


@dataclass
class Shot:
    """A stretch of background. kind: color | gradient | motion | photo:<name> | black."""

    start: float
    end: float
    kind: str = "gradient"
    seed: int = 0


@dataclass
class Caption:
    """Burned-in text from ``start`` to ``end`` (seconds)."""

    text: str
    start: float
    end: float
    where: str = "bottom"  # bottom | top | middle
    size: float = 0.06  # text height as a fraction of the frame height


@dataclass
class FaceAppearance:
    """A face photograph composited at (x, y) (fractions of the frame), ``height`` tall (fraction)."""

    photo: str
    start: float
    end: float
    x: float = 0.55
    y: float = 0.15
    height: float = 0.6
    flip: bool = False
    person: str = ""


@dataclass
class Speech:
    """Synthesised speech starting at ``start`` seconds."""

    text: str
    start: float
    voice: str = "en-us"
    rate: int = 150


@dataclass
class ClipSpec:
    """Everything a synthetic clip contains."""

    duration: float
    width: int = 640
    height: int = 360
    fps: int = 25
    shots: list[Shot] = field(default_factory=list)
    captions: list[Caption] = field(default_factory=list)
    faces: list[FaceAppearance] = field(default_factory=list)
    speech: list[Speech] = field(default_factory=list)
    music: list[tuple[float, float]] = field(default_factory=list)  # synthetic chords (no speech)
    audio: bool = True
    crf: int = 23
    preset: str = "veryfast"
    grain: int = 0  # per-frame sensor-like noise (+/- grey levels): realistic bitrates, harder decoding


# ---------------------------------------------------------------------------------------------- audio
def synth_speech(text: str, voice: str = "en-us", rate: int = 150, sr: int = 16000) -> np.ndarray:
    """espeak-ng speech as float32 mono at ``sr``."""
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "s.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(wav), text], check=True,
                       capture_output=True, timeout=60)
        with wave.open(str(wav)) as w:
            src_sr = w.getframerate()
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768.0
    if src_sr != sr:
        n = int(round(len(pcm) * sr / src_sr))
        pcm = np.interp(np.linspace(0, len(pcm) - 1, n), np.arange(len(pcm)), pcm).astype(np.float32)
    # espeak pads with silence; trim it so "start" is when the voice starts.
    loud = np.flatnonzero(np.abs(pcm) > 0.01)
    return pcm[loud[0] : loud[-1] + 1] if len(loud) else pcm


def synth_music(seconds: float, sr: int = 16000, seed: int = 0) -> np.ndarray:
    """Instrumental-like audio: a chord progression of harmonic tones with a beat."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    out = np.zeros_like(t)
    roots = [220.0, 261.63, 196.0, 246.94]
    for i, start in enumerate(np.arange(0, seconds, 1.0)):
        m = (t >= start) & (t < start + 1.0)
        root = roots[i % len(roots)] * (1 + 0.002 * rng.standard_normal())
        for mult in (1.0, 1.26, 1.5, 2.0):
            out[m] += np.sin(2 * np.pi * root * mult * t[m]) * np.exp(-3 * (t[m] - start))
    beat = (np.sin(2 * np.pi * 2 * t) > 0.95).astype(float) * rng.standard_normal(len(t)) * 0.3
    return (0.15 * out / 4 + 0.05 * beat).astype(np.float32)


def mix_audio(spec: ClipSpec, sr: int = 48000) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """The clip's soundtrack and the speech truth (start/end seconds, text)."""
    track = np.zeros(int(spec.duration * sr), np.float32)
    truth = []
    for s in spec.speech:
        if s.voice == "zh":  # neural Mandarin (bench/tag/zhvoice.py)
            from bench.tag.zhvoice import synth_mandarin

            pcm = synth_mandarin(s.text, sr)
        else:
            pcm = synth_speech(s.text, s.voice, s.rate, sr)
        i = int(s.start * sr)
        pcm = pcm[: max(0, len(track) - i)]
        track[i : i + len(pcm)] += 0.8 * pcm
        truth.append({"text": s.text, "start": s.start, "end": s.start + len(pcm) / sr, "voice": s.voice})
    for a, b in spec.music:
        m = synth_music(b - a, sr)
        i = int(a * sr)
        track[i : i + len(m)] += m[: len(track) - i]
    return np.clip(track, -1, 1), truth


# ---------------------------------------------------------------------------------------------- video
def _font(size: int, cjk: bool) -> ImageFont.FreeTypeFont:
    for f in (cjk_font(),) if cjk else LATIN_FONTS + (cjk_font(),):
        if f and Path(f).is_file():
            return ImageFont.truetype(f, size)
    return ImageFont.load_default(size)


def _has_cjk(s: str) -> bool:
    return any("\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" for ch in s)


def caption_overlay(c: Caption, w: int, h: int) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """An RGBA layer with the caption on a translucent box, and the text's box (x, y, w, h)."""
    size = max(10, int(c.size * h))
    font = _font(size, _has_cjk(c.text))
    layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    x0, y0, x1, y1 = d.textbbox((0, 0), c.text, font=font)
    tw, th = x1 - x0, y1 - y0
    x = (w - tw) // 2
    y = {"bottom": int(h * 0.86) - th, "top": int(h * 0.06), "middle": (h - th) // 2}[c.where]
    pad = max(4, size // 4)
    d.rectangle((x - pad, y - pad, x + tw + pad, y + th + pad), fill=(0, 0, 0, 150))
    d.text((x - x0, y - y0), c.text, font=font, fill=(255, 255, 255, 255))
    return np.asarray(layer), (x, y, tw, th)


def _background(shot: Shot, t: float, w: int, h: int, cache: dict[Any, np.ndarray]) -> np.ndarray:
    key = (shot.kind, shot.seed, w, h)
    if shot.kind == "black":
        return np.zeros((h, w, 3), np.uint8)
    if shot.kind == "color":
        rng = np.random.default_rng(shot.seed)
        return np.broadcast_to(rng.integers(40, 200, 3).astype(np.uint8), (h, w, 3)).copy()
    if shot.kind in ("gradient", "motion"):
        if key not in cache:
            rng = np.random.default_rng(shot.seed)
            c0, c1 = rng.integers(30, 200, 3), rng.integers(30, 200, 3)
            ramp = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
            img = (c0 * (1 - ramp) + c1 * ramp) * np.ones((h, 1, 1), np.float32)
            for _ in range(12):
                x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
                r = int(rng.integers(h // 20, h // 6))
                img[max(0, y - r) : y + r, max(0, x - r) : x + r] = rng.integers(0, 256, 3)
            cache[key] = img.astype(np.uint8)
        img = cache[key]
        if shot.kind == "motion":
            img = np.roll(img, int((t - shot.start) * w / 6), axis=1)
        return img.copy()
    if shot.kind.startswith("photo:"):
        src = photo(shot.kind.split(":", 1)[1])
        if key not in cache:
            cache[key] = np.asarray(Image.fromarray(src).resize((w, h), Image.BILINEAR))
        return cache[key].copy()
    raise ValueError(shot.kind)


def _face_layer(f: FaceAppearance, w: int, h: int) -> tuple[np.ndarray, tuple[int, int], tuple[int, int, int, int]]:
    src = photo(f.photo)
    ph = max(16, int(f.height * h))
    pw = int(ph * src.shape[1] / src.shape[0])
    img = np.asarray(Image.fromarray(src).resize((pw, ph), Image.BILINEAR))
    fx, fy, fw, fh = FACE_BOXES.get(f.photo, (0, 0, src.shape[1], src.shape[0]))
    s = ph / src.shape[0]
    if f.flip:
        img = img[:, ::-1]
        fx = src.shape[1] - fx - fw
    x, y = int(f.x * w), int(f.y * h)
    return img, (x, y), (x + int(fx * s), y + int(fy * s), int(fw * s), int(fh * s))


def captions_and_grain(img: np.ndarray, captions: list[tuple[Caption, np.ndarray, Any]], t: float, grain: int,
                       rng: np.random.Generator) -> np.ndarray:
    """Finish one frame: blend the captions shown at ``t`` (``caption_overlay`` layers), then add
    per-frame sensor-like grain of +/- ``grain`` grey levels (shared by bench/tag and bench/audit)."""
    for c, layer, _ in captions:
        if c.start <= t < c.end:
            a = layer[..., 3:4].astype(np.float32) / 255.0
            img = (img * (1 - a) + layer[..., :3] * a).astype(np.uint8)
    if grain:
        h, w = img.shape[:2]
        noise = rng.integers(-grain, grain + 1, size=(h, w, 1), dtype=np.int16)
        img = np.clip(img.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    return img


def render(spec: ClipSpec, path: Path) -> dict[str, Any]:
    """Write the clip and return its ground truth."""
    w, h, fps = spec.width, spec.height, spec.fps
    captions = [(c, *caption_overlay(c, w, h)) for c in spec.captions]
    faces = [(f, *_face_layer(f, w, h)) for f in spec.faces]
    audio, speech_truth = mix_audio(spec) if spec.audio else (None, [])
    cache: dict[Any, np.ndarray] = {}
    grain_rng = np.random.default_rng(1234)
    n = int(round(spec.duration * fps))
    with VideoWriter(path, (w, h), fps, preset=spec.preset, crf=spec.crf,
                     audio_rate=48000 if audio is not None else None) as out:
        for i in range(n):
            t = i / fps
            shot = next((s for s in spec.shots if s.start <= t < s.end), None)
            img = _background(shot, t, w, h, cache) if shot else np.zeros((h, w, 3), np.uint8)
            for f, layer, (x, y), _ in faces:
                if f.start <= t < f.end:
                    ih, iw = layer.shape[:2]
                    x1, y1 = min(w, x + iw), min(h, y + ih)
                    img[y:y1, x:x1] = layer[: y1 - y, : x1 - x]
            out.write(captions_and_grain(img, captions, t, spec.grain, grain_rng))
        if audio is not None:
            out.write_audio(audio)
    return {
        "spec": asdict(spec),
        "speech": speech_truth,
        "captions": [{"text": c.text, "start": c.start, "end": c.end, "box": list(box)} for c, _, box in captions],
        "faces": [{"photo": f.photo, "person": f.person or f.photo, "start": f.start, "end": f.end, "box": list(box)}
                  for f, _, _, box in faces],
        "shots": [{"start": s.start, "end": s.end, "kind": s.kind} for s in spec.shots],
    }
