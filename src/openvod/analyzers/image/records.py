"""What the cover picker works with and returns: its options, the per-sample record, the assessed
candidates and the analysis (split from ``picker`` so that module holds only the algorithm)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from openvod.analyzers.image import faces as faces_mod
from openvod.analyzers.image import scoring
from openvod.analyzers.image.dedup import Keypoints, keypoints
from openvod.analyzers.image.metrics import FrameMetrics
from openvod.analyzers.image.shots import Shot, ShotResult, Signature
from openvod.pipeline import MediaProbe


class NoUsableFrame(Exception):
    """Every sampled frame was rejected (black, blank, blurred or mid-transition)."""

    def __init__(self, message: str, counts: dict[str, int]):
        super().__init__(message)
        self.counts = counts


@dataclass(frozen=True)
class AnalysisOptions:
    """Knobs of the analysis (the handler builds them from ``Settings.aiimage``)."""

    fps: float = 4.0  # analysis samples per second of video
    max_samples: int = 2400  # lower the sampling rate on long videos to stay under this
    mid_width: int = 640  # grey image for sharpness, text and eyes
    face_width: int = 384  # faces are searched at this width (min face 20 px, ~9% of the height)
    small_width: int = 160  # RGB image for colour and shot signatures
    skip_frames: str = "auto"  # what the analysis pass may leave undecoded (openvod.pipeline.media.SKIP_ORDER)
    bucket_s: float = 1.0  # retention bucket (grows on long videos, see max_buckets)
    max_buckets: int = 150
    keep_per_bucket: int = 2
    per_shot: int = 2  # candidates per shot (at least the requested count)
    max_candidates: int = 16  # candidates that get the dear measures (at least 3 x count)
    min_gap_s: float = 1.0  # a shot gets one candidate per min_gap_s of its length, up to per_shot
    faces: bool = True
    dedup_hamming: int = 16
    dedup_distance: float = 0.22


@dataclass
class SampleRecord:
    """What is kept of every analysis sample."""

    t: float
    metrics: FrameMetrics
    sig: Signature
    hash: int
    pre: scoring.Assessment


@dataclass
class Candidate:
    """A fully assessed candidate frame."""

    sample: int
    t: float
    shot: Shot | None
    assessment: scoring.Assessment
    faces: list[faces_mod.Face] = field(default_factory=list)
    face_size: tuple[int, int] = (0, 0)
    grey: np.ndarray | None = field(default=None, repr=False)
    _keypoints: Keypoints | None = field(default=None, repr=False)

    def keypoints(self) -> Keypoints | None:
        if self._keypoints is None and self.grey is not None:
            self._keypoints = keypoints(self.grey)
        return self._keypoints

    @property
    def score(self) -> float:
        return self.assessment.score


@dataclass
class Analysis:
    """The result of analysing one video."""

    info: MediaProbe
    shots: ShotResult
    samples: list[SampleRecord]
    candidates: list[Candidate]
    picks: list[Candidate]
    stats: dict[str, Any] = field(default_factory=dict)

    def rejected_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for s in self.samples:
            for r in s.pre.rejected:
                counts[r] = counts.get(r, 0) + 1
        return counts


__all__ = ["Analysis", "AnalysisOptions", "Candidate", "NoUsableFrame", "SampleRecord"]
