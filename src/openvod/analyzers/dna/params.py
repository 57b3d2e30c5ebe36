"""Typed DNA settings -> the option objects of the pure modules (one place, no global settings)."""

from __future__ import annotations

from openvod.analyzers.dna.align import AlignParams
from openvod.analyzers.dna.fingerprint import FingerprintOptions
from openvod.analyzers.dna.search import MatchParams
from openvod.config import DNASettings


def fingerprint_options(s: DNASettings) -> FingerprintOptions:
    return FingerprintOptions(
        sample_fps=s.sample_fps,
        code_interval_s=s.code_interval_s,
        max_keypoints=s.max_keypoints,
        flat_std=s.flat_std,
        skip_nonref=s.skip_nonref_frames,
        skip_loop_filter=s.skip_loop_filter,
    )


def match_params(s: DNASettings) -> MatchParams:
    return MatchParams(
        code_radius=s.code_radius,
        max_candidates=s.max_candidates,
        min_candidate_frames=s.min_candidate_frames,
        min_transform_score=s.min_transform_score,
        max_hits_per_code=s.max_hits_per_code,
        max_hits_per_pair=s.max_hits_per_pair,
        min_similarity=s.min_similarity,
        min_motion=s.min_motion,
        min_correlation=s.min_correlation,
        min_symmetry=s.min_symmetry,
        min_pair_correlation=s.min_pair_correlation,
        short_segment_s=s.short_segment_s,
        min_short_correlation=s.min_short_correlation,
        align=AlignParams(
            hit_similarity=s.hit_similarity,
            walk_similarity=s.walk_similarity,
            best_match_margin=s.best_match_margin,
            segment_similarity=s.segment_similarity,
            min_segment_s=s.min_segment_s,
            max_gap_s=s.max_gap_s,
            min_slope=s.min_speed,
            max_slope=s.max_speed,
            max_segments=s.max_segments_per_video,
        ),
    )
