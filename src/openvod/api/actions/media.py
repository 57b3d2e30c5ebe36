"""Media Actions (spec §12)."""

from __future__ import annotations

from typing import Any

from openvod.api.rpc import Ctx, action
from openvod.errors import InvalidParameter, MissingParameter, VideoNotFound
from openvod.services.media import validate_metadata
from openvod.util import json_problem, loads


def _video_id(ctx: Ctx) -> str:
    vid = ctx.p.str("VideoId")
    if not vid:
        ref = ctx.p.str("ReferenceId")
        if ref:  # set by CreateUploadVideo / UpdateVideoInfo (services/uploads.py)
            vid = ctx.rt.uploads.media_by_reference(ctx.account_id, ref) or ""
            if not vid:
                raise VideoNotFound()
            return vid
        raise MissingParameter("VideoId")
    return vid


@action("RegisterMedia", heavy=True)
def register_media(ctx: Ctx) -> dict[str, Any]:
    """Register up to 10 local or http(s) files as videos.

    Each RegisterMetadatas entry is `{FileURL, Title, Description?, Tags?, CoverURL?, CateId?}`
    (FileURL and CoverURL at most 1024 bytes, Title 128, Description 1024, at most 16 Tags of 32).
    FileURL is an absolute path, a `file://` URL or a relative path (resolved against the server's
    working directory) inside `media.allowed_roots`, or an http(s) URL on a public host. A file is
    identified by its resolved real path, so every spelling of one file gets the same MediaId
    (`NewRegister` false after the first). A refused entry is listed in `FailedFileURLs` and, with
    why, in the extra `FailedFileURLReasons` `[{FileURL, Code, Message}]`; its codes:
    `InvalidFileURL.NotFound`, `InvalidFileURL.Forbidden`, `InvalidFileURL.NotAFile`,
    `InvalidFileURL.Unsupported`, `InvalidFileURL.DownloadFailed`, `InvalidVideo.Damaged`.
    """
    raw = ctx.p.str("RegisterMetadatas", required=True)
    try:
        entries = loads(raw)
    except ValueError as exc:
        raise InvalidParameter("RegisterMetadatas", json_problem(exc, "It must be a JSON array.")) from None
    if not isinstance(entries, list) or not entries:
        raise InvalidParameter("RegisterMetadatas", "It must be a non-empty JSON array.")
    if len(entries) > 10:
        raise InvalidParameter("RegisterMetadatas", "At most 10 entries are allowed.")
    metas = [validate_metadata(e, i) for i, e in enumerate(entries)]
    done, failed = ctx.rt.media.register_detailed(
        ctx.account_id,
        metas,
        template_group_id=ctx.p.str("TemplateGroupId", max_bytes=64),
        user_data=ctx.p.str("UserData", max_bytes=1024),
        request_id=ctx.request_id,
    )
    return {
        "RegisteredMediaList": [
            {"MediaId": r.media_id, "FileURL": r.file_url, "NewRegister": r.new_register} for r in done
        ],
        "FailedFileURLs": [f.file_url for f in failed],
        # openvod extra (the SDK models ignore it): why each FailedFileURLs entry was refused.
        "FailedFileURLReasons": [f.wire() for f in failed],
    }


@action("GetVideoInfo", read_only=True)
def get_video_info(ctx: Ctx) -> dict[str, Any]:
    """One video's information (Snapshots in the wrapper style)."""
    row = ctx.rt.media.get_row(ctx.account_id, _video_id(ctx))
    return {"Video": {**ctx.rt.media.video_fields(row, ctx.base_url), "Snapshots": {"Snapshot": []}}}


@action("GetVideoInfos", read_only=True)
def get_video_infos(ctx: Ctx) -> dict[str, Any]:
    """Up to 20 videos (plain arrays)."""
    ids = ctx.p.ids("VideoIds", max_items=20)
    refs = ctx.p.ids("ReferenceIds", max_items=20)
    if not ids and not refs:
        raise MissingParameter("VideoIds")
    by_ref = {r: ctx.rt.uploads.media_by_reference(ctx.account_id, r) for r in ([] if ids else refs)}
    wanted = ids or [v for v in by_ref.values() if v]
    rows = ctx.rt.media.find_rows(ctx.account_id, wanted)
    return {
        "VideoList": [{**ctx.rt.media.video_fields(rows[i], ctx.base_url), "Snapshots": []} for i in wanted if i in rows],
        "NonExistVideoIds": [i for i in ids if i not in rows],
        "NonExistReferenceIds": [r for r, v in by_ref.items() if not v or v not in rows],
    }


@action("DeleteVideo")
def delete_video(ctx: Ctx) -> dict[str, Any]:
    """Delete videos with their blobs, jobs, images and fingerprints."""
    ids = ctx.p.ids("VideoIds", max_items=20)
    refs = ctx.p.ids("ReferenceIds", max_items=20)
    if not ids and not refs:
        raise MissingParameter("VideoIds")
    missing = ctx.rt.media.delete(ctx.account_id, ids)
    return {"NonExistVideoIds": missing, "ForbiddenVideoIds": [], "NonExistReferenceIds": refs}


@action("GetMezzanineInfo")
def get_mezzanine_info(ctx: Ctx) -> dict[str, Any]:
    """The source file: signed URL, size, duration, and stream lists when AdditionType asks."""
    row = ctx.rt.media.get_row(ctx.account_id, _video_id(ctx))
    output_type = ctx.p.str("OutputType", default="cdn").lower()
    if output_type not in ("oss", "cdn"):
        raise InvalidParameter("OutputType", "Allowed values: oss, cdn.")
    timeout = ctx.p.int("AuthTimeout", default=3600, min_value=1, max_value=30 * 24 * 3600) or 3600
    additions = {x.strip().lower() for x in ctx.p.str("AdditionType").split(",") if x.strip()}
    if additions - {"video", "audio"}:
        raise InvalidParameter("AdditionType", "Allowed values: video, audio.")
    mz = ctx.rt.media.mezzanine(row, ctx.base_url, timeout, additions)
    mz["OutputType"] = output_type
    return {"Mezzanine": mz}
