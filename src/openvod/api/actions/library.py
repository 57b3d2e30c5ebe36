"""Media library Actions: GetVideoList, SearchMedia, UpdateVideoInfo(s), GetImageInfo(s), ListJobInfo,
DescribeVodAIData (docs/upload.md)."""

from __future__ import annotations

import re
from typing import Any

from openvod.api.rpc import Ctx, action
from openvod.errors import InvalidParameter, VideoNotFound, VodError
from openvod.services.library import ai_data
from openvod.services.search import parse_match
from openvod.services.uploads import ImageNotFound, check_reference_id, check_tags
from openvod.util import loads, parse_utc_iso, utc_iso

_VIDEO_STATUSES = {"Uploading", "UploadFail", "UploadSucc", "Transcoding", "TranscodeFail", "Checking", "Blocked",
                   "Normal", "ProduceFail"}


def _sort(ctx: Ctx) -> bool:
    """SortBy: True for ascending."""
    raw = ctx.p.str("SortBy", default="CreationTime:Desc")
    field, _, direction = raw.partition(":")
    if field != "CreationTime" or direction.lower() not in ("asc", "desc"):
        raise InvalidParameter("SortBy", "Allowed values: CreationTime:Desc, CreationTime:Asc.")
    return direction.lower() == "asc"


def _video(ctx: Ctx, row: dict[str, Any], refs: dict[str, str]) -> dict[str, Any]:
    v = ctx.rt.media.video_fields(row, ctx.base_url)
    return {k: v[k] for k in ("VideoId", "Title", "Tags", "Status", "Size", "Duration", "Description",
                              "CreationTime", "ModificationTime", "CoverURL") if k in v} | {
        **({"CateId": v["CateId"]} if "CateId" in v else {}), "CateName": "", "AppId": v["AppId"],
        "StorageLocation": v["StorageLocation"], "StorageClass": v["StorageClass"],
        "ReferenceId": refs.get(row["id"], ""), "UserData": v["UserData"]}


@action("GetVideoList")  # grows with the account's data: on the thread pool
def get_video_list(ctx: Ctx) -> dict[str, Any]:
    """Videos of the account, filtered, sorted by CreationTime, paged (wrapper VideoList.Video)."""
    statuses = [s.strip() for s in ctx.p.str("Status").split(",") if s.strip()]
    if set(statuses) - _VIDEO_STATUSES:
        raise InvalidParameter("Status", f"Allowed values: {', '.join(sorted(_VIDEO_STATUSES))}.")
    page_no = ctx.p.int("PageNo", default=1, min_value=1, max_value=10**6) or 1
    page_size = ctx.p.int("PageSize", default=10, min_value=1, max_value=100) or 10
    total, rows = ctx.rt.library.video_list(
        ctx.account_id, statuses=statuses, start=ctx.p.str("StartTime"), end=ctx.p.str("EndTime"),
        cate_id=ctx.p.int("CateId", min_value=-(2**63), max_value=2**63 - 1), page_no=page_no, page_size=page_size, ascending=_sort(ctx))
    refs = ctx.rt.library.references([r["id"] for r in rows])
    videos = [{**_video(ctx, r, refs), "Snapshots": {"Snapshot": []}} for r in rows]
    return {"Total": total, "VideoList": {"Video": videos}}


