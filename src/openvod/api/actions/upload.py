"""Upload Actions: CreateUploadVideo, RefreshUploadVideo, CreateUploadImage, CreateUploadAttachedMedia,
GetUploadDetails, DeleteMultipartUpload (docs/upload.md)."""

from __future__ import annotations

from typing import Any

from openvod.api.rpc import Ctx, action
from openvod.errors import InvalidParameter, MissingParameter, VideoNotFound
from openvod.services.uploads import ATTACHED_EXTS, IMAGE_EXTS, check_reference_id, check_tags
from openvod.services.url_uploads import split_urls
from openvod.util import loads


def _cate_id(ctx: Ctx, name: str = "CateId") -> int | None:
    return ctx.p.int(name, min_value=-(2**63), max_value=2**63 - 1)  # a signed 64-bit column


def _common(ctx: Ctx) -> dict[str, Any]:
    storage = ctx.p.str("StorageLocation", max_bytes=256)
    if storage and storage not in ("local", ctx.rt.settings.upload.bucket):
        raise InvalidParameter("StorageLocation", "openvod has one storage location: local.",
                               code="InvalidStorage.NotFound")
    return {
        "description": ctx.p.str("Description", max_bytes=1024),
        "tags": check_tags(ctx.p.str("Tags", max_bytes=1024)),
        "app_id": ctx.p.str("AppId", max_bytes=64) or "app-1000000",
        "user_data": ctx.p.str("UserData", max_bytes=1024),
    }



def video_id_param(ctx: Ctx) -> str:
    """VideoId, or the video that the account's ReferenceId names (the Actions that take either)."""
    vid = ctx.p.str("VideoId")
    if not vid:
        ref = ctx.p.str("ReferenceId")
        if not ref:
            raise MissingParameter("VideoId")
        vid = ctx.rt.uploads.media_by_reference(ctx.account_id, ref) or ""
        if not vid:
            raise VideoNotFound()
    return vid

@action("CreateUploadVideo")
def create_upload_video(ctx: Ctx) -> dict[str, Any]:
    """A VideoId (status Uploading) with its upload address and temporary credential."""
    c = _common(ctx)
    return ctx.rt.uploads.create_video(
        ctx.account_id,
        ctx.base_url,
        title=ctx.p.str("Title", required=True, max_bytes=128),
        file_name=ctx.p.str("FileName", required=True, max_bytes=1024),
        file_size=ctx.p.int("FileSize", min_value=0, max_value=2**62) or 0,
        description=c["description"],
        cover_url=ctx.p.str("CoverURL", max_bytes=1024),
        cate_id=_cate_id(ctx),
        tags=c["tags"],
        template_group_id=ctx.p.str("TemplateGroupId", max_bytes=64),
        app_id=c["app_id"],
        user_data=c["user_data"],
        reference_id=check_reference_id(ctx.p.str("ReferenceId")),
    )


@action("RefreshUploadVideo")
def refresh_upload_video(ctx: Ctx) -> dict[str, Any]:
    """A new credential for the same upload address of a video."""
    vid = video_id_param(ctx)
    return ctx.rt.uploads.refresh_video(ctx.account_id, ctx.base_url, vid)


@action("CreateUploadImage")
def create_upload_image(ctx: Ctx) -> dict[str, Any]:
    """An ImageId with its upload address and temporary credential."""
    c = _common(ctx)
    image_type = ctx.p.str("ImageType", required=True)
    if image_type not in ("default", "cover"):
        raise InvalidParameter("ImageType", "Allowed values: default, cover.")
    ext = ctx.p.str("ImageExt", default="png").lower()
    if ext not in IMAGE_EXTS:
        raise InvalidParameter("ImageExt", f"Allowed values: {', '.join(IMAGE_EXTS)}.")
    r = ctx.rt.uploads.create_item(
        ctx.account_id, ctx.base_url, kind="image", sub_type=image_type, ext=ext,
        file_name=ctx.p.str("OriginalFileName", max_bytes=512), file_size=0,
        title=ctx.p.str("Title", max_bytes=128), description=c["description"], tags=c["tags"],
        cate_id=_cate_id(ctx), app_id=c["app_id"], user_data=c["user_data"],
    )
    return {"ImageId": r["Id"], "ImageURL": r["URL"], "FileURL": r["FileURL"],
            "UploadAddress": r["UploadAddress"], "UploadAuth": r["UploadAuth"]}


