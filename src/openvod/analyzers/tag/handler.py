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

from typing import Any

from openvod.analyzers.tag.engine import MissingStreams, TagResult, analyse, unavailable
from openvod.analyzers.tag.face import jpeg
from openvod.analyzers.tag.options import TagJobOptions
from openvod.analyzers.tag.wire import PersonIdentity, build_data, build_detail
from openvod.domain.contract import JobContext, JobHandler, JobOutput
from openvod.domain.jobs import AnalyzerUnavailable, JobFailed, MediaDamaged
from openvod.domain.options import ANALYSE_TYPES, VideoTagOptions
from openvod.errors import InvalidParameter
from openvod.models.cache import ModelCache, ModelUnavailable
from openvod.pipeline import DecodeError, open_media, stored_probe

ALL_TYPES = ANALYSE_TYPES


class VideoTagHandler(JobHandler):
    """Smart tagging: people, speech, on-screen text, keywords, places, times, categories, labels."""

    job_type = "AIVideoTag"
    name = "openvod-videotag"
    version = "1.0"

    options_model = VideoTagOptions

    def __init__(self) -> None:
        self.models = ModelCache()  # one per worker process, shared by its jobs

    def unavailable_reason(self) -> str | None:
        reasons = unavailable(set(ALL_TYPES), TagJobOptions().tag)
        if {"ASR", "OCR", "Face"} <= set(reasons):  # nothing useful can run: the tag extra is not installed
            detail = "; ".join(f"{k}: {v}" for k, v in sorted(reasons.items()))
            return f"AIVideoTag needs the optional 'tag' dependencies (pip install 'openvod[tag]'). {detail}"
        return None

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        out = super().validate_config(config)
        reasons = unavailable(set(out["AnalyseTypes"]), TagJobOptions().tag)
        if reasons:
            detail = "; ".join(f"{k}: {v}" for k, v in sorted(reasons.items()))
            raise InvalidParameter("Config", f"AnalyseTypes that cannot run on this server: {detail}.")
        return out

    def run(self, ctx: JobContext) -> JobOutput:
        opts = ctx.analyzer_options if isinstance(ctx.analyzer_options, TagJobOptions) else TagJobOptions()
        cfg = ctx.options if isinstance(ctx.options, VideoTagOptions) else VideoTagOptions.model_validate(ctx.config)
        types = [str(t) for t in cfg.AnalyseTypes]
        try:
            media = open_media(ctx.media_path, stored_probe(ctx.probe))  # the probe RegisterMedia stored
            res = analyse(media, types, opts.tag, self.models, ctx.heartbeat)
        except MissingStreams as exc:
            raise JobFailed(exc.code, exc.message) from None
        except DecodeError as exc:
            raise MediaDamaged(f"The video cannot be decoded: {exc}") from None
        except ModelUnavailable as exc:
            raise AnalyzerUnavailable(str(exc)) from None
        people = self._people(ctx, res, opts) if "Face" in types and res.persons else {}
        analyzer = f"{self.name}@{self.version}"
        data = build_data(res, cfg.OrigASRData, people, analyzer)
        return JobOutput(data=data, detail=build_detail(res, people, analyzer))

    def _people(self, ctx: JobContext, res: TagResult, opts: TagJobOptions) -> dict[int, PersonIdentity]:
        """Store a face crop per person, match the people against the account's library, sign FaceUrls."""
        if ctx.blobs is None or ctx.faces is None:
            raise AnalyzerUnavailable("No face library or blob store was given to the AIVideoTag job.")
        keys: list[str] = []
        for c in res.persons:
            name = f"faces/{ctx.job_id}/person-{c.index}.jpg"
            best = c.best
            keys.append(ctx.blobs.put(name, jpeg(best.crop)) if best.crop is not None else ctx.blobs.key(name))
        distance = opts.face_match_distance if res.face_backend == "dlib" else opts.tag.face.opencv_cluster_distance
        matches = ctx.faces.identify(res.face_backend, [c.centroid for c in res.persons], distance, keys,
                                     source=ctx.media_id)
        out = {}
        for c, key, m in zip(res.persons, keys, matches, strict=True):
            out[c.index] = PersonIdentity(tag=m.tag, person_id=m.person_id, known=m.known,
                                          face_url=ctx.blobs.signed_url(key, opts.face_url_ttl_s),
                                          face_key=key, distance=m.distance)
        return out


__all__ = ["ALL_TYPES", "VideoTagHandler"]
