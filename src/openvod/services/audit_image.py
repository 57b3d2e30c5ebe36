"""SubmitAIImageAuditJob: content moderation of one image — an image uploaded with CreateUploadImage
or an AI image (a cover or GIF made by SubmitAIImageJob) — by its ImageId. The scenes are those of a
video's cover (analyzers/audit/image.py): porn (NudeNet), ad (QR code, the image's OCR text through
the word library), live (black / solid / test card), terrorism and logo (text cues only, so always
at least review); the image's title and description with ``text-title``. The result is an
AIMediaAuditResult whose ``ImageResult`` holds the image; it is read back with GetAIMediaAuditJob
and GetMediaAuditResult (MediaId = the ImageId), like the cloud's image audits.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from openvod.domain import userdata
from openvod.domain.contract import JobContext, JobHandler, JobOutput
from openvod.domain.jobs import JobFailed
from openvod.store.tables import ai_images, uploads
from openvod.errors import InvalidParameter, VodError
from openvod.util import dumps, json_problem, loads

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from openvod.services.audit_handler import MediaAuditHandler

IMAGE_AUDIT_TYPE = "AIImageAudit"
_RESOURCE_TYPE = re.compile(r"^[A-Za-z0-9_]{1,64}$")


class ImageGone(JobFailed):
    code = "InvalidImage.NotFound"


def image_row(engine: Engine, account_id: str, image_id: str) -> dict[str, Any] | None:
    """The image as a media-like row (``kind`` image, ``image_type`` cover|default, ``status``), or
    None when the account has no such image. Uploaded images first, then AI images."""
    with engine.connect() as conn:
        u = conn.execute(select(uploads).where(uploads.c.media_id == image_id, uploads.c.account_id == account_id,
                                               uploads.c.kind == "image")).mappings().first()
        a = None if u is not None else conn.execute(select(ai_images).where(
            ai_images.c.id == image_id, ai_images.c.account_id == account_id)).mappings().first()
    if u is not None:
        return {"id": u["media_id"], "account_id": account_id, "kind": "image", "blob_key": u["blob_key"],
                "status": "Normal" if u["status"] == "Normal" else "Uploading", "image_type": u["sub_type"],
                "title": u["title"] or "", "description": u["description"] or "", "width": int(u["width"]),
                "height": int(u["height"]), "probe": "{}"}
    if a is not None:
        return {"id": a["id"], "account_id": account_id, "kind": "image", "blob_key": a["blob_key"],
                "status": "Normal", "image_type": "cover" if a["format"] != "gif" else "default",
                "title": "", "description": "", "probe": "{}"}
    return None


def resource_config(raw: str) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        cfg = loads(raw)
    except ValueError as exc:
        raise InvalidParameter("MediaAuditConfiguration", json_problem(exc, "It must be a JSON object.")) from None
    if not isinstance(cfg, dict):
        raise InvalidParameter("MediaAuditConfiguration", "It must be a JSON object.")
    rt = cfg.get("ResourceType")
    if rt is not None and (not isinstance(rt, str) or not _RESOURCE_TYPE.match(rt)):
        raise InvalidParameter("MediaAuditConfiguration", "ResourceType must be 1-64 letters, digits or underscores.")
    return cfg


def submit_image_audit(svc: Any, account_id: str, image_id: str, template_id: str, config_raw: str,
                       user_data: str, extra: dict[str, str]) -> str:
    """Queue the audit of one image of the account; its JobId."""
    from openvod.services.upload_rules import ImageNotFound

    cfg = resource_config(config_raw)
    userdata.parse(user_data)
    tpl = svc.audit_template(account_id, template_id)
    svc.jobs.check_type_available(IMAGE_AUDIT_TYPE, "MediaId")
    row = image_row(svc.engine, account_id, image_id)
    if row is None:
        raise ImageNotFound()
    if row["status"] != "Normal":  # CreateUploadImage before (or without) the bytes
        raise VodError(f"Status of the image is illegal. Current Status is {row['status']}.",
                       code="Forbidden.IllegalStatus", http_status=403)
    config = {"MediaAuditConfiguration": cfg, **{k: v for k, v in extra.items() if v}}
    spec = {"type": IMAGE_AUDIT_TYPE, "config": dumps(config), "user_data": user_data,
            "template_id": tpl.id if tpl is not None else "", "template_config": tpl.config if tpl is not None else ""}
    return svc.jobs.create_jobs(account_id, image_id, [spec])[0]


def image_audit_result(image: dict[str, Any], scenes: list[dict[str, Any]], url: str,
                       texts: list[tuple[str, str, Any, str]]) -> dict[str, Any]:
    """AIMediaAuditResult of one image: ``scenes`` = audit_image's per-scene items; ``texts`` =
    (type, content, TextVerdict, suggestion) of the title and description."""
    from openvod.analyzers.audit.engine import TEXT_CATEGORY, top_label, worst
    from openvod.analyzers.audit.wire import score

    bad = [r for r in scenes if r["Suggestion"] != "pass"]
    img_sug = worst(*(r["Suggestion"] for r in scenes))
    label = max(bad, key=lambda r: float(r["Score"]))["Label"] if bad else "normal"
    kind = "cover" if image.get("image_type") == "cover" else "image"
    modules = (["image" if kind == "image" else "image-cover"] if img_sug != "pass" else []) + (
        ["text-title"] if any(t[3] != "pass" for t in texts) else [])
    parts = [(r["Scene"], r["Suggestion"], float(r["Score"])) for r in scenes]
    parts += [(TEXT_CATEGORY, t[3], float(t[2].score)) for t in texts]
    out: dict[str, Any] = {
        "Suggestion": worst(img_sug, *(t[3] for t in texts)),
        "Label": top_label(parts),
        "AbnormalModules": ",".join(modules),
        "MediaType": "image",  # openvod: the audited media is an image
        "ImageResult": [{"Type": kind, "Url": url, "Suggestion": img_sug, "Label": label, "Result": scenes}],
        "TextResult": [
            {"Type": typ, "Content": content, "Scene": "antispam", "Label": tv.label, "Score": score(tv.score),
             "Suggestion": sug, **({"Evidence": ", ".join(h.evidence for h in tv.hits[:5])} if tv.hits else {})}
            for typ, content, tv, sug in texts
        ],
        "AudioResult": [],
    }
    reasons = [f"{r['Scene']}: {r['Reason']}" for r in scenes if r.get("Reason")]
    if reasons:
        out["Reasons"] = reasons
    return out


class ImageAuditHandler(JobHandler):
    """Content moderation of one image (SubmitAIImageAuditJob). Shares the video handler's NudeNet
    session and its cover OCR."""

    job_type = IMAGE_AUDIT_TYPE
    name = "openvod-audit-image"
    version = "1.0"

    def __init__(self, video: MediaAuditHandler) -> None:
        self.video = video

    def unavailable_reason(self) -> str | None:
        return self.video.unavailable_reason()

    def load_media(self, services: Any, account_id: str, media_id: str) -> dict[str, Any] | None:
        row = image_row(services.engine, account_id, media_id)
        if row is None:
            raise ImageGone("The image does not exist.")
        return row

    def run(self, ctx: JobContext) -> JobOutput:
        from openvod.analyzers.audit.engine import audit_image
        from openvod.analyzers.audit.text import TextModerator
        from openvod.services.audit_handler import options_for

        rt = ctx.services
        s = rt.settings.audit
        options = options_for(ctx.template_config, s)
        detector = self.video.detector(s.porn_threads) if "porn" in options.items else None
        rgb, missing = None, ""
        try:
            import numpy as np
            from PIL import Image

            with Image.open(ctx.media_path) as im:
                im.draft("RGB", (s.max_side * 2, s.max_side * 2))  # JPEG: decode at a reduced size
                small = im.convert("RGB")
                small.thumbnail((s.max_side, s.max_side))
                rgb = np.asarray(small)
        except FileNotFoundError:
            raise ImageGone("The image file is missing from storage.") from None
        except Exception as exc:  # not an image PIL can read: every scene is review, with the reason
            missing = f"The image could not be decoded ({type(exc).__name__})."
        mod = TextModerator(rt.audit.custom_words(ctx.account_id))
        ocr = self.video._cover_text(ctx, rgb) if rgb is not None and "ad" in options.items else None
        scenes = audit_image(rgb, options, detector, missing, ocr, mod)
        texts = []
        if "text-title" in options.ranges:
            th = options.threshold("text")
            for typ, content in (("title", ctx.media.get("title") or ""), ("description", ctx.media.get("description") or "")):
                if content:
                    tv = mod.classify(content)
                    texts.append((typ, content, tv, th.suggestion(tv.score) if not tv.normal else "pass"))
        url = rt.audit.frame_url(ctx.media["blob_key"])
        data = image_audit_result(dict(ctx.media), scenes, url, texts)
        data["Analyzer"] = f"{self.name}@{self.version}"
        detail = {"Image": {"Width": int(rgb.shape[1]) if rgb is not None else 0,
                            "Height": int(rgb.shape[0]) if rgb is not None else 0},
                  "OCR": ocr, "Models": {"porn": getattr(detector, "name", "") if detector else "",
                                         "text": "word-library+jieba"}}
        return JobOutput(data=data, detail=detail)
