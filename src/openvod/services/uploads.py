"""Uploads: CreateUploadVideo / RefreshUploadVideo / CreateUploadImage / CreateUploadAttachedMedia, the
temporary credentials they hand out, and what happens when the object endpoint commits an object
(status Uploading -> UploadSucc -> Normal after the probe, events FileUploadComplete and
VideoAnalysisComplete through the callback outbox). See docs/upload.md.
"""

from __future__ import annotations

import base64
import logging
import re
import secrets
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from openvod.domain import userdata
from openvod.errors import InvalidParameter, VideoNotFound, VodError
from openvod.media.probe import ProbeError, probe
from openvod.oss.store import PartStore
from openvod.services.callbacks import DEFAULT_APP, event_enabled
from openvod.store.tables import (
    media,
    media_refs,
    multipart_parts,
    multipart_uploads,
    oss_objects,
    outbox,
    upload_credentials,
    uploads,
)
from openvod.util import dumps, new_id, now, utc_iso
from openvod.config import UploadSettings
from openvod.services.callbacks import CallbackService
from openvod.storage.blobs import LocalBlobStore
from openvod.storage.urls import UrlSigner

log = logging.getLogger(__name__)

VIDEO_EXTS = frozenset(
    "mp4 ts 3gp mpg mpeg mpe dat vob asf avi wmv asx mkv mov qt m4v flv f4v webm rm rmvb m2ts mts mxf dv "
    "m3u8 mp3 wav wma m4a aac ac3 amr ape flac mka ogg opus caf aiff".split()
)
AUDIO_EXTS = frozenset("mp3 wav wma m4a aac ac3 amr ape flac mka ogg opus caf aiff".split())
IMAGE_EXTS = ("png", "jpg", "jpeg", "gif", "heic", "webp")
ATTACHED_EXTS = {
    "watermark": ("png", "gif", "apng", "mov"),
    "subtitle": ("srt", "ase", "stl", "ttml", "vtt", "ass"),
    "material": ("jpg", "gif", "png", "mp4", "mat", "zip", "apk"),
}
_REFERENCE_ID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class ReferenceIdExists(VodError):
    code = "InvalidReferenceId.Duplicate"
    http_status = 400
    message = "The ReferenceId already exists in this account."


class IllegalStatus(VodError):
    code = "Forbidden.IllegalStatus"
    http_status = 403

    def __init__(self, status: str):
        super().__init__(f"Status of the video is illegal. Current Status is {status}.")


class InvalidFileNameExtension(VodError):
    code = "InvalidFileName.Extension"
    http_status = 400
    message = "The specified FileName's extension is illegal."


class ImageNotFound(VodError):
    code = "InvalidImage.NotFound"
    http_status = 404
    message = "The image does not exist."


@dataclass
class Credential:
    """A row of upload_credentials."""

    access_key_id: str
    secret: str
    token: str
    account_id: str
    media_id: str
    bucket: str
    object_key: str
    object_prefix: str
    expires_at: float

    def covers(self, bucket: str, key: str) -> bool:
        """True if this credential may touch ``bucket/key`` (its one object, or under its prefix)."""
        if bucket != self.bucket or not key:
            return False
        return key == self.object_key or bool(self.object_prefix and key.startswith(self.object_prefix))


def b64json(obj: dict[str, Any]) -> str:
    return base64.b64encode(dumps(obj).encode()).decode()


def _ext(name: str) -> str:
    suffix = PurePosixPath(name.replace("\\", "/").split("?")[0]).suffix
    return suffix[1:].lower() if suffix else ""


def check_reference_id(ref: str) -> str:
    if ref and not _REFERENCE_ID.match(ref):
        raise InvalidParameter("ReferenceId", "It must be 6-64 characters of A-Z, a-z, 0-9, '-' and '_'.")
    return ref


