"""The AIVideoTag job handler (SubmitAIJob Types=AIVideoTag): Face, ASR, OCR, Category, Annotation.

Failures (Code, Message) — decided here, documented in docs/tag.md:

* ``InvalidVideo.Damaged`` — a stream the job needs cannot be decoded.
* ``InvalidVideo.NoAudioStream`` — only ASR was asked for and the file has no audio stream. When
  other types are asked for too, the job runs them; ``OrigASRData`` (if asked for) is then empty and
  the detail's ``Skipped`` says why.
* ``InvalidVideo.NoVideoStream`` — only visual types were asked for and the file has no video.
* ``AnalyzerUnavailable`` — a configured model folder is missing or unreadable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from openvod.domain.jobs import JobFailed
from openvod.engine.registry import JobContext, JobHandler, JobOutput
from openvod.errors import InvalidParameter
from openvod.models.cache import ModelCache, ModelUnavailable

if TYPE_CHECKING:
    from openvod.analyzers.tag.engine import TagOptions, TagResult
    from openvod.analyzers.tag.wire import PersonIdentity
    from openvod.config import TagSettings

ALL_TYPES = ("Face", "ASR", "OCR", "Category", "Annotation")


def options_from_settings(s: TagSettings) -> TagOptions:
    """Analyzer options from ``Settings.tag``."""
    from openvod.analyzers.tag.annotation import AnnotationOptions
    from openvod.analyzers.tag.asr import AsrOptions
    from openvod.analyzers.tag.category import CategoryOptions
    from openvod.analyzers.tag.engine import TagOptions
    from openvod.analyzers.tag.face import FaceOptions
    from openvod.analyzers.tag.ocr import OcrOptions
    from openvod.pipeline.decode import FrameOptions
    from openvod.pipeline.sampling import SamplerOptions

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


class VideoTagHandler(JobHandler):
    """Smart tagging: people, speech, on-screen text, keywords, places, times, categories, labels."""

    job_type = "AIVideoTag"
    name = "openvod-videotag"
    version = "1.0"

    def __init__(self) -> None:
        self.models = ModelCache()  # one per worker process, shared by its jobs

    def _default_options(self) -> TagOptions:
        from openvod.analyzers.tag.engine import TagOptions

        return TagOptions()

    def unavailable_reason(self) -> str | None:
        from openvod.analyzers.tag.engine import unavailable

        reasons = unavailable(set(ALL_TYPES), self._default_options())
        if {"ASR", "OCR", "Face"} <= set(reasons):  # nothing useful can run: the tag extra is not installed
            detail = "; ".join(f"{k}: {v}" for k, v in sorted(reasons.items()))
            return f"AIVideoTag needs the optional 'tag' dependencies (pip install 'openvod[tag]'). {detail}"
        return None

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        from openvod.analyzers.tag.engine import unavailable

        types = [t for t in config.get("AnalyseTypes") or ALL_TYPES if t in ALL_TYPES]
        if not types:
            raise InvalidParameter("Config", f"AIVideoTag.AnalyseTypes must name one of {', '.join(ALL_TYPES)}.")
        reasons = unavailable(set(types), self._default_options())
        if reasons:
            detail = "; ".join(f"{k}: {v}" for k, v in sorted(reasons.items()))
            raise InvalidParameter("Config", f"AnalyseTypes that cannot run on this server: {detail}.")
        return {"AnalyseTypes": types, "OrigASRData": bool(config.get("OrigASRData", False))}

    def run(self, ctx: JobContext) -> JobOutput:
        from openvod.analyzers.tag.engine import MissingStreams, analyse
        from openvod.analyzers.tag.wire import build_data, build_detail
        from openvod.pipeline.decode import DecodeError

        settings = ctx.runtime.settings.tag
        types = [t for t in ctx.config.get("AnalyseTypes") or ALL_TYPES if t in ALL_TYPES]
        options = options_from_settings(settings)
        try:
            res = analyse(ctx.media_path, types, options, self.models, ctx.heartbeat, ctx.progress)
        except MissingStreams as exc:
            raise JobFailed(exc.code, exc.message) from None
        except DecodeError as exc:
            raise JobFailed("InvalidVideo.Damaged", f"The video cannot be decoded: {exc}") from None
        except ModelUnavailable as exc:
            raise JobFailed("AnalyzerUnavailable", str(exc)) from None
        ctx.progress(0.95)
        people = self._people(ctx, res, settings) if "Face" in types and res.persons else {}
        analyzer = f"{self.name}@{self.version}"
        data = build_data(res, bool(ctx.config.get("OrigASRData")), people, analyzer)
        return JobOutput(data=data, detail=build_detail(res, people, analyzer))

    def _people(self, ctx: JobContext, res: TagResult, s: TagSettings) -> dict[int, PersonIdentity]:
        """Store a face crop per person, match the people against the account's library, sign FaceUrls."""
        from openvod.analyzers.tag.face import jpeg
        from openvod.analyzers.tag.library import FaceLibrary
        from openvod.analyzers.tag.wire import PersonIdentity

        rt = ctx.runtime
        prefix = f"derived/{ctx.account_id}/{ctx.media_id}/faces/{ctx.job_id}"
        keys: list[str] = []
        for c in res.persons:
            key = f"{prefix}/person-{c.index}.jpg"
            best = c.best
            if best.crop is not None:
                rt.blobs.put_bytes(key, jpeg(best.crop))
            keys.append(key)
        lib = FaceLibrary(rt.engine, ctx.account_id, res.face_backend)
        distance = s.face_match_distance if res.face_backend == "dlib" else options_from_settings(s).face.opencv_cluster_distance
        matches = lib.identify([c.centroid for c in res.persons], distance, keys, source=ctx.media_id)
        base = rt.images.public_base_url()
        out = {}
        for c, key, m in zip(res.persons, keys, matches, strict=True):
            out[c.index] = PersonIdentity(tag=m.tag, person_id=m.person_id, known=m.known,
                                          face_url=rt.urls.sign(base, key, ttl_s=s.face_url_ttl_s),
                                          face_key=key, distance=m.distance)
        return out


__all__ = ["VideoTagHandler", "options_from_settings"]
