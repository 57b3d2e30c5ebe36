"""Media: register source files, describe them, delete them with everything derived from them."""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from openvod.errors import InvalidParameter, VideoNotFound
from openvod.media.fetch import FetchError, MediaGuard, fetched
from openvod.media.probe import ProbeError, probe
from openvod.net import UnsafeTarget
from openvod.store.tables import ai_images, jobs, media
from openvod.urlsyntax import BadUrl, is_http_like, parse_http_url
from openvod.util import new_id, now, utc_iso

if TYPE_CHECKING:
    from openvod.runtime import Runtime

log = logging.getLogger(__name__)

NO_TRANSCODE = "VOD_NO_TRANSCODE"
INTERNAL_COVER_PREFIX = "blob:"


@dataclass
class Registered:
    """One RegisteredMediaList entry."""

    media_id: str
    file_url: str
    new_register: bool


@dataclass
class Failure:
    """One FailedFileURLReasons entry: why a FileURL was not registered."""

    file_url: str
    code: str
    message: str

    def wire(self) -> dict[str, str]:
        return {"FileURL": self.file_url, "Code": self.code, "Message": self.message}


# Codes of FailedFileURLReasons (openvod's; the cloud only lists FailedFileURLs).
FAILURE_CODES = {
    "InvalidFileURL.NotFound": "no such file (a relative path is resolved against the server's working directory)",
    "InvalidFileURL.Forbidden": "outside media.allowed_roots, or an http(s) URL on a private/loopback address",
    "InvalidFileURL.Unsupported": "not a path, file:// or http(s) URL, or malformed",
    "InvalidFileURL.DownloadFailed": "the http(s) download failed, answered an error or was too large",
    "InvalidFileURL.NotAFile": "the path is not a regular file",
    "InvalidVideo.Damaged": "the file is not a readable video",
}


def failure_of(file_url: str, exc: Exception) -> Failure:
    """The code and message for a FetchError / ProbeError."""
    msg = str(exc)
    if isinstance(exc, ProbeError):
        code = "InvalidVideo.Damaged"
    elif isinstance(exc.__cause__, UnsafeTarget):
        code = "InvalidFileURL.Forbidden"
    elif "outside the allowed media roots" in msg:
        code = "InvalidFileURL.Forbidden"
        msg += " (allow another folder with media.allowed_roots / OPENVOD_MEDIA__ALLOWED_ROOTS)"
    elif msg.startswith("file not found") or "must name a local file" in msg:
        code = "InvalidFileURL.NotFound"
    elif "not a regular file" in msg:
        code = "InvalidFileURL.NotAFile"
    elif "scheme" in msg or "malformed" in msg:
        code = "InvalidFileURL.Unsupported"
    else:
        code = "InvalidFileURL.DownloadFailed"
    return Failure(file_url, code, msg)


def canonical_file_url(file_url: str) -> str:
    """The key that identifies a source file: for a path or file:// URL the resolved real path
    (relative paths against the server's working directory, ``~`` expanded, symlinks followed), so
    ``/x/a.mp4``, ``file:///x/a.mp4`` and ``a.mp4`` run in /x are one file; an http(s) URL as given."""
    try:
        parts = urlsplit(file_url)
    except ValueError:
        return file_url
    if parts.scheme.lower() == "file" and parts.netloc in ("", "localhost"):
        raw = unquote(parts.path)
    elif parts.scheme == "":
        raw = file_url
    else:
        return file_url
    try:
        p = Path(raw).expanduser()
        return str((p if p.is_absolute() else Path.cwd() / p).resolve())
    except (OSError, RuntimeError, ValueError):
        return file_url


def _utf8_len(s: str) -> int:
    return len(s.encode())


INT64_MAX = 2**63 - 1
_INT_TEXT = re.compile(r"^-?[0-9]{1,19}$")
_IMAGE_ID = re.compile(r"^[0-9a-f]{32}$")


def _cate_id(value: Any, index: int) -> int | None:
    """CateId: an integer (number or decimal string) that fits a signed 64-bit column; None when absent."""
    if value is None or value == "":
        return None
    n: int | None = None
    if isinstance(value, bool):
        n = None
    elif isinstance(value, int):
        n = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        n = int(value)
    elif isinstance(value, str) and _INT_TEXT.match(value.strip()):
        n = int(value.strip())
    if n is None:
        raise InvalidParameter("RegisterMetadatas", f"Entry {index}: CateId must be an integer.")
    if not -INT64_MAX - 1 <= n <= INT64_MAX:
        raise InvalidParameter("RegisterMetadatas", f"Entry {index}: CateId must fit in a signed 64-bit integer.")
    return n