def check_tags(tags: str, name: str = "Tags") -> str:
    tag_list = [t.strip() for t in tags.split(",") if t.strip()]
    if len(tag_list) > 16 or any(len(t.encode()) > 32 for t in tag_list):
        raise InvalidParameter(name, "At most 16 tags of at most 32 bytes each.")
    return ",".join(tag_list)


class UploadService:
    """Upload targets, their credentials and the commit of uploaded objects."""

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

    def row_by_media(self, media_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(uploads).where(uploads.c.media_id == media_id)).mappings().first()
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

    # ------------------------------------------------------------------ commit (called by the object endpoint)
    def committed(self, cred: Credential, key: str, blob_key: str, size: int, ip: str) -> None:
        """An object was committed at ``key`` (its bytes are at ``blob_key``): move the upload on."""
        up = self.row_by_media(cred.media_id)
        if up is None or key != up["object_key"]:
            return  # an m3u8 slice: stored, nothing else to do
        t = now()
        kind = up["kind"]
        if kind == "video":
            self._video_committed(up, size, ip, t)
        else:
            self._item_committed(up, blob_key, size, ip, t)

    def _video_committed(self, up: dict[str, Any], size: int, ip: str, t: float) -> None:
        mid, acc = up["media_id"], up["account_id"]
        file_url = f"oss://{up['bucket']}/{up['object_key']}"
        with self.engine.begin() as conn:
            conn.execute(update(media).where(media.c.id == mid).values(status="UploadSucc", size=size, modified_at=t))
            conn.execute(update(uploads).where(uploads.c.media_id == mid).values(
                status="UploadSucc", size=size, upload_size=size, upload_ip=ip[:64], completed_at=t, modified_at=t))
            self.enqueue_event(conn, acc, up["app_id"], up["user_data"], "FileUploadComplete", {
                "VideoId": mid, "Status": "success", "Size": size, "FileUrl": file_url})
        path = self.blobs.path(up["blob_key"])
        try:
            info = probe(path)
        except ProbeError as exc:
            audio = probe_audio(path)
            if audio is not None:  # an audio-only upload: playable as audio (MediaType audio)
                self._audio_committed(up, audio)
                return
            log.info("uploaded file is not playable media", extra={"media_id": mid, "reason": str(exc)})
            with self.engine.begin() as conn:
                conn.execute(update(media).where(media.c.id == mid).values(status="UploadFail", modified_at=now()))
                self.enqueue_event(conn, acc, up["app_id"], up["user_data"], "VideoAnalysisComplete", {
                    "VideoId": mid, "Status": "fail", "ErrorCode": "InvalidVideo.Damaged",
                    "ErrorMessage": f"The uploaded file cannot be read as media: {exc}", "Size": size})
            return
        with self.engine.begin() as conn:
            conn.execute(update(media).where(media.c.id == mid).values(
                status="Normal", size=info.size, md5=info.md5, duration=info.duration, width=info.width,
                height=info.height, fps=info.fps, bitrate=info.bitrate_kbps,
                probe=info.probe_json(),
                modified_at=now(),
            ))
            conn.execute(update(uploads).where(uploads.c.media_id == mid).values(status="Normal"))
            self.enqueue_event(conn, acc, up["app_id"], up["user_data"], "VideoAnalysisComplete", {
                "VideoId": mid, "Status": "success", "Size": info.size, "Duration": f"{info.duration:.3f}",
                "Width": str(info.width), "Height": str(info.height), "Bitrate": f"{info.bitrate_kbps:.3f}",
                "Fps": f"{info.fps:g}"})

    def _audio_committed(self, up: dict[str, Any], a: dict[str, Any]) -> None:
        mid = up["media_id"]
        with self.engine.begin() as conn:
            conn.execute(update(media).where(media.c.id == mid).values(
                status="Normal", size=a["size"], md5=a["md5"], duration=a["duration"], bitrate=a["bitrate"],
                probe=dumps({"Format": a["format"], "Video": [], "Audio": a["streams"]}), modified_at=now()))
            conn.execute(update(uploads).where(uploads.c.media_id == mid).values(status="Normal"))
            self.enqueue_event(conn, up["account_id"], up["app_id"], up["user_data"], "VideoAnalysisComplete", {
                "VideoId": mid, "Status": "success", "Size": a["size"], "Duration": f"{a['duration']:.3f}",
                "Bitrate": f"{a['bitrate']:.3f}"})

    def _item_committed(self, up: dict[str, Any], blob_key: str, size: int, ip: str, t: float) -> None:
        width = height = 0
        if up["kind"] == "image":
            try:
                from PIL import Image

                with Image.open(self.blobs.path(blob_key)) as im:
                    width, height = im.size
            except Exception:  # not an image Pillow reads (heic): size unknown, still stored
                width = height = 0
        event = "ImageUploadComplete" if up["kind"] == "image" else "AttachedMediaUploadComplete"
        id_field = "ImageId" if up["kind"] == "image" else "MediaId"
        with self.engine.begin() as conn:
            conn.execute(update(uploads).where(uploads.c.media_id == up["media_id"]).values(
                status="Normal", size=size, upload_size=size, width=width, height=height, upload_ip=ip[:64],
                completed_at=t, modified_at=t))
            self.enqueue_event(conn, up["account_id"], up["app_id"], up["user_data"], event, {
                id_field: up["media_id"], "Status": "success", "Size": size,
                "FileURL": f"oss://{up['bucket']}/{up['object_key']}"})

    def enqueue_event(self, conn: Connection, account_id: str, app_id: str, user_data: str, event: str,
                      fields: dict[str, Any]) -> bool:
        """Put a media event into the callback outbox (inside the caller's transaction)."""
        setting = self.callbacks.get(account_id, app_id or DEFAULT_APP, conn)
        if setting["CallbackURL"] == "" and (app_id or DEFAULT_APP) != DEFAULT_APP:
            setting = self.callbacks.get(account_id, DEFAULT_APP, conn)
        try:
            url = userdata.callback_url(user_data) if user_data else None
        except VodError:
            url = None
        if url is None:
            if not (setting["CallbackURL"] and event_enabled(setting["EventTypeList"], event)):
                return False
            url = setting["CallbackURL"]
        t = now()
        body: dict[str, Any] = {"EventTime": utc_iso(t), "EventType": event, **fields}
        try:
            ext = userdata.extend(user_data) if user_data else None
        except VodError:
            ext = None
        if ext is not None:
            body["Extend"] = ext
        conn.execute(insert(outbox).values(
            account_id=account_id, job_id=new_id(), event_type=event, url=url, body=dumps(body),
            auth_key=setting["AuthKey"] if setting["AuthSwitch"] == "on" else "", status="pending", attempts=0,
            next_attempt_at=t, created_at=t,
        ))
        return True


def probe_audio(path: Path) -> dict[str, Any] | None:
    """Describe an audio-only file (the media probe requires video); None if it has no decodable audio."""
    import hashlib

    import av

    try:
        with av.open(str(path), metadata_errors="ignore") as c:
            if list(c.streams.video) or not list(c.streams.audio):
                return None
            a = c.streams.audio[0]
            got = any(True for _ in c.decode(audio=0))
            if not got:
                return None
            duration = c.duration / 1_000_000 if c.duration else float((a.duration or 0) * (a.time_base or 0))
            size = path.stat().st_size
            streams = [{"Index": str(a.index), "CodecName": a.codec_context.name or "",
                        "SampleRate": str(a.codec_context.sample_rate or ""),
                        "Channels": str(a.codec_context.channels or ""), "Duration": f"{duration:.3f}"}]
            fmt = c.format.name or ""
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError):
        return None
    h = hashlib.md5()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return {"size": size, "md5": h.hexdigest(), "duration": duration, "format": fmt, "streams": streams,
            "bitrate": (size * 8 / duration / 1000) if duration else 0.0}
