"""Settings -> each built-in analyzer's typed options, in this one place.

The analyzers never import the settings: the runtime maps ``Settings`` once (``analyzer_options``)
and the runner hands each job its analyzer's options as ``JobContext.analyzer_options``; the
services that keep the libraries get theirs from here too (``dna_library_options``).
"""

from __future__ import annotations

from typing import Any

from openvod.analyzers.dna.align import AlignParams
from openvod.analyzers.dna.fingerprint import FingerprintOptions
from openvod.analyzers.dna.options import DNAJobOptions
from openvod.analyzers.dna.search import MatchParams
from openvod.analyzers.image.gif import GifOptions
from openvod.analyzers.image.images import ImageJobOptions
from openvod.analyzers.image.options import AIImageJobOptions
from openvod.analyzers.image.picker import AnalysisOptions
from openvod.analyzers.tag.annotation import AnnotationOptions
from openvod.analyzers.tag.asr import AsrOptions
from openvod.analyzers.tag.category import CategoryOptions
from openvod.analyzers.tag.engine import TagOptions
from openvod.analyzers.tag.face import FaceOptions
from openvod.analyzers.tag.frames import FrameOptions
from openvod.analyzers.tag.ocr import OcrOptions
from openvod.analyzers.tag.options import TagJobOptions
from openvod.config import AIImageSettings, DNASettings, Settings, TagSettings
from openvod.pipeline.sampling import SamplerOptions


def fingerprint_options(s: DNASettings) -> FingerprintOptions:
    return FingerprintOptions(
        sample_fps=s.sample_fps,
        code_interval_s=s.code_interval_s,
        max_keypoints=s.max_keypoints,
        flat_std=s.flat_std,
        flat_relative=s.flat_relative,
        skip_nonref=s.skip_nonref_frames,
        skip_loop_filter=s.skip_loop_filter,
        sample_frames=s.sample_frames,
        scaler=s.scaler,
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
        motion_noise_ratio=s.motion_noise_ratio,
        min_motion_floor=s.min_motion_floor,
        min_correlation=s.min_correlation,
        min_symmetry=s.min_symmetry,
        min_pair_correlation=s.min_pair_correlation,
        short_segment_s=s.short_segment_s,
        min_short_correlation=s.min_short_correlation,
        template_max_s=s.template_max_s,
        rival_distance_ratio=s.rival_distance_ratio,
        offspeed_short_s=s.offspeed_short_s,
        min_offspeed_correlation=s.min_offspeed_correlation,
        offspeed_tiny_s=s.offspeed_tiny_s,
        min_offspeed_tiny_similarity=s.min_offspeed_tiny_similarity,
        pip_boxes=s.pip_boxes,
        pip_jitter=s.pip_jitter,
        pip_contrast=s.pip_contrast,
        end_trim_window_s=s.end_trim_window_s,
        end_trim_correlation=s.end_trim_correlation,
        still_similarity=s.still_similarity,
        align=AlignParams(
            hit_similarity=s.hit_similarity,
            walk_similarity=s.walk_similarity,
            best_match_margin=s.best_match_margin,
            segment_similarity=s.segment_similarity,
            detail_below=s.pip_detail_below,
            min_segment_s=s.min_segment_s,
            max_gap_s=s.max_gap_s,
            min_slope=s.min_speed,
            max_slope=s.max_speed,
            unit_speed_snap=s.unit_speed_snap,
            flat_relative=s.flat_relative,
            max_segments=s.max_segments_per_video,
        ),
    )


def dna_options(s: DNASettings) -> DNAJobOptions:
    return DNAJobOptions(fingerprint=fingerprint_options(s), evidence_frames=s.evidence_frames,
                         max_results=s.max_results)


def tag_options(s: TagSettings) -> TagOptions:
    """The tag engine's options from ``Settings.tag``."""
    return TagOptions(
        frames=FrameOptions(max_side=s.frame_max_side, sampler=SamplerOptions(
            scan_fps=s.scan_fps, min_interval_s=s.min_frame_interval_s, change_threshold=s.change_threshold,
            cut_threshold=s.cut_threshold)),
        asr=AsrOptions(model_path=s.whisper_model, compute_type=s.whisper_compute_type, beam_size=s.whisper_beam_size,
                       language=s.asr_language, threads=s.asr_threads, vad_threshold=s.vad_threshold,
                       languages=tuple(s.asr_languages), min_language_probability=s.asr_min_language_probability,
                       english_model=s.asr_english_model),
        ocr=OcrOptions(det_max_side=s.ocr_det_max_side, min_score=s.ocr_min_score,
                       motion_interval_s=s.ocr_motion_interval_s),
        face=FaceOptions(backend=s.face_backend, det_max_side=s.face_det_max_side, min_score=s.face_min_score,
                         cluster_distance=s.face_cluster_distance),
        annotation=AnnotationOptions(clip_model=s.clip_model, clip_labels=tuple(s.clip_labels),
                                     clip_min_probability=s.clip_min_probability),
        category=CategoryOptions(min_confidence=s.category_min_confidence, max_categories=s.max_categories),
        parallel=s.parallel,
    )


def tag_job_options(s: TagSettings) -> TagJobOptions:
    return TagJobOptions(tag=tag_options(s), face_match_distance=s.face_match_distance,
                         face_url_ttl_s=s.face_url_ttl_s)


def image_options(s: AIImageSettings) -> ImageJobOptions:
    """Analysis and rendering options from ``Settings.aiimage``."""
    return ImageJobOptions(
        analysis=AnalysisOptions(fps=s.analysis_fps, max_samples=s.max_samples, faces=s.faces),
        gif=GifOptions(fps=s.gif_fps, duration_s=s.gif_duration_s, max_width=s.gif_max_width,
                       max_bytes=s.gif_max_bytes, colors=s.gif_colors, dither=s.gif_dither),
        cover_width=s.cover_width,
        cover_height=s.cover_height,
        gif_avoid_covers=s.images_per_job,
    )


def image_job_options(s: AIImageSettings) -> AIImageJobOptions:
    return AIImageJobOptions(images=image_options(s), png_count=s.images_per_job, gif_count=s.gif_images_per_job)


def analyzer_options(settings: Settings) -> dict[str, Any]:
    """Job type -> the built-in analyzer's options (what the runner puts in ``ctx.analyzer_options``)."""
    return {
        "AIMediaDNA": dna_options(settings.dna),
        "AIVideoTag": tag_job_options(settings.tag),
        "AIImage": image_job_options(settings.aiimage),
    }
