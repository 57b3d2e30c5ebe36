"""The audit's typed records: inputs (text), per-frame samples and findings, verdicts, the report."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from openvod.analyzers.audit.text import TextVerdict


class DecodeFailed(Exception):
    """The video cannot be decoded."""


@dataclass(frozen=True)
class TimedText:
    """A line of text seen (OCR) or heard (ASR) from ``start`` to ``end`` seconds."""

    start: float
    end: float
    text: str
    source: str  # ocr | asr


@dataclass
class TextInputs:
    """The text an audit reads, and why a source is missing (None = available)."""

    title: str = ""
    description: str = ""
    ocr: list[TimedText] = field(default_factory=list)
    asr: list[TimedText] = field(default_factory=list)
    ocr_missing: str | None = None
    asr_missing: str | None = None
    has_audio: bool = True
    origin: str = ""  # where OCR/ASR came from (e.g. the AIVideoTag job id)


@dataclass
class Finding:
    """A non-normal label at one moment."""

    t: float
    scene: str
    label: str
    score: float
    source: str  # nudenet | qr | ocr | asr | black | solid | testcard | frozen
    evidence: str = ""
    confirmed: bool = True


@dataclass
class Sample:
    """One base-rate frame: its time, a small JPEG and what the visual checks said."""

    t: float
    jpeg: bytes
    porn: tuple[str, float] | None = None
    live_kind: str = ""  # black | solid | testcard | ""
    boxes: list[tuple[int, int, int, int]] = field(default_factory=list)  # inset candidates (1/1000)
    insides: list[np.ndarray] = field(default_factory=list, repr=False)  # their luma, for change checks
    luma: np.ndarray | None = field(default=None, repr=False)  # small luma image, dropped after the scan
    codes: list[tuple[int, int, int, int]] = field(default_factory=list)  # located code plates (1/1000)


@dataclass
class VisualScan:
    duration: float
    samples: list[Sample] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    dense_frames: int = 0
    jpegs: dict[float, bytes] = field(default_factory=dict)  # dense frames with a porn finding
    stats: dict[str, float] = field(default_factory=dict)



@dataclass
class SceneVerdict:
    scene: str
    suggestion: str = "pass"
    label: str = "normal"
    max_score: float = 0.0
    average_score: float = 0.0
    counters: dict[str, int] = field(default_factory=dict)
    top: list[Finding] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    reason: str = ""


@dataclass
class TextItem:
    type: str  # title | description
    content: str
    verdict: TextVerdict
    suggestion: str


@dataclass
class AudioSentence:
    start: float
    end: float
    text: str
    verdict: TextVerdict
    suggestion: str


@dataclass
class AuditReport:
    suggestion: str
    labels: list[str]
    abnormal_modules: list[str]
    scenes: dict[str, SceneVerdict]
    video_suggestion: str
    video_label: str
    samples: list[Sample]
    texts: list[TextItem]
    audio: list[AudioSentence]
    audio_verdict: tuple[str, str, float]  # suggestion, label, score
    audio_reason: str
    reasons: list[str]
    stats: dict[str, float]
    dense_jpegs: dict[float, bytes] = field(default_factory=dict)


