"""UploadMediaByURL through the jobs engine: one ``URLUpload`` job per URL, run by the worker pool like any
analysis (lease, retries, a final state with Code and Message). The fetch goes through the same SSRF
guard as RegisterMedia; the file is then committed like an uploaded object (UploadSucc -> probe ->
Normal) with FileUploadComplete / VideoAnalysisComplete, and UploadByURLComplete reports the job.
GetURLUploadInfos and CancelUrlUploadJobs read and cancel those jobs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from openvod.config import Settings
from openvod.domain import userdata
from openvod.domain.contract import JobContext, JobHandler, JobOutput
from openvod.domain.jobs import JobFailed, JobStatus
from openvod.errors import InvalidParameter
from openvod.media.fetch import FetchError, fetched
from openvod.services.uploads import VIDEO_EXTS, UploadService, check_tags
from openvod.storage.blobs import LocalBlobStore
from openvod.store.tables import jobs, media, uploads
from openvod.util import dumps, new_id, now, utc_iso

log = logging.getLogger(__name__)

URL_UPLOAD_TYPE = "URLUpload"
_STATUS = {JobStatus.INIT: "PENDING", JobStatus.PROCESSING: "PROCESSING", JobStatus.SUCCESS: "SUCCESS"}


def _bad_urls(detail: str) -> InvalidParameter:
    return InvalidParameter("UploadURLs", detail, code="InvalidParameter.UploadURLs")


def split_urls(raw: str, max_items: int) -> list[str]:
    """Comma-separated, each URL-encoded (as the SDK doc asks); plain URLs are accepted too."""
    urls = [unquote(u.strip()) for u in raw.split(",") if u.strip()]
    if len(urls) > max_items:
        raise _bad_urls(f"At most {max_items} URLs are allowed.")
    return urls


class URLUploadService:
    """Creates, reports and cancels URL upload jobs."""

    def __init__(self, engine: Engine, settings: Settings, blobs: LocalBlobStore, uploads: UploadService,
                 wake: Callable[..., None]):
        self.engine = engine
        self.settings = settings
        self.blobs = blobs
        self.uploads = uploads
        self.wake = wake

    def submit(self, account_id: str, urls: list[str], metadatas: list[dict[str, Any]], template_group_id: str,
               app_id: str, user_data: str) -> list[dict[str, str]]:
        if user_data:
            userdata.parse(user_data)
        by_url = {str(md.get("SourceURL", "")): md for md in metadatas}
        rows_media, rows_up, rows_job, out = [], [], [], []
        t = now()
        bucket = self.settings.upload.bucket
        for i, url in enumerate(urls):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise _bad_urls(f"{url!r} is not an http(s) URL.")
            md = by_url.get(url, {})
            ext = str(md.get("FileExtension") or PurePosixPath(parts.path).suffix.lstrip(".")).lower()
            if ext not in VIDEO_EXTS:
                raise InvalidParameter("UploadURLs", f"{url!r} has no media file extension; give FileExtension.",
                                       code="InvalidFileName.Extension")
            title = str(md.get("Title") or PurePosixPath(parts.path).name or "untitled")[:128]
            media_id, job_id = new_id(), new_id()
            tags = check_tags(str(md.get("Tags") or ""), "UploadMetadatas")
            cate = md.get("CateId")
            try:
                cate_id = int(cate) if cate not in (None, "") else None
                if cate_id is not None and not -(2**63) <= cate_id < 2**63:
                    raise ValueError(cate)
            except (TypeError, ValueError, OverflowError):  # OverflowError: a JSON 1e400
                raise InvalidParameter("UploadMetadatas", "CateId must be a 64-bit integer.") from None
            blob_key = f"media/{account_id}/{media_id}/source.{ext}"
            common = dict(account_id=account_id, title=title, description=str(md.get("Description") or "")[:1024],
                          tags=tags, cate_id=cate_id, user_data=user_data, created_at=t + i * 1e-6,
                          modified_at=t + i * 1e-6)
            rows_media.append(dict(id=media_id, file_url=url, cover_url=str(md.get("CoverURL") or ""),
                                   status="Uploading", blob_key=blob_key, file_name=PurePosixPath(parts.path).name,
                                   template_group_id=str(md.get("TemplateGroupId") or template_group_id),
                                   size=0, md5="", duration=0.0, width=0, height=0, fps=0.0, bitrate=0.0,
                                   probe="{}", **common))
            rows_up.append(dict(media_id=media_id, kind="video", bucket=bucket, object_key=f"url/{media_id}.{ext}",
                                object_prefix="", blob_key=blob_key, file_name=url[:512], ext=ext,
                                file_size=int(md.get("FileSize") or 0) if str(md.get("FileSize") or "0").isdigit()
                                else 0, app_id=app_id, status="Uploading", upload_source="URL", **common))
            rows_job.append(dict(id=job_id, account_id=account_id, media_id=media_id, type=URL_UPLOAD_TYPE,
                                 status=JobStatus.INIT, config=dumps({"SourceURL": url}), user_data=user_data,
                                 created_at=t + i * 1e-6, attempts=0))
            out.append({"JobId": job_id, "SourceURL": url})
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(media), rows_media)
                conn.execute(insert(uploads), rows_up)
                conn.execute(insert(jobs), rows_job)
        except IntegrityError:  # media (account, file_url) is unique (found by the fuzz: it was a 500)
            raise InvalidParameter("UploadURLs", "A URL is listed twice, or was already uploaded or registered "
                                   "by this account.") from None
        self.wake(*(r["id"] for r in rows_job))
        return out

    def _rows(self, account_id: str, job_ids: list[str], urls: list[str]) -> list[Any]:
        q = select(jobs).where(jobs.c.account_id == account_id, jobs.c.type == URL_UPLOAD_TYPE)
        with self.engine.connect() as conn:
            if job_ids:
                return list(conn.execute(q.where(jobs.c.id.in_(job_ids))).mappings())
            rows = conn.execute(q.order_by(jobs.c.created_at.desc())).mappings()
            return [r for r in rows if json.loads(r["config"]).get("SourceURL") in urls]

    def infos(self, account_id: str, job_ids: list[str], urls: list[str]) -> tuple[list[dict[str, Any]], list[str]]:
        rows = self._rows(account_id, job_ids, urls)
        sizes: dict[str, int] = {}
        if rows:
            with self.engine.connect() as conn:
                sizes = {r.id: int(r.size) for r in conn.execute(
                    select(media.c.id, media.c.size).where(media.c.id.in_([r["media_id"] for r in rows])))}
        out = []
        for r in rows:
            status = _STATUS.get(JobStatus(r["status"]))
            if status is None:
                status = "DOWNLOAD_FAIL" if r["code"] in ("DownloadFailed", "UploadCanceled") else "UPLOAD_FAIL"
            out.append({
                "JobId": r["id"], "UploadURL": json.loads(r["config"]).get("SourceURL", ""),
                "MediaId": r["media_id"], "Status": status,
                "ErrorCode": r["code"] if r["status"] == JobStatus.FAIL else "",
                "ErrorMessage": r["message"] if r["status"] == JobStatus.FAIL else "",
                "FileSize": str(sizes.get(r["media_id"], 0)), "CreationTime": utc_iso(r["created_at"]),
                "CompleteTime": utc_iso(r["completed_at"]), "UserData": r["user_data"],
            })
        found_ids = {r["id"] for r in rows}
        found_urls = {json.loads(r["config"]).get("SourceURL") for r in rows}
        missing = [j for j in job_ids if j not in found_ids] if job_ids else [u for u in urls if u not in found_urls]
        return out, missing

    def cancel(self, account_id: str, job_ids: list[str], urls: list[str]) -> tuple[list[str], list[str]]:
        """Cancel jobs still waiting (PENDING); others are reported as not cancelable (NonExists)."""
        rows = self._rows(account_id, job_ids, urls)
        canceled = []
        t = now()
        for r in rows:
            with self.engine.begin() as conn:
                n = conn.execute(update(jobs).where(jobs.c.id == r["id"], jobs.c.status == JobStatus.INIT).values(
                    status=JobStatus.FAIL, code="UploadCanceled", message="The URL upload was canceled.",
                    completed_at=t)).rowcount
                if n:
                    conn.execute(update(media).where(media.c.id == r["media_id"]).values(status="UploadFail",
                                                                                         modified_at=t))
                    canceled.append(r["id"] if job_ids else json.loads(r["config"])["SourceURL"])
        asked = job_ids or urls
        return canceled, [x for x in asked if x not in canceled]


class URLUploadHandler(JobHandler):
    """Runs a URLUpload job: fetch (SSRF-guarded), commit as the media's source, probe."""

    job_type = URL_UPLOAD_TYPE
    name = "url-fetch"
    version = "1"
    needs_media_file = False  # the runner must not require the source before this job made it

    def __init__(self, service: URLUploadService):
        self.service = service

    def run(self, ctx: JobContext) -> JobOutput:
        rt = self.service
        s = rt.settings
        url = str(ctx.config.get("SourceURL", ""))
        up = rt.uploads.row_by_media(ctx.media_id)
        if up is None:
            raise JobFailed("InvalidVideo.NotFound", "The video of this URL upload was deleted.")
        try:
            with fetched(url, [], s.data_dir / "tmp", allow_private=s.media.allow_private_urls,
                         max_bytes=s.media.max_download_bytes, timeout_s=s.media.download_timeout_s) as path:
                size = rt.blobs.adopt(up["blob_key"], path)
        except FetchError as exc:
            self._report(rt, ctx, up, "fail", "DownloadFailed", str(exc))
            with rt.engine.begin() as conn:
                conn.execute(update(media).where(media.c.id == ctx.media_id).values(status="UploadFail",
                                                                                    modified_at=now()))
            raise JobFailed("DownloadFailed", f"The URL could not be fetched: {exc}") from None
        rt.uploads._video_committed(up, size, "", now())
        self._report(rt, ctx, up, "success", "", "")
        return JobOutput(data={"SourceURL": url, "MediaId": ctx.media_id, "FileSize": str(size)})

    @staticmethod
    def _report(rt: URLUploadService, ctx: JobContext, up: dict[str, Any], status: str, code: str, message: str) -> None:
        with rt.engine.begin() as conn:
            rt.uploads.enqueue_event(conn, ctx.account_id, up["app_id"], up["user_data"], "UploadByURLComplete", {
                "VideoId": ctx.media_id, "JobId": ctx.job_id, "SourceURL": ctx.config.get("SourceURL", ""),
                "Status": status, "ErrorCode": code, "ErrorMessage": message})
