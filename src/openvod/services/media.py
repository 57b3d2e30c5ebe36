"""Media: register source files, describe them, delete them with everything derived from them."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError

from openvod.config import Settings
from openvod.domain.contract import AnalyzerRegistry
from openvod.errors import InvalidParameter, VideoNotFound
from openvod.media.fetch import FetchError, MediaGuard, fetched
from openvod.media.probe import ProbeError, probe
from openvod.services.fingerprints import FingerprintService
from openvod.services.media_input import (
    _IMAGE_ID,
    FAILURE_CODES,
    Failure,
    Registered,
    canonical_file_url,
    failure_of,
    validate_metadata,
)
from openvod.services.uploads import UploadService
from openvod.storage.blobs import LocalBlobStore
from openvod.storage.urls import UrlSigner
from openvod.store.tables import ai_images, jobs, media
from openvod.util import new_id, now, utc_iso

log = logging.getLogger(__name__)

# RegisterMedia's input checks live in services.media_input; these names stay importable from here.
__all__ = ["FAILURE_CODES", "Failure", "MediaService", "Registered", "canonical_file_url", "failure_of",
           "validate_metadata"]

NO_TRANSCODE = "VOD_NO_TRANSCODE"
INTERNAL_COVER_PREFIX = "blob:"


class MediaService:
    """RegisterMedia, GetVideoInfo(s), DeleteVideo, GetMezzanineInfo."""

    def __init__(self, engine: Engine, settings: Settings, blobs: LocalBlobStore, urls: UrlSigner,
                 uploads: UploadService, fingerprints: FingerprintService, analyzers: AnalyzerRegistry):
        self.engine = engine
        self.settings = settings
        self.blobs = blobs
        self.urls = urls
        self.uploads = uploads
        self.fingerprints = fingerprints
        self.analyzers = analyzers

    # ------------------------------------------------------------------ register
    def register(
        self, account_id: str, entries: list[dict[str, Any]], template_group_id: str = "", user_data: str = ""
    ) -> tuple[list[Registered], list[str]]:
        done, failures = self.register_detailed(account_id, entries, template_group_id, user_data)
        return done, [f.file_url for f in failures]

    def register_detailed(
        self, account_id: str, entries: list[dict[str, Any]], template_group_id: str = "", user_data: str = "",
        request_id: str = "", allowed_roots: list[Path] | None = None,
    ) -> tuple[list[Registered], list[Failure]]:
        """Register each entry; the ones that fail come back with a code and a reason. Local files must
        lie under ``allowed_roots`` (default: the configured media roots)."""
        done: list[Registered] = []
        failed: list[Failure] = []
        # Resolve every CoverURL first, so a bad one refuses the request before anything is registered.
        entries = [{**e, "cover_url": self._cover_value(account_id, e["cover_url"]) if e["cover_url"] else ""}
                   for e in entries]
        for e in entries:
            try:
                done.append(self._register_one(account_id, e, template_group_id, user_data, allowed_roots))
            except (FetchError, ProbeError) as exc:
                f = failure_of(e["file_url"], exc)
                log.info("register failed", extra={"request_id": request_id, "action": "RegisterMedia",
                                                   "file_url": f.file_url, "code": f.code, "reason": f.message})
                failed.append(f)
        return done, failed

    def _existing(self, account_id: str, file_url: str) -> str | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(media.c.id).where(media.c.account_id == account_id, media.c.file_url == file_url)
            ).first()
        return str(row.id) if row else None

    def _register_one(self, account_id: str, e: dict[str, Any], template_group_id: str, user_data: str,
                      allowed_roots: list[Path] | None = None) -> Registered:
        url = e["file_url"]
        key = canonical_file_url(url)
        existing = self._existing(account_id, key)
        if existing:
            return Registered(existing, url, False)
        s = self.settings
        media_id = new_id()
        with fetched(
            url,
            allowed_roots if allowed_roots is not None else s.media_roots(),
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
            self.blobs.put_file(blob_key, path)
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
            "probe": info.probe_json(),
            "template_group_id": template_group_id,
            "user_data": user_data,
            "created_at": ts,
            "modified_at": ts,
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(media.insert().values(**row))
        except IntegrityError:
            # Registered concurrently by another request: keep theirs, drop our copy.
            self.blobs.delete(blob_key)
            existing = self._existing(account_id, key)
            if existing:
                return Registered(existing, url, False)
            raise
        except BaseException:
            self.blobs.delete(blob_key)
            raise
        return Registered(media_id, url, True)

    # ------------------------------------------------------------------ read
    def get_row(self, account_id: str, media_id: str) -> dict[str, Any]:
        """The media row of this account, or InvalidVideo.NotFound (foreign ids look nonexistent)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(media).where(media.c.id == media_id, media.c.account_id == account_id)
            ).mappings().first()
        if row is None:
            raise VideoNotFound()
        return dict(row)

    def find_rows(self, account_id: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(media).where(media.c.account_id == account_id, media.c.id.in_(ids))
            ).mappings().all()
        return {r["id"]: dict(r) for r in rows}

    def local_path(self, row: dict[str, Any]) -> Path:
        return self.blobs.path(row["blob_key"])

    def cover_url(self, row: dict[str, Any], base_url: str) -> str:
        cover = row["cover_url"] or ""
        if cover.startswith(INTERNAL_COVER_PREFIX):
            key = cover[len(INTERNAL_COVER_PREFIX) :]
            # Only this account's AI images are ever signed as a cover (rows written before CoverURL
            # was validated may hold any key).
            if not key.startswith(f"aiimage/{row['account_id']}/") or "/../" in f"/{key}/":
                return ""
            return self.urls.sign(base_url, key) if self.blobs.exists(key) else ""
        if not cover.lower().startswith(("http://", "https://")):
            return ""
        return cover

    def _cover_value(self, account_id: str, cover: str) -> str:
        """What the media row stores for a client's CoverURL: the URL, or the blob of an AI image id."""
        if not _IMAGE_ID.match(cover):
            return cover
        with self.engine.connect() as conn:
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
            "FileURL": self.urls.sign(base_url, row["blob_key"], ttl_s=auth_timeout),
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
            self.uploads.forget(account_id, media_id)
            self.fingerprints.delete_video(account_id, media_id, None)
            for handler in self.analyzers.handlers():
                handler.on_media_deleted(account_id, media_id)
            with self.engine.begin() as conn:
                conn.execute(delete(ai_images).where(ai_images.c.video_id == media_id, ai_images.c.account_id == account_id))
                conn.execute(delete(jobs).where(jobs.c.media_id == media_id, jobs.c.account_id == account_id))
                conn.execute(delete(media).where(media.c.id == media_id, media.c.account_id == account_id))
            # Blobs go after the rows: a crash in between leaves orphan files, never rows pointing nowhere.
            self.blobs.delete_prefix(f"media/{account_id}/{media_id}")
            self.blobs.delete_prefix(f"aiimage/{account_id}/{media_id}")
            self.blobs.delete_prefix(f"derived/{account_id}/{media_id}")
        return missing