def validate_metadata(entry: Any, index: int) -> dict[str, Any]:
    """Check one RegisterMetadatas entry; raise InvalidParameter naming the field."""
    name = "RegisterMetadatas"
    if not isinstance(entry, dict):
        raise InvalidParameter(name, f"Entry {index} must be an object.")
    url = entry.get("FileURL")
    title = entry.get("Title")
    if not isinstance(url, str) or not url.strip():
        raise InvalidParameter(name, f"Entry {index}: FileURL is required.")
    if _utf8_len(url) > 1024:
        raise InvalidParameter(name, f"Entry {index}: FileURL exceeds 1024 bytes.")
    if not isinstance(title, str) or not title.strip():
        raise InvalidParameter(name, f"Entry {index}: Title is required.")
    if _utf8_len(title) > 128:
        raise InvalidParameter(name, f"Entry {index}: Title exceeds 128 bytes.")
    desc = entry.get("Description", "") or ""
    if not isinstance(desc, str) or _utf8_len(desc) > 1024:
        raise InvalidParameter(name, f"Entry {index}: Description must be a string of at most 1024 bytes.")
    tags = entry.get("Tags", "") or ""
    if not isinstance(tags, str):
        raise InvalidParameter(name, f"Entry {index}: Tags must be a comma-separated string.")
    tag_list = [t.strip() for t in tags.split(",") if t.strip()]
    if len(tag_list) > 16 or any(_utf8_len(t) > 32 for t in tag_list):
        raise InvalidParameter(name, f"Entry {index}: at most 16 tags of at most 32 bytes each.")
    cover = entry.get("CoverURL", "") or ""
    if not isinstance(cover, str) or _utf8_len(cover) > 1024:
        raise InvalidParameter(name, f"Entry {index}: CoverURL must be at most 1024 bytes.")
    if cover and not _IMAGE_ID.match(cover):
        # An http(s) URL or an AI image id of the same account (checked at registration); never an
        # internal "blob:" key or a path, which would make openvod sign another account's file.
        try:
            parse_http_url(cover, max_bytes=1024)
        except BadUrl as exc:
            raise InvalidParameter(name, f"Entry {index}: CoverURL must be an http(s) URL: {exc}.") from None
    url = url.strip()
    if is_http_like(url):
        try:
            parse_http_url(url, max_bytes=1024)
        except BadUrl as exc:
            raise InvalidParameter(name, f"Entry {index}: FileURL is not a valid URL: {exc}.") from None
    cate = _cate_id(entry.get("CateId"), index)
    return {
        "file_url": url,
        "title": title,
        "description": desc,
        "tags": ",".join(tag_list),
        "cover_url": cover,
        "cate_id": cate,
    }


