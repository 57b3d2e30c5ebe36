"""The AIMediaAudit job handler: thin glue between the job engine, the audit service (reused
AIVideoTag text, word libraries, frame blobs, auto-block) and the pure analyzers in
``openvod.analyzers.audit``. It lives in the service layer because it reads the store (AIVideoTag
results, the account's word library) and may block the video; like the URL-upload handler it uses
``ctx.services``.

Failures: ``InvalidVideo.Damaged`` (the video cannot be decoded), ``InvalidVideo.NoVideoStream``.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from openvod.domain.contract import JobContext, JobHandler, JobOutput
from openvod.domain.jobs import MediaDamaged

if TYPE_CHECKING:
    from openvod.analyzers.audit.engine import TextInputs
    from openvod.analyzers.audit.options import AuditOptions
    from openvod.config import AuditSettings


def options_for(template_config: dict[str, Any], s: AuditSettings) -> AuditOptions:
    from openvod.analyzers.audit.options import SamplingOptions, options_from_template

    return options_from_template(template_config, SamplingOptions(
        base_fps=s.base_fps, max_samples=s.max_samples, confirm_fps=s.confirm_fps,
        confirm_window_s=s.confirm_window_s, confirm_min=s.confirm_min, max_side=s.max_side))


class MediaAuditHandler(JobHandler):
    """Content moderation of a video: porn, ad, live, terrorism, logo, title text and speech."""

    job_type = "AIMediaAudit"
    name = "openvod-audit"
    version = "1.0"

    def __init__(self) -> None:
        self._detector: Any = None
        self._lock = threading.Lock()

    def unavailable_reason(self) -> str | None:
        try:
            import cv2  # noqa: F401
        except ImportError:
            return "AIMediaAudit needs opencv-python-headless, which is not installed."
        return None

    def detector(self, threads: int) -> Any:
        """NudeNet's detector, loaded once per worker; None when the nudenet wheel is missing."""
        from openvod.analyzers.audit.visual import NudeNetDetector, nudenet_model_path

        with self._lock:
            if self._detector is None:
                path = nudenet_model_path()
                self._detector = NudeNetDetector(path, threads=threads) if path else False
        return self._detector or None

    def run(self, ctx: JobContext) -> JobOutput:
        from openvod.analyzers.audit.engine import DecodeFailed, decide, scan_video
        from openvod.analyzers.audit.text import TextModerator
        from openvod.analyzers.audit.wire import build_detail, build_result, frame_images

        rt = ctx.services
        s = rt.settings.audit
        options = options_for(ctx.template_config, s)
        texts = rt.audit.text_inputs(ctx.account_id, dict(ctx.media))
        if "video" in options.ranges or "audio" in options.items:
            self._fill_text(ctx, texts, options)
        detector = self.detector(s.porn_threads) if "porn" in options.items else None
        try:
            scan = scan_video(ctx.media_path, options, detector, ctx.heartbeat)
        except DecodeFailed as exc:
            raise MediaDamaged(str(exc)) from None
        mod = TextModerator(rt.audit.custom_words(ctx.account_id))
        report = decide(scan, texts, options, mod)
        if "porn" in options.items and detector is None:
            v = report.scenes.get("porn")
            if v is not None:
                v.reason = "The NudeNet model is not installed (pip install nudenet); no frame was checked."
                v.suggestion = "review" if v.suggestion == "pass" else v.suggestion
                report.reasons.append(f"porn: {v.reason}")
                if report.suggestion == "pass":
                    report.suggestion = report.video_suggestion = "review"
        prefix = f"derived/{ctx.account_id}/{ctx.media_id}/audit/{ctx.job_id}"
        urls: dict[float, str] = {}
        for t, jpeg in sorted(frame_images(report).items()):
            key = f"{prefix}/{int(round(t * 1000)):09d}.jpg"
            rt.blobs.put_bytes(key, jpeg)
            urls[t] = rt.audit.frame_url(key)
        analyzer = f"{self.name}@{self.version}"
        images = self._cover(ctx, options, detector, mod) if "image-cover" in options.ranges else []
        data = build_result(report, urls, images, analyzer=analyzer)
        detail = build_detail(report, urls)
        detail["TextSource"] = texts.origin
        detail["Models"] = {"porn": getattr(detector, "name", "") if detector else "", "qr": "opencv-QRCodeDetector",
                            "text": "word-library+jieba"}
        if str(ctx.template_config.get("AuditAutoBlock", "no")) == "yes" and data["Suggestion"] == "block":
            rt.audit.set_status(ctx.account_id, ctx.media_id, "Blocked", f"AuditAutoBlock: {data['Label']}",
                                f"job {ctx.job_id}", "openvod-audit")
            detail["AutoBlocked"] = True
        return JobOutput(data=data, detail=detail)

    def _cover(self, ctx: JobContext, options: AuditOptions, detector: Any, mod: Any) -> list[dict[str, Any]]:
        """ImageResult of the video's cover: covers stored by openvod are checked; an external cover
        URL is not fetched (offline, and not ours to fetch), so it is reviewed with that reason."""
        from openvod.analyzers.audit.engine import worst, audit_image
        from openvod.services.media import INTERNAL_COVER_PREFIX

        cover = ctx.media.get("cover_url") or ""
        if not cover:
            return []
        rgb = None
        missing = ""
        url = cover
        if cover.startswith(INTERNAL_COVER_PREFIX):
            key = cover[len(INTERNAL_COVER_PREFIX):]
            url = ctx.services.audit.frame_url(key)
            try:
                import numpy as np
                from PIL import Image

                with Image.open(ctx.services.blobs.path(key)) as im:
                    rgb = np.asarray(im.convert("RGB"))
            except Exception as exc:  # a missing or unreadable cover file
                missing = f"The cover image could not be read ({type(exc).__name__})."
        else:
            missing = "The cover is an external URL, which openvod does not fetch."
        texts = self._cover_text(ctx, rgb) if rgb is not None and "ad" in options.items else None
        result = audit_image(rgb, options, detector, missing, texts, mod)
        bad = [r for r in result if r["Suggestion"] != "pass"]
        label = max(bad, key=lambda r: float(r["Score"]))["Label"] if bad else "normal"
        return [{"Type": "cover", "Url": url, "Suggestion": worst(*(r["Suggestion"] for r in result)),
                 "Label": label, "Result": result}]

    def _cover_text(self, ctx: JobContext, rgb: Any) -> list[str] | None:
        """The cover's text lines (AIVideoTag's OCR engine), or None when OCR cannot run here."""
        tag = ctx.services.analyzers.get("AIVideoTag")
        if not ctx.services.settings.audit.run_ocr or tag is None or not hasattr(tag, "models"):
            return None
        try:
            from openvod.analyzers.tag.ocr import OcrEngine, missing_dependency
            from openvod.engine.analyzer_options import tag_options

            if missing_dependency():
                return None
            engine = OcrEngine(tag_options(ctx.services.settings.tag).ocr, tag.models)
            return [text for text, _box, _score in engine.read(rgb)]
        except Exception:  # OCR is an extra on covers; a failure leaves the ad scene in review
            return None

    def _fill_text(self, ctx: JobContext, texts: TextInputs, options: AuditOptions) -> None:
        """Run OCR / ASR here when no AIVideoTag result has them and the settings allow it."""
        from openvod.analyzers.audit.engine import TimedText

        s = ctx.services.settings.audit
        want: list[str] = []
        needs_ocr = "video" in options.ranges and bool({"ad", "terrorism", "logo"} & set(options.items))
        if needs_ocr and texts.ocr_missing and s.run_ocr:
            want.append("OCR")
        if "audio" in options.items and texts.asr_missing and texts.has_audio and s.run_asr:
            want.append("ASR")
        if not want:
            return
        tag = ctx.services.analyzers.get("AIVideoTag")
        if tag is None or not hasattr(tag, "models"):
            reason = "the AIVideoTag analyzer is not installed here"
            texts.ocr_missing = texts.ocr_missing and reason
            texts.asr_missing = texts.asr_missing and reason
            return
        from openvod.analyzers.tag.engine import analyse, unavailable
        from openvod.engine.analyzer_options import tag_options
        from openvod.models.cache import ModelUnavailable
        from openvod.pipeline import DecodeError

        topts = tag_options(ctx.services.settings.tag)
        missing = unavailable(set(want), topts)
        for t, why in missing.items():
            if t == "OCR":
                texts.ocr_missing = f"OCR cannot run here ({why})"
            else:
                texts.asr_missing = f"ASR cannot run here ({why})"
        want = [t for t in want if t not in missing]
        if not want:
            return
        try:
            res = analyse(ctx.media_path, want, topts, tag.models, ctx.heartbeat)
        except (DecodeError, ModelUnavailable) as exc:
            for t in want:
                setattr(texts, "ocr_missing" if t == "OCR" else "asr_missing", f"{t} failed: {exc}")
            return
        if "OCR" in want:
            texts.ocr = [TimedText(t.start, t.end or t.start, t.text, "ocr") for t in res.text_tracks if t.text]
            texts.ocr_missing = None
        if "ASR" in want:
            if res.transcript is not None:
                texts.asr = [TimedText(x.start, x.end, x.text, "asr") for x in res.transcript.sentences if x.text]
                texts.asr_missing = None
            elif "ASR" in res.skipped:
                texts.asr_missing = f"ASR skipped: {res.skipped['ASR']}"
            else:
                texts.asr_missing = None
        texts.origin = "; ".join(x for x in (texts.origin, f"{'+'.join(want)} run by this job") if x)
