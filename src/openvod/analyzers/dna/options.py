"""The AIMediaDNA analyzer's server-side options (mapped from ``Settings.dna`` by
``openvod.engine.analyzer_options``; the matching parameters belong to the fingerprint library)."""

from __future__ import annotations

from dataclasses import dataclass, field

from openvod.analyzers.dna.fingerprint import FingerprintOptions


@dataclass(frozen=True)
class DNAJobOptions:
    fingerprint: FingerprintOptions = field(default_factory=FingerprintOptions)
    evidence_frames: int = 3  # frame pairs of evidence per matched segment in the detail
    max_results: int = 100  # VideoDNA entries per job