@action("SearchMedia")  # grows with the account's data: on the thread pool
def search_media(ctx: Ctx) -> dict[str, Any]:
    """Search by the Match protocol, with AiData (labels and on-screen text with From/To) on request."""
    search_type = ctx.p.str("SearchType", default="video").lower()
    if search_type not in ("video", "audio", "image", "attached"):
        raise InvalidParameter("SearchType", "Allowed values: video, audio, image, attached.")
    conds = parse_match(ctx.p.str("Match", max_bytes=4096))
    page_no = ctx.p.int("PageNo", default=1, min_value=1, max_value=5000) or 1
    page_size = ctx.p.int("PageSize", default=10, min_value=1, max_value=100) or 10
    scroll = ctx.p.str("ScrollToken", max_bytes=256) or None
    if scroll is not None and search_type not in ("video", "audio"):
        raise InvalidParameter("ScrollToken", "ScrollToken is for video and audio searches.")
    if scroll is None and page_no * page_size > 5000:
        raise InvalidParameter("PageNo", "Paging reaches the first 5000 results; use ScrollToken beyond.")
    fields = {f.strip() for f in ctx.p.str("Fields").split(",") if f.strip()}
    total, rows, next_token = ctx.rt.library.search(
        ctx.account_id, search_type=search_type, conds=conds, ascending=_sort(ctx), page_no=page_no,
        page_size=page_size, scroll=scroll)
    tag_data = ctx.rt.library.tag_data(ctx.account_id, [r["id"] for r in rows]) if "AiData" in fields else {}
    refs = ctx.rt.library.references([r["id"] for r in rows]) if search_type in ("video", "audio") else {}
    out = []
    for r in rows:
        item: dict[str, Any] = {"MediaId": r["id"], "MediaType": search_type, "CreationTime": utc_iso(r["created_at"])}
        if search_type in ("video", "audio"):
            body = {**_video(ctx, r, refs), "MediaSource": "general", "TranscodeMode": "NoTranscode",
                    "PreprocessStatus": "UnPreprocess", "DownloadSwitch": "on", "Snapshots": [],
                    "SpriteSnapshots": []}
            if search_type == "audio":
                body["AudioId"] = body.pop("VideoId")
            item["Video" if search_type == "video" else "Audio"] = body
        elif search_type == "image":
            item["Image"] = {"ImageId": r["id"], "Title": r["title"], "Tags": r["tags"], "Status": r["status"],
                             "URL": ctx.rt.urls.sign(ctx.base_url, r["blob_key"]) if r["status"] == "Normal" else "",
                             **({"CateId": int(r["cate_id"])} if r["cate_id"] is not None else {}),
                             "Description": r["description"], "StorageLocation": "local", "AppId": r["app_id"],
                             "CreationTime": utc_iso(r["created_at"]), "ModificationTime": utc_iso(r["modified_at"])}
        else:
            item["AttachedMedia"] = {"MediaId": r["id"], "Title": r["title"], "Tags": r["tags"],
                                     "Status": r["status"], "BusinessType": r["sub_type"],
                                     "URL": ctx.rt.urls.sign(ctx.base_url, r["blob_key"]) if r["status"] == "Normal"
                                     else "", "Description": r["description"], "StorageLocation": "local",
                                     "AppId": r["app_id"], "Categories": [],
                                     "CreationTime": utc_iso(r["created_at"]),
                                     "ModificationTime": utc_iso(r["modified_at"])}
        if "AiData" in fields and search_type in ("video", "audio"):
            item["AiData"] = ai_data(tag_data.get(r["id"], {}))
        out.append(item)
    return {"Total": total, "ScrollToken": next_token, "MediaList": out}


def _update_fields(get: Any, where: str) -> tuple[dict[str, Any], str | None]:
    """Editable fields from a getter (request params or an UpdateContent entry)."""
    def s(name: str, limit: int) -> str | None:
        v = get(name)
        if v is None or v == "":
            return None
        if not isinstance(v, str | int) or len(str(v).encode()) > limit:
            raise InvalidParameter(where, f"{name} must be a string of at most {limit} bytes.")
        if re.search("[\x00\ud800-\udfff]", str(v)):  # PostgreSQL text cannot hold them (was a 500 there)
            raise InvalidParameter(where, f"{name} must not contain NUL characters or unpaired surrogates.")
        return str(v)

    fields: dict[str, Any] = {"title": s("Title", 128), "description": s("Description", 1024),
                              "cover_url": s("CoverURL", 1024), "user_data": s("UserData", 1024)}
    tags = s("Tags", 1024)
    fields["tags"] = check_tags(tags, where) if tags is not None else None
    cate = get("CateId")
    if cate not in (None, ""):
        try:
            fields["cate_id"] = int(cate)
        except (TypeError, ValueError, OverflowError):
            raise InvalidParameter(where, "CateId must be an integer.") from None
        if not -(2**63) <= fields["cate_id"] < 2**63:  # the column is a signed 64-bit integer (was a 500)
            raise InvalidParameter(where, "CateId must fit in a signed 64-bit integer.")
    ref = s("ReferenceId", 64)
    return fields, (check_reference_id(ref) if ref is not None else None)


@action("UpdateVideoInfo")
def update_video_info(ctx: Ctx) -> dict[str, Any]:
    """Change a video's title, description, tags, cover, category, UserData or ReferenceId."""
    vid = ctx.p.str("VideoId", required=True)
    fields, ref = _update_fields(lambda n: ctx.p.raw.get(n), "UpdateVideoInfo")
    if not ctx.rt.library.update_video(ctx.account_id, vid, fields, ref):
        raise VideoNotFound()
    return {}


