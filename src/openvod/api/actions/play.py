"""GetPlayInfo: the stored source as one ``OD`` stream with a signed, expiring PlayURL (docs/upload.md)."""

from __future__ import annotations

from typing import Any

from openvod.api.actions.upload import video_id_param
from openvod.api.rpc import Ctx, action
from openvod.errors import InvalidParameter

_DEFINITIONS = {"FD", "LD", "SD", "HD", "OD", "2K", "4K", "SQ", "HQ", "AUTO"}


def _csv(ctx: Ctx, name: str) -> set[str]:
    return {x.strip() for x in ctx.p.str(name).split(",") if x.strip()}


@action("GetPlayInfo", read_only=True)
def get_play_info(ctx: Ctx) -> dict[str, Any]:
    """Play information of one video (wrapper list PlayInfoList.PlayInfo)."""
    vid = video_id_param(ctx)
    formats = {f.lower() for f in _csv(ctx, "Formats")}
    stream_types = {s.lower() for s in _csv(ctx, "StreamType")}
    if stream_types - {"video", "audio"}:
        raise InvalidParameter("StreamType", "Allowed values: video, audio.")
    definitions = {d.upper() for d in _csv(ctx, "Definition")}
    if definitions - _DEFINITIONS:
        raise InvalidParameter("Definition", f"Allowed values: {', '.join(sorted(_DEFINITIONS))}.")
    output_type = ctx.p.str("OutputType", default="cdn").lower()
    if output_type not in ("oss", "cdn"):
        raise InvalidParameter("OutputType", "Allowed values: oss, cdn.")
    result_type = ctx.p.str("ResultType", default="Single")
    if result_type not in ("Single", "Multiple"):
        raise InvalidParameter("ResultType", "Allowed values: Single, Multiple.")
    ttl = ctx.p.int("AuthTimeout", min_value=1, max_value=30 * 24 * 3600) or ctx.rt.settings.upload.play_url_ttl_s
    # A video under review or Blocked plays only for the audit security IPs (SetAuditSecurityIp).
    base, info = ctx.rt.library.play_info(ctx.account_id, vid, ctx.base_url, ttl, formats, stream_types,
                                          definitions, lambda: ctx.rt.audit.review_preview(ctx.account_id, ctx.client_ip))
    return {"VideoBase": base, "PlayInfoList": {"PlayInfo": [info]}}
