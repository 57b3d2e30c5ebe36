"""AI image Actions (spec §8)."""

from __future__ import annotations

from typing import Any

from openvod.api.rpc import Ctx, action
from openvod.services.ai_images import image_job_wire


@action("SubmitAIImageJob")
def submit_ai_image_job(ctx: Ctx) -> dict[str, Any]:
    """Queue a smart cover / GIF job for a video with an AIImage template."""
    job_id = ctx.rt.images.submit(
        ctx.account_id,
        ctx.p.str("VideoId", required=True, max_bytes=128),
        ctx.p.str("AITemplateId", required=True, max_bytes=128),
        ctx.p.str("UserData"),
    )
    return {"JobId": job_id}


@action("GetAIImageJobs", read_only=True)
def get_ai_image_jobs(ctx: Ctx) -> dict[str, Any]:
    """Up to 10 AI image jobs (plain array); unknown ids are left out."""
    ids = ctx.p.ids("JobIds", required=True, max_items=10)
    return {"AIImageJobList": [image_job_wire(r) for r in ctx.rt.images.jobs(ctx.account_id, ids)]}


@action("ListAIImageInfo")
def list_ai_image_info(ctx: Ctx) -> dict[str, Any]:
    """A video's AI images with signed, expiring URLs."""
    vid = ctx.p.str("VideoId", required=True)
    return {"AIImageInfoList": ctx.rt.images.list_infos(ctx.account_id, vid, ctx.base_url)}


@action("DeleteAIImageInfos")
def delete_ai_image_infos(ctx: Ctx) -> dict[str, Any]:
    """Delete up to 10 AI images and their files."""
    ctx.rt.images.delete_infos(ctx.account_id, ctx.p.ids("AIImageInfoIds", required=True, max_items=10))
    return {}
