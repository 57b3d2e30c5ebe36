"""Uploads: CreateUploadVideo / RefreshUploadVideo / CreateUploadImage / CreateUploadAttachedMedia, the
temporary credentials they hand out, and what happens when the object endpoint commits an object
(status Uploading -> UploadSucc -> Normal after the probe, events FileUploadComplete and
VideoAnalysisComplete through the callback outbox). See docs/upload.md.
"""

from __future__ import annotations

import secrets
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from openvod.config import UploadSettings
from openvod.domain import userdata
from openvod.errors import VideoNotFound
from openvod.oss.store import PartStore
from openvod.services.callbacks import CallbackService
from openvod.services.upload_commit import UploadCommit, probe_audio
from openvod.services.upload_rules import (
    _SAFE_NAME,
    ATTACHED_EXTS,
    AUDIO_EXTS,
    IMAGE_EXTS,
    VIDEO_EXTS,
    Credential,
    IllegalStatus,
    ImageNotFound,
    InvalidFileNameExtension,
    ReferenceIdExists,
    _ext,
    b64json,
    check_reference_id,
    check_tags,
)
from openvod.storage.blobs import LocalBlobStore
from openvod.storage.urls import UrlSigner
from openvod.store.tables import (
    media,
    media_refs,
    multipart_parts,
    multipart_uploads,
    oss_objects,
    upload_credentials,
    uploads,
)
from openvod.util import new_id, now, utc_iso

__all__ = ["ATTACHED_EXTS", "AUDIO_EXTS", "IMAGE_EXTS", "VIDEO_EXTS", "Credential", "IllegalStatus", "ImageNotFound",
           "InvalidFileNameExtension", "ReferenceIdExists", "UploadService", "b64json", "check_reference_id",
           "check_tags", "probe_audio"]