@action("CreateUploadAttachedMedia")
def create_upload_attached_media(ctx: Ctx) -> dict[str, Any]:
    """A MediaId for a watermark, subtitle or material file, with its upload address and credential."""
    c = _common(ctx)
    business = ctx.p.str("BusinessType", required=True)
    if business not in ATTACHED_EXTS:
        raise InvalidParameter("BusinessType", f"Allowed values: {', '.join(ATTACHED_EXTS)}.")
    ext = ctx.p.str("MediaExt", required=True).lower()
    if ext not in ATTACHED_EXTS[business]:
        raise InvalidParameter("MediaExt", f"Allowed for {business}: {', '.join(ATTACHED_EXTS[business])}.")
    size_raw = ctx.p.str("FileSize")
    if size_raw and not size_raw.isdigit():
        raise InvalidParameter("FileSize", "It must be a number of bytes.")
    cate_ids = [x.strip() for x in ctx.p.str("CateIds").split(",") if x.strip()]
    if len(cate_ids) > 5 or any(not x.lstrip("-").isdigit() for x in cate_ids):
        raise InvalidParameter("CateIds", "At most 5 integer category ids.")
    r = ctx.rt.uploads.create_item(
        ctx.account_id, ctx.base_url, kind="attached", sub_type=business, ext=ext,
        file_name=ctx.p.str("FileName", max_bytes=512), file_size=int(size_raw or 0),
        title=ctx.p.str("Title", max_bytes=128), description=c["description"], tags=c["tags"],
        cate_id=int(cate_ids[0]) if cate_ids else None, app_id=c["app_id"], user_data=c["user_data"],
    )
    return {"MediaId": r["Id"], "MediaURL": r["URL"], "FileURL": r["FileURL"],
            "UploadAddress": r["UploadAddress"], "UploadAuth": r["UploadAuth"]}


@action("GetUploadDetails")  # grows with the account's data: on the thread pool
def get_upload_details(ctx: Ctx) -> dict[str, Any]:
    """Upload progress of up to 20 videos (plain arrays)."""
    ids = ctx.p.ids("MediaIds", required=True, max_items=20)
    media_type = ctx.p.str("MediaType", default="video")
    if media_type != "video":
        raise InvalidParameter("MediaType", "Allowed value: video.")
    details, missing, forbidden = ctx.rt.uploads.details(ctx.account_id, ids)
    return {"UploadDetails": details, "NonExistMediaIds": missing, "ForbiddenMediaIds": forbidden}


@action("DeleteMultipartUpload")
def delete_multipart_upload(ctx: Ctx) -> dict[str, Any]:
    """Drop the unfinished multipart uploads (and their stored parts) of a video."""
    media_id = ctx.p.str("MediaId", required=True)
    if ctx.p.str("MediaType", required=True) != "video":
        raise InvalidParameter("MediaType", "Allowed value: video.")
    ctx.rt.uploads.abort_all(ctx.account_id, media_id)
    return {}


@action("UploadMediaByURL")
def upload_media_by_url(ctx: Ctx) -> dict[str, Any]:
    """Pull up to 20 files from http(s) URLs, one URLUpload job each (plain array UploadJobs)."""
    urls = split_urls(ctx.p.str("UploadURLs", required=True), 20)
    if not urls:
        raise MissingParameter("UploadURLs")
    metas: list[dict[str, Any]] = []
    raw = ctx.p.str("UploadMetadatas")
    if raw:
        try:
            metas = loads(raw)
        except ValueError:
            raise InvalidParameter("UploadMetadatas", "It must be a JSON array.") from None
        if not isinstance(metas, list) or not all(isinstance(x, dict) for x in metas):
            raise InvalidParameter("UploadMetadatas", "It must be a JSON array of objects.")
    c = _common(ctx)
    jobs = ctx.rt.url_uploads.submit(ctx.account_id, urls, metas, ctx.p.str("TemplateGroupId", max_bytes=64),
                                     c["app_id"], c["user_data"])
    return {"UploadJobs": jobs}


def _job_or_urls(ctx: Ctx) -> tuple[list[str], list[str]]:
    ids = ctx.p.ids("JobIds", max_items=10)
    urls = [] if ids else split_urls(ctx.p.str("UploadURLs"), 10)
    if not ids and not urls:
        raise MissingParameter("JobIds")
    return ids, urls


@action("GetURLUploadInfos")  # grows with the account's data: on the thread pool
def get_url_upload_infos(ctx: Ctx) -> dict[str, Any]:
    """State of URL upload jobs by JobIds (wins) or UploadURLs (plain arrays)."""
    ids, urls = _job_or_urls(ctx)
    infos, missing = ctx.rt.url_uploads.infos(ctx.account_id, ids, urls)
    return {"URLUploadInfoList": infos, "NonExists": missing}


@action("CancelUrlUploadJobs")
def cancel_url_upload_jobs(ctx: Ctx) -> dict[str, Any]:
    """Cancel URL upload jobs that have not started (plain arrays CanceledJobs, NonExists)."""
    ids, urls = _job_or_urls(ctx)
    canceled, missing = ctx.rt.url_uploads.cancel(ctx.account_id, ids, urls)
    return {"CanceledJobs": canceled, "NonExists": missing}