@action("UpdateVideoInfos")
def update_video_infos(ctx: Ctx) -> dict[str, Any]:
    """Update up to 20 videos from the UpdateContent JSON array (plain-array results)."""
    raw = ctx.p.str("UpdateContent", required=True)
    try:
        entries = loads(raw)
    except ValueError:
        raise InvalidParameter("UpdateContent", "It must be a JSON array.") from None
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise InvalidParameter("UpdateContent", "It must be a non-empty JSON array of objects.")
    if len(entries) > 20:
        raise VodError("The number of videos exceeds the maximum of 20.", code="CountExceededMax", http_status=400)
    checked = []
    for e in entries:
        vid = e.get("VideoId")
        if not isinstance(vid, str) or not vid:
            raise InvalidParameter("UpdateContent", "Each entry needs a VideoId.")
        checked.append((vid, *_update_fields(e.get, "UpdateContent")))
    missing = [vid for vid, fields, ref in checked if not ctx.rt.library.update_video(ctx.account_id, vid, fields, ref)]
    return {"NonExistVideoIds": missing, "ForbiddenVideoIds": [], "NonExistReferenceIds": []}


def _image_ttl(ctx: Ctx) -> int:
    return ctx.p.int("AuthTimeout", default=3600, min_value=1, max_value=30 * 24 * 3600) or 3600


@action("GetImageInfo", read_only=True)
def get_image_info(ctx: Ctx) -> dict[str, Any]:
    """An uploaded image, AI cover or AI GIF."""
    image_id = ctx.p.str("ImageId", required=True)
    infos = ctx.rt.library.image_infos(ctx.account_id, [image_id], ctx.base_url, _image_ttl(ctx))
    if image_id not in infos:
        raise ImageNotFound()
    return {"ImageInfo": infos[image_id]}


@action("GetImageInfos")  # grows with the account's data: on the thread pool
def get_image_infos(ctx: Ctx) -> dict[str, Any]:
    """Up to 20 images (plain arrays ImageInfo[] and NonExistImageIds[])."""
    ids = ctx.p.ids("ImageIds", required=True, max_items=20)
    infos = ctx.rt.library.image_infos(ctx.account_id, ids, ctx.base_url, _image_ttl(ctx))
    return {"ImageInfo": [infos[i] for i in ids if i in infos], "NonExistImageIds": [i for i in ids if i not in infos]}


@action("ListJobInfo")  # grows with the account's data: on the thread pool
def list_job_info(ctx: Ctx) -> dict[str, Any]:
    """Jobs of one media of the last six months (JobType ai; openvod runs no transcode/snapshot jobs)."""
    job_type = ctx.p.str("JobType", required=True)
    if job_type not in ("transcode", "snapshot", "ai"):
        raise InvalidParameter("JobType", "Allowed values: transcode, snapshot, ai.")
    media_id = ctx.p.str("MediaId", required=True)
    infos = ctx.rt.library.job_infos(ctx.account_id, media_id) if job_type == "ai" else []
    if job_type != "ai":
        ctx.rt.media.get_row(ctx.account_id, media_id)
    return {"JobType": job_type, "MediaId": media_id, "JobInfoList": infos}


@action("DescribeVodAIData")  # grows with the account's data: on the thread pool
def describe_vod_ai_data(ctx: Ctx) -> dict[str, Any]:
    """AI usage (seconds of video analysed) per hour or day, from the job table."""
    start_raw, end_raw = ctx.p.str("StartTime", required=True), ctx.p.str("EndTime", required=True)
    try:
        start, end = parse_utc_iso(start_raw), parse_utc_iso(end_raw)
    except ValueError:
        raise InvalidParameter("StartTime", "StartTime and EndTime are UTC, yyyy-MM-ddTHH:mm:ssZ.") from None
    if end <= start:
        raise InvalidParameter("EndTime", "EndTime must be after StartTime.")
    if end - start > 366 * 86400:
        raise InvalidParameter("EndTime", "The range may span at most 366 days.")
    types = [t.strip() for t in ctx.p.str("AIType").split(",") if t.strip()]
    allowed = {"AIVideoCensor", "AIVideoFPShot", "AIVideoTag", "AIMediaDNA", "AIImage"}
    if set(types) - allowed:
        raise InvalidParameter("AIType", f"Allowed values: {', '.join(sorted(allowed))}.")
    # AIVideoFPShot is the cloud's name for fingerprinting (AIMediaDNA jobs here); AIVideoCensor has no jobs.
    job_types = sorted({"AIMediaDNA" if t == "AIVideoFPShot" else t for t in types})
    interval, items = ctx.rt.library.ai_usage(ctx.account_id, start, end, job_types)
    if "AIVideoFPShot" in types:
        for it in items:
            for d in it["Data"]["DataItem"]:
                if d["Name"] == "AIMediaDNA":
                    d["Name"] = "AIVideoFPShot"
    return {"DataInterval": interval, "AIData": {"AIDataItem": items}}

