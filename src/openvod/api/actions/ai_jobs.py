"""AI job Actions: SubmitAIJob, ListAIJob, GetAIVideoTagResult, GetMediaDNAResult, SubmitMediaDNADeleteJob,
GetJobDetail."""

from __future__ import annotations

from typing import Any

from openvod.api.rpc import Ctx, action
from openvod.domain.jobs import AI_IMAGE_TYPE, AI_JOB_TYPES
from openvod.errors import InvalidParameter
from openvod.services.ai_jobs import ResultNotFound, job_wire
from openvod.util import utc_iso


@action("SubmitAIJob")
def submit_ai_job(ctx: Ctx) -> dict[str, Any]:
    """One job per requested type; rows are committed before this returns."""
    jobs = ctx.rt.jobs.submit(
        ctx.account_id,
        ctx.p.str("MediaId", required=True, max_bytes=128),
        ctx.p.str("Types", required=True),
        ctx.p.str("Config", max_bytes=8192),
        ctx.p.str("UserData"),
    )
    return {"AIJobList": {"AIJob": jobs}}


@action("ListAIJob", read_only=True)
def list_ai_job(ctx: Ctx) -> dict[str, Any]:
    """Poll up to 10 AI jobs; Data is the result as a JSON string."""
    ids = ctx.p.ids("JobIds", required=True, max_items=10)
    found, missing = ctx.rt.jobs.list(ctx.account_id, ids)
    return {"AIJobList": {"AIJob": [job_wire(r) for r in found]}, "NonExistAIJobIds": {"String": missing}}


@action("GetAIVideoTagResult")  # results can be large: on the thread pool, off the event loop
def get_ai_video_tag_result(ctx: Ctx) -> dict[str, Any]:
    """The latest smart-tag result of a video (without OrigASRData)."""
    return {"VideoTagResult": ctx.rt.jobs.video_tag_result(ctx.account_id, ctx.p.str("MediaId", required=True))}


@action("GetMediaDNAResult")  # results can be large: on the thread pool, off the event loop
def get_media_dna_result(ctx: Ctx) -> dict[str, Any]:
    """The latest fingerprint result of a video."""
    return {"DNAResult": ctx.rt.jobs.dna_result(ctx.account_id, ctx.p.str("MediaId", required=True))}


@action("SubmitMediaDNADeleteJob")
def submit_media_dna_delete_job(ctx: Ctx) -> dict[str, Any]:
    """Remove a video's fingerprints from its library."""
    media_id = ctx.p.str("MediaId", required=True)
    job_id = ctx.rt.jobs.dna_delete(ctx.account_id, media_id, ctx.p.str("FpDBId", max_bytes=64))
    return {"JobId": job_id, "MediaId": media_id}


@action("GetJobDetail", read_only=True)
def get_job_detail(ctx: Ctx) -> dict[str, Any]:
    """The newer generic job query; openvod runs only AI jobs (JobType=ai)."""
    job_id = ctx.p.str("JobId", required=True, max_bytes=128)
    job_type = ctx.p.str("JobType", required=True).lower()
    if job_type != "ai":
        raise InvalidParameter("JobType", "openvod runs no transcode, snapshot or workflow jobs; use ai.")
    found, _ = ctx.rt.jobs.list(ctx.account_id, [job_id], (*AI_JOB_TYPES, AI_IMAGE_TYPE))
    if not found:
        raise ResultNotFound("The job does not exist.")
    r = found[0]
    return {
        "JobType": "ai",
        "AIJobDetail": {
            "JobId": r.id,
            "JobType": r.type,
            "MediaId": r.media_id,
            "Status": r.status,
            "CreateTime": utc_iso(r.created_at),
            "CompleteTime": utc_iso(r.completed_at),
            "TemplateConfig": r.template_config or r.config or "",
            "Trigger": "Manual",
            "UserId": int(ctx.account_id[:12], 16),
        },
    }
