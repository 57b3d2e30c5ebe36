"""AIMediaAudit Actions (spec §10, docs/audit.md): audit jobs and their results, the manual review and
the review-console IP allow-lists."""

from __future__ import annotations

from typing import Any

from openvod.api.rpc import Ctx, action
from openvod.errors import InvalidParameter


@action("SubmitAIMediaAuditJob")
def submit_ai_media_audit_job(ctx: Ctx) -> dict[str, Any]:
    """Queue a content audit of a video (the template's scenes, or the default template's)."""
    media_id = ctx.p.str("MediaId", required=True, max_bytes=128)
    extra = {k: ctx.p.str(k, max_bytes=4096) for k in ("CensorProvider", "VideoService", "VoiceService",
                                                        "ServiceParameters")}
    job_id = ctx.rt.audit.submit(ctx.account_id, media_id, ctx.p.str("TemplateId", max_bytes=128),
                                 ctx.p.str("MediaType"), ctx.p.str("MediaAuditConfiguration", max_bytes=4096),
                                 ctx.p.str("UserData"), extra)
    return {"JobId": job_id, "MediaId": media_id}


@action("SubmitAIImageAuditJob")
def submit_ai_image_audit_job(ctx: Ctx) -> dict[str, Any]:
    """Queue a content audit of an image (CreateUploadImage, or an AI cover/GIF) by its ImageId."""
    from openvod.services.audit_image import submit_image_audit

    extra = {k: ctx.p.str(k, max_bytes=4096) for k in ("CensorProvider", "ImageService", "ServiceParameters")}
    job_id = submit_image_audit(ctx.rt.audit, ctx.account_id, ctx.p.str("MediaId", required=True, max_bytes=128),
                                ctx.p.str("TemplateId", max_bytes=128),
                                ctx.p.str("MediaAuditConfiguration", max_bytes=4096), ctx.p.str("UserData"), extra)
    return {"JobId": job_id}


@action("GetAIMediaAuditJob")
def get_ai_media_audit_job(ctx: Ctx) -> dict[str, Any]:
    """One audit job; ``Data`` is the AIMediaAuditResult object (frame URLs freshly signed)."""
    return {"MediaAuditJob": ctx.rt.audit.job(ctx.account_id, ctx.p.str("JobId", required=True, max_bytes=128))}


@action("GetMediaAuditResult")
def get_media_audit_result(ctx: Ctx) -> dict[str, Any]:
    """The latest successful audit of a video."""
    return {"MediaAuditResult": ctx.rt.audit.result(ctx.account_id, ctx.p.str("MediaId", required=True))}


@action("GetMediaAuditResultDetail")
def get_media_audit_result_detail(ctx: Ctx) -> dict[str, Any]:
    """Every sampled frame's labels and scores per scene, 20 per page (plain array List)."""
    page = ctx.p.int("PageNo", required=True, min_value=1, max_value=100000)
    return {"MediaAuditResultDetail": ctx.rt.audit.result_detail(ctx.account_id, ctx.p.str("MediaId", required=True),
                                                                 page or 1)}


@action("GetMediaAuditResultTimeline")
def get_media_audit_result_timeline(ctx: Ctx) -> dict[str, Any]:
    """The non-normal moments of each scene (plain arrays Porn, Terrorism, Ad, Live, Logo)."""
    return {"MediaAuditResultTimeline": ctx.rt.audit.timeline(ctx.account_id, ctx.p.str("MediaId", required=True))}


@action("GetMediaAuditAudioResultDetail")
def get_media_audit_audio_result_detail(ctx: Ctx) -> dict[str, Any]:
    """Transcribed sentences with their text-moderation label; all of them when PageNo is absent."""
    page = ctx.p.int("PageNo", min_value=1, max_value=100000)
    return {"MediaAuditAudioResultDetail": ctx.rt.audit.audio_detail(
        ctx.account_id, ctx.p.str("MediaId", required=True), page)}


@action("CreateAudit")
def create_audit(ctx: Ctx) -> dict[str, Any]:
    """Manual review: set videos Normal or Blocked (Blocked videos stop playing)."""
    ctx.rt.audit.create_audit(ctx.account_id, ctx.p.str("AuditContent", required=True, max_bytes=200_000),
                              ctx.access_key_id)
    return {}


@action("GetAuditHistory")
def get_audit_history(ctx: Ctx) -> dict[str, Any]:
    """A video's manual review history (plain array Histories)."""
    sort = ctx.p.str("SortBy", default="CreationTime:Desc")
    if sort not in ("CreationTime:Desc", "CreationTime:Asc"):
        raise InvalidParameter("SortBy", "Allowed values: CreationTime:Desc, CreationTime:Asc.")
    return ctx.rt.audit.history(
        ctx.account_id, ctx.p.str("VideoId", required=True),
        ctx.p.int("PageNo", default=1, min_value=1, max_value=100000) or 1,
        ctx.p.int("PageSize", default=10, min_value=1, max_value=100) or 10, sort.endswith("Desc"))


@action("SetAuditSecurityIp")
def set_audit_security_ip(ctx: Ctx) -> dict[str, Any]:
    """Append to, replace or delete from a review-console IP allow-list."""
    ctx.rt.audit.set_security_ips(ctx.account_id, ctx.p.str("Ips", required=True, max_bytes=8192),
                                  ctx.p.str("SecurityGroupName", max_bytes=64), ctx.p.str("OperateMode"))
    return {}


@action("ListAuditSecurityIp")
def list_audit_security_ip(ctx: Ctx) -> dict[str, Any]:
    """The account's review-console IP allow-lists (plain array SecurityIpList)."""
    return {"SecurityIpList": ctx.rt.audit.list_security_ips(ctx.account_id)}