class UploadService(UploadCommit):
    """Upload targets, their credentials and the commit of uploaded objects (:class:`UploadCommit`)."""

    def __init__(self, engine: Engine, settings: UploadSettings, data_dir: Path, blobs: LocalBlobStore, urls: UrlSigner,
                 callbacks: CallbackService):
        self.engine = engine
        self.s = settings
        self.blobs = blobs
        self.urls = urls
        self.callbacks = callbacks
        self.parts = PartStore(data_dir / "oss-parts")

    # ------------------------------------------------------------------ addresses and credentials
    def endpoint(self, base_url: str) -> str:
        return (self.s.endpoint or base_url).rstrip("/")

    def _issue(self, conn: Connection, account_id: str, media_id: str, key: str, prefix: str) -> dict[str, str]:
        t = now()
        ak = "STS.NV" + secrets.token_hex(10).upper()
        secret = secrets.token_urlsafe(30)[:40]
        token = "CAIS" + secrets.token_urlsafe(96)
        expires = t + self.s.credential_ttl_s
        conn.execute(
            insert(upload_credentials).values(
                access_key_id=ak, secret=secret, token=token, account_id=account_id, media_id=media_id,
                bucket=self.s.bucket, object_key=key, object_prefix=prefix, expires_at=expires, created_at=t,
            )
        )
        return {
            "SecurityToken": token,
            "AccessKeyId": ak,
            "ExpireUTCTime": utc_iso(expires),
            "AccessKeySecret": secret,
            "Expiration": str(self.s.credential_ttl_s),
            "Region": self.s.region,
        }

    def _address(self, base_url: str, key: str, prefix: str) -> dict[str, str]:
        addr = {"Endpoint": self.endpoint(base_url), "Bucket": self.s.bucket, "FileName": key}
        if prefix:
            addr["ObjectPrefix"] = prefix
        return addr

    def credential(self, access_key_id: str) -> Credential | None:
        with self.engine.connect() as conn:
            r = conn.execute(
                select(upload_credentials).where(upload_credentials.c.access_key_id == access_key_id)
            ).mappings().first()
        if r is None:
            return None
        return Credential(**{k: r[k] for k in Credential.__dataclass_fields__})

    def upload_row(self, bucket: str, key: str) -> dict[str, Any] | None:
        """The upload whose object (or m3u8 prefix) ``key`` belongs to."""
        with self.engine.connect() as conn:
            r = conn.execute(
                select(uploads).where(uploads.c.bucket == bucket, uploads.c.object_key == key)
            ).mappings().first()
        return dict(r) if r else None

    # ------------------------------------------------------------------ CreateUploadVideo / Refresh
    def create_video(self, account_id: str, base_url: str, *, title: str, file_name: str, file_size: int,
                     description: str, cover_url: str, cate_id: int | None, tags: str, template_group_id: str,
                     app_id: str, user_data: str, reference_id: str) -> dict[str, str]:
        ext = _ext(file_name)
        if ext not in VIDEO_EXTS:
            raise InvalidFileNameExtension()
        if user_data:
            userdata.parse(user_data)
        media_id = new_id()
        if ext == "m3u8":
            stem = _SAFE_NAME.sub("_", PurePosixPath(file_name.replace("\\", "/")).name) or "index.m3u8"
            prefix = f"sv/{media_id}/"
            key = prefix + stem
            blob_key = f"media/{account_id}/{media_id}/hls/{stem}"
        else:
            prefix = ""
            key = f"sv/{media_id}/{media_id}.{ext}"
            blob_key = f"media/{account_id}/{media_id}/source.{ext}"
        t = now()
        try:
            with self.engine.begin() as conn:
                if reference_id:
                    conn.execute(insert(media_refs).values(account_id=account_id, reference_id=reference_id,
                                                           media_id=media_id))
                conn.execute(insert(media).values(
                    id=media_id, account_id=account_id, file_url=f"oss://{self.s.bucket}/{key}", title=title,
                    description=description, tags=tags, cover_url=cover_url, cate_id=cate_id, status="Uploading",
                    blob_key=blob_key, file_name=file_name, size=0, md5="", duration=0.0, width=0, height=0,
                    fps=0.0, bitrate=0.0, probe="{}", template_group_id=template_group_id, user_data=user_data,
                    created_at=t, modified_at=t,
                ))
                conn.execute(insert(uploads).values(
                    media_id=media_id, account_id=account_id, kind="video", bucket=self.s.bucket, object_key=key,
                    object_prefix=prefix, blob_key=blob_key, file_name=file_name, file_size=file_size, title=title,
                    description=description, tags=tags, cate_id=cate_id, ext=ext, app_id=app_id,
                    user_data=user_data, status="Uploading", created_at=t, modified_at=t,
                ))
                auth = self._issue(conn, account_id, media_id, key, prefix)
        except IntegrityError:
            if reference_id and self.media_by_reference(account_id, reference_id):
                raise ReferenceIdExists() from None
            raise
        return {"VideoId": media_id, "UploadAddress": b64json(self._address(base_url, key, prefix)),
                "UploadAuth": b64json(auth)}

    def media_by_reference(self, account_id: str, reference_id: str) -> str | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(media_refs.c.media_id).where(
                media_refs.c.account_id == account_id, media_refs.c.reference_id == reference_id)).first()
        return str(r.media_id) if r else None

    def refresh_video(self, account_id: str, base_url: str, video_id: str) -> dict[str, str]:
        """A new credential for the same address (also used to overwrite the source file)."""
        up = self.row_by_media(video_id)
        if up is None or up["account_id"] != account_id or up["kind"] != "video":
            raise VideoNotFound()
        with self.engine.begin() as conn:
            auth = self._issue(conn, account_id, video_id, up["object_key"], up["object_prefix"])
        return {"VideoId": video_id,
                "UploadAddress": b64json(self._address(base_url, up["object_key"], up["object_prefix"])),
                "UploadAuth": b64json(auth)}

    # ------------------------------------------------------------------ images and attached media
    def create_item(self, account_id: str, base_url: str, *, kind: str, sub_type: str, ext: str, file_name: str,
                    file_size: int, title: str, description: str, tags: str, cate_id: int | None, app_id: str,
                    user_data: str) -> dict[str, str]:
        if user_data:
            userdata.parse(user_data)
        item_id = new_id()
        if kind == "image":
            key = f"image/{sub_type}/{item_id}.{ext}"
            blob_key = f"images/{account_id}/{item_id}/image.{ext}"
        else:
            key = f"attached/{sub_type}/{item_id}.{ext}"
            blob_key = f"attached/{account_id}/{item_id}/file.{ext}"
        t = now()
        with self.engine.begin() as conn:
            conn.execute(insert(uploads).values(
                media_id=item_id, account_id=account_id, kind=kind, bucket=self.s.bucket, object_key=key,
                object_prefix="", blob_key=blob_key, file_name=file_name, file_size=file_size, title=title,
                description=description, tags=tags, cate_id=cate_id, sub_type=sub_type, ext=ext, app_id=app_id,
                user_data=user_data, status="Uploading", created_at=t, modified_at=t,
            ))
            auth = self._issue(conn, account_id, item_id, key, "")
        file_url = f"{self.endpoint(base_url)}/{self.s.bucket}/{key}"
        return {"Id": item_id, "URL": self.urls.sign(base_url, blob_key), "FileURL": file_url,
                "UploadAddress": b64json(self._address(base_url, key, "")), "UploadAuth": b64json(auth)}

    # ------------------------------------------------------------------ progress
    def add_progress(self, media_id: str, upload_size: int | None = None, ip: str = "", source: str = "",
                     device: str = "") -> None:
        values: dict[str, Any] = {"modified_at": now()}
        if upload_size is not None:
            values["upload_size"] = upload_size
        if ip:
            values["upload_ip"] = ip[:64]
        if source:
            values["upload_source"] = source[:64]
        if device:
            values["device_model"] = device[:128]
        with self.engine.begin() as conn:
            conn.execute(update(uploads).where(uploads.c.media_id == media_id).values(**values))

    def multipart_progress(self, media_id: str, ip: str) -> None:
        """UploadSize of an unfinished multipart upload: the bytes of its stored parts."""
        with self.engine.connect() as conn:
            open_ids = [r.id for r in conn.execute(select(multipart_uploads.c.id).where(
                multipart_uploads.c.media_id == media_id, multipart_uploads.c.status == "open"))]
            total = 0
            if open_ids:
                total = sum(r.size for r in conn.execute(select(multipart_parts.c.size).where(
                    multipart_parts.c.upload_id.in_(open_ids))))
        self.add_progress(media_id, total, ip=ip)

    def details(self, account_id: str, ids: list[str]) -> tuple[list[dict[str, Any]], list[str], list[str]]:
        with self.engine.connect() as conn:
            rows = {r["media_id"]: dict(r) for r in conn.execute(
                select(uploads).where(uploads.c.media_id.in_(ids), uploads.c.kind == "video")).mappings()}
            mrows = {r["id"]: dict(r) for r in conn.execute(
                select(media.c.id, media.c.status, media.c.title, media.c.account_id)
                .where(media.c.id.in_(ids))).mappings()}
        out: list[dict[str, Any]] = []
        missing: list[str] = []
        forbidden: list[str] = []
        for i in ids:
            up, m = rows.get(i), mrows.get(i)
            if up is None or m is None:  # unknown, or registered rather than uploaded
                missing.append(i)
                continue
            if up["account_id"] != account_id:
                missing.append(i)  # foreign ids look nonexistent
                continue
            size = int(up["file_size"] or up["size"] or 0)
            done = int(up["size"] if up["status"] == "Normal" else up["upload_size"])
            ratio = (done / size) if size else (1.0 if up["completed_at"] else 0.0)
            out.append({
                "MediaId": i,
                "Title": m["title"],
                "FileSize": size,
                "Status": m["status"],
                "UploadStatus": "Normal" if up["completed_at"] else "Uploading",
                "UploadSize": done,
                "UploadRatio": round(min(ratio, 1.0), 4),
                "UploadIP": up["upload_ip"],
                "UploadSource": up["upload_source"] or "OpenAPI",
                "DeviceModel": up["device_model"],
                "CreationTime": utc_iso(up["created_at"]),
                "ModificationTime": utc_iso(up["modified_at"]),
                "CompletionTime": utc_iso(up["completed_at"]),
            })
        return out, missing, forbidden

    def report_progress(self, params: dict[str, str], ip: str) -> None:
        """ReportUploadProgress from the VOD upload SDKs (unsigned): only ever moves the upload counters
        of an existing, unfinished video upload."""
        vid = params.get("VideoId", "")
        up = self.row_by_media(vid) if vid else None
        if up is None or up["kind"] != "video" or up["completed_at"]:
            return
        try:
            part_size = int(params.get("PartSize") or 0)
            parts = int(params.get("DonePartsCount") or 0)
            file_size = int(params.get("FileSize") or 0)
        except ValueError:
            return
        done = min(part_size * parts, file_size) if file_size else part_size * parts
        self.add_progress(vid, max(done, int(up["upload_size"])), ip=ip,
                          source=params.get("Source", "")[:64], device=params.get("DeviceModel", "")[:128])

    # ------------------------------------------------------------------ DeleteMultipartUpload
    def abort_all(self, account_id: str, media_id: str) -> None:
        up = self.row_by_media(media_id)
        if up is None or up["account_id"] != account_id:
            raise VideoNotFound()
        with self.engine.begin() as conn:
            ids = [r.id for r in conn.execute(select(multipart_uploads.c.id).where(
                multipart_uploads.c.media_id == media_id, multipart_uploads.c.status == "open"))]
            if ids:
                conn.execute(update(multipart_uploads).where(multipart_uploads.c.id.in_(ids))
                             .values(status="aborted", completed_at=now()))
                conn.execute(delete(multipart_parts).where(multipart_parts.c.upload_id.in_(ids)))
        for i in ids:
            self.parts.remove(i)

    def forget(self, account_id: str, media_id: str) -> None:
        """Drop everything upload-related of a deleted video (its blobs go with the video's)."""
        with self.engine.begin() as conn:
            if conn.execute(select(uploads.c.media_id).where(uploads.c.media_id == media_id,
                                                             uploads.c.account_id == account_id)).first() is None:
                return
            ids = [r.id for r in conn.execute(select(multipart_uploads.c.id).where(
                multipart_uploads.c.media_id == media_id))]
            if ids:
                conn.execute(delete(multipart_parts).where(multipart_parts.c.upload_id.in_(ids)))
                conn.execute(delete(multipart_uploads).where(multipart_uploads.c.id.in_(ids)))
            conn.execute(delete(oss_objects).where(oss_objects.c.media_id == media_id))
            conn.execute(delete(upload_credentials).where(upload_credentials.c.media_id == media_id))
            conn.execute(delete(media_refs).where(media_refs.c.media_id == media_id))
            conn.execute(delete(uploads).where(uploads.c.media_id == media_id))
        for i in ids:
            self.parts.remove(i)