class MediaService:
    """RegisterMedia, GetVideoInfo(s), DeleteVideo, GetMezzanineInfo."""

    def __init__(self, rt: Runtime):
        self.rt = rt

    # ------------------------------------------------------------------ register
    def register(
        self, account_id: str, entries: list[dict[str, Any]], template_group_id: str = "", user_data: str = ""
    ) -> tuple[list[Registered], list[str]]:
        done, failures = self.register_detailed(account_id, entries, template_group_id, user_data)
        return done, [f.file_url for f in failures]

    def register_detailed(
        self, account_id: str, entries: list[dict[str, Any]], template_group_id: str = "", user_data: str = "",
        request_id: str = "",
    ) -> tuple[list[Registered], list[Failure]]:
        """Register each entry; the ones that fail come back with a code and a reason."""
        done: list[Registered] = []
        failed: list[Failure] = []
        # Resolve every CoverURL first, so a bad one refuses the request before anything is registered.
        entries = [{**e, "cover_url": self._cover_value(account_id, e["cover_url"]) if e["cover_url"] else ""}
                   for e in entries]
        for e in entries:
            try:
                done.append(self._register_one(account_id, e, template_group_id, user_data))
            except (FetchError, ProbeError) as exc:
                f = failure_of(e["file_url"], exc)
                log.info("register failed", extra={"request_id": request_id, "action": "RegisterMedia",
                                                   "file_url": f.file_url, "code": f.code, "reason": f.message})
                failed.append(f)
        return done, failed

    def _existing(self, account_id: str, file_url: str) -> str | None:
        with self.rt.engine.connect() as conn:
            row = conn.execute(
                select(media.c.id).where(media.c.account_id == account_id, media.c.file_url == file_url)
            ).first()
        return str(row.id) if row else None

    def _register_one(self, account_id: str, e: dict[str, Any], template_group_id: str, user_data: str) -> Registered:
        url = e["file_url"]
        key = canonical_file_url(url)
        existing = self._existing(account_id, key)
        if existing:
            return Registered(existing, url, False)
        s = self.rt.settings
        media_id = new_id()
        with fetched(
            url,
            s.media_roots(),
            s.data_dir / "tmp",
            allow_private=s.media.allow_private_urls,
            max_bytes=s.media.max_download_bytes,
            timeout_s=s.media.download_timeout_s,
            guard=MediaGuard.for_data_dir(s.data_dir, s.blob_dir, s.incoming_dir),
        ) as path:
            info = probe(path, max_pixels=s.media.max_pixels, concurrency=s.media.max_concurrent_probes)
            suffix = (Path(path.name).suffix or Path(url.split("?")[0]).suffix or ".mp4").lower()[:8]
            file_name = Path(url.split("?")[0]).name or f"source{suffix}"
            blob_key = f"media/{account_id}/{media_id}/source{suffix if suffix.isascii() else '.bin'}"
            self.rt.blobs.put_file(blob_key, path)
        ts = now()
        row = {
            "id": media_id,
            "account_id": account_id,
            "file_url": key,
            "title": e["title"],
            "description": e["description"],
            "tags": e["tags"],
            "cover_url": e["cover_url"],
            "cate_id": e["cate_id"],
            "status": "Normal" if template_group_id == NO_TRANSCODE else "UploadSucc",
            "blob_key": blob_key,
            "file_name": file_name,
            "size": info.size,
            "md5": info.md5,
            "duration": info.duration,
            "width": info.width,
            "height": info.height,
            "fps": info.fps,
            "bitrate": info.bitrate_kbps,
            "probe": json.dumps(
                {"Format": info.format_name, "Video": info.video_streams, "Audio": info.audio_streams}
            ),
            "template_group_id": template_group_id,
            "user_data": user_data,
            "created_at": ts,
            "modified_at": ts,
        }
        try:
            with self.rt.engine.begin() as conn:
                conn.execute(media.insert().values(**row))
        except IntegrityError:
            # Registered concurrently by another request: keep theirs, drop our copy.
            self.rt.blobs.delete(blob_key)
            existing = self._existing(account_id, key)
            if existing:
                return Registered(existing, url, False)
            raise
        except BaseException:
            self.rt.blobs.delete(blob_key)
            raise
        return Registered(media_id, url, True)

    # ------------------------------------------------------------------ read
    def get_row(self, account_id: str, media_id: str) -> dict[str, Any]:
        """The media row of this account, or InvalidVideo.NotFound (foreign ids look nonexistent)."""
        with self.rt.engine.connect() as conn:
            row = conn.execute(
                select(media).where(media.c.id == media_id, media.c.account_id == account_id)
            ).mappings().first()
        if row is None:
            raise VideoNotFound()
        return dict(row)

    def find_rows(self, account_id: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        with self.rt.engine.connect() as conn:
            rows = conn.execute(
                select(media).where(media.c.account_id == account_id, media.c.id.in_(ids))
            ).mappings().all()
        return {r["id"]: dict(r) for r in rows}

    def local_path(self, row: dict[str, Any]) -> Path:
        return self.rt.blobs.path(row["blob_key"])

    def cover_url(self, row: dict[str, Any], base_url: str) -> str:
        cover = row["cover_url"] or ""
        if cover.startswith(INTERNAL_COVER_PREFIX):
            key = cover[len(INTERNAL_COVER_PREFIX) :]
            # Only this account's AI images are ever signed as a cover (rows written before CoverURL
            # was validated may hold any key).
            if not key.startswith(f"aiimage/{row['account_id']}/") or "/../" in f"/{key}/":
                return ""
            return self.rt.urls.sign(base_url, key) if self.rt.blobs.exists(key) else ""
        if not cover.lower().startswith(("http://", "https://")):
            return ""
        return cover

    def _cover_value(self, account_id: str, cover: str) -> str:
        """What the media row stores for a client's CoverURL: the URL, or the blob of an AI image id."""
        if not _IMAGE_ID.match(cover):
            return cover
        with self.rt.engine.connect() as conn:
            row = conn.execute(
                select(ai_images.c.blob_key).where(ai_images.c.id == cover, ai_images.c.account_id == account_id)
            ).first()
        if row is None:
            raise InvalidParameter("RegisterMetadatas", "CoverURL names no AI image of this account.")
        return INTERNAL_COVER_PREFIX + str(row.blob_key)

    def video_fields(self, row: dict[str, Any], base_url: str) -> dict[str, Any]:
        """The Video object of GetVideoInfo (Snapshots added by the caller in its list style)."""
        return {
            "VideoId": row["id"],
            "Title": row["title"],
            "Description": row["description"],
            "Tags": row["tags"],
            "Status": row["status"],
            "Duration": float(row["duration"]),
            "Size": int(row["size"]),
            "CoverURL": self.cover_url(row, base_url),
            "CreationTime": utc_iso(row["created_at"]),
            "ModificationTime": utc_iso(row["modified_at"]),
            **({"CateId": int(row["cate_id"])} if row["cate_id"] is not None else {}),
            "TemplateGroupId": row["template_group_id"],
            "StorageLocation": "local",
            "RegionId": "local",
            "AppId": "app-1000000",
            "AuditStatus": "Normal",
            "StorageClass": "Standard",
            "DownloadSwitch": "on",
            "UserData": row["user_data"],
        }

    def mezzanine(self, row: dict[str, Any], base_url: str, auth_timeout: int, with_streams: set[str]) -> dict[str, Any]:
        probe_info = json.loads(row["probe"] or "{}")
        out: dict[str, Any] = {
            "VideoId": row["id"],
            "FileName": row["file_name"],
            "FileURL": self.rt.urls.sign(base_url, row["blob_key"], ttl_s=auth_timeout),
            "Size": int(row["size"]),
            "Duration": f"{row['duration']:.4f}",
            "Bitrate": f"{row['bitrate']:.3f}",
            "Fps": f"{row['fps']:g}",
            "Width": int(row["width"]),
            "Height": int(row["height"]),
            "Status": "Normal",
            "CreationTime": utc_iso(row["created_at"]),
            "OutputType": "oss",
            "PreprocessStatus": "UnPreprocess",
            "StorageClass": "Standard",
            "FileMD5": row["md5"],
        }
        if "video" in with_streams:
            out["VideoStreamList"] = probe_info.get("Video", [])
        if "audio" in with_streams:
            out["AudioStreamList"] = probe_info.get("Audio", [])
        return out

    def set_internal_cover(self, conn: Any, account_id: str, media_id: str, blob_key: str) -> None:
        """Point the video's CoverURL at a blob (inside the caller's transaction)."""
        conn.execute(
            media.update()
            .where(media.c.id == media_id, media.c.account_id == account_id)
            .values(cover_url=INTERNAL_COVER_PREFIX + blob_key, modified_at=now())
        )

    # ------------------------------------------------------------------ delete
    def delete(self, account_id: str, ids: list[str]) -> list[str]:
        """Delete videos with their blobs, jobs, images and analyzer data; returns ids not found."""
        found = self.find_rows(account_id, ids)
        missing = [i for i in ids if i not in found]
        for media_id in found:
            # The video's upload rows, credentials, objects and unfinished parts go with it (so its
            # upload credential stops working), then its fingerprints, then what plug-ins keep.
            self.rt.uploads.forget(account_id, media_id)
            self.rt.fingerprints.delete_video(account_id, media_id, None)
            for handler in self.rt.analyzers.handlers():
                handler.on_media_deleted(account_id, media_id)
            with self.rt.engine.begin() as conn:
                conn.execute(delete(ai_images).where(ai_images.c.video_id == media_id, ai_images.c.account_id == account_id))
                conn.execute(delete(jobs).where(jobs.c.media_id == media_id, jobs.c.account_id == account_id))
                conn.execute(delete(media).where(media.c.id == media_id, media.c.account_id == account_id))
            # Blobs go after the rows: a crash in between leaves orphan files, never rows pointing nowhere.
            self.rt.blobs.delete_prefix(f"media/{account_id}/{media_id}")
            self.rt.blobs.delete_prefix(f"aiimage/{account_id}/{media_id}")
            self.rt.blobs.delete_prefix(f"derived/{account_id}/{media_id}")
        return missing
