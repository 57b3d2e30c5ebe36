"""Reading a finished AIVideoTag job's detail: JSON, or the transcript as SRT / WebVTT.

Used by the ``GetAIVideoTagDetail`` Action and ``openvod tag export``. Face URLs are signed afresh
on every read (the ones inside ``Data`` were signed when the job finished and expire after
``TagSettings.face_url_ttl_s``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, select

from openvod.analyzers.tag.subtitles import to_srt, to_vtt
from openvod.domain.jobs import JobStatus
from openvod.errors import InvalidParameter, VodError
from openvod.storage.blobs import LocalBlobStore
from openvod.storage.urls import UrlSigner
from openvod.store.tables import jobs

FORMATS = ("json", "srt", "vtt")


class TagDetailNotFound(VodError):
    code = "InvalidAIJob.NotFound"
    http_status = 404
    message = "No successful AIVideoTag job exists for the video."


class TagExportService:
    """A finished AIVideoTag job's detail (JSON) or transcript (SRT, WebVTT)."""

    def __init__(self, engine: Engine, blobs: LocalBlobStore, urls: UrlSigner, base_url: Callable[[], str],
                 face_url_ttl_s: int):
        self.engine = engine
        self.blobs = blobs
        self.urls = urls
        self.base_url = base_url
        self.face_url_ttl_s = face_url_ttl_s

    def find_job(self, account_id: str, media_id: str = "", job_id: str = "") -> Any:
        """The given job, or the video's latest successful AIVideoTag job (this account's only)."""
        q = select(jobs).where(jobs.c.account_id == account_id, jobs.c.type == "AIVideoTag",
                               jobs.c.status == JobStatus.SUCCESS)
        if job_id:
            q = q.where(jobs.c.id == job_id)
        elif media_id:
            q = q.where(jobs.c.media_id == media_id)
        else:
            raise InvalidParameter("MediaId", "Give MediaId or JobId.")
        with self.engine.connect() as conn:
            row = conn.execute(q.order_by(jobs.c.completed_at.desc()).limit(1)).first()
        if row is None:
            raise TagDetailNotFound()
        return row


    def detail_of(self, row: Any) -> dict[str, Any]:
        """The job's detail with fresh face URLs."""
        detail = json.loads(row.detail or "{}")
        base = self.base_url()
        ttl = self.face_url_ttl_s
        for face in detail.get("Faces", []):
            key = face.get("FaceKey")
            if key and self.blobs.exists(key):
                face["FaceUrl"] = self.urls.sign(base, key, ttl_s=ttl)
        return detail


    def export(self, account_id: str, media_id: str = "", job_id: str = "", fmt: str = "json",
               param: str = "Format") -> dict[str, Any]:
        """{"JobId", "MediaId", "Format", and "Detail" (json) or "Subtitle" (srt, vtt)}."""
        fmt = (fmt or "json").lower()
        if fmt not in FORMATS:
            raise InvalidParameter(param, f"It must be one of {', '.join(FORMATS)}.")
        row = self.find_job(account_id, media_id, job_id)
        detail = self.detail_of(row)
        out: dict[str, Any] = {"JobId": row.id, "MediaId": row.media_id, "Format": fmt}
        if fmt == "json":
            out["Detail"] = detail
            return out
        sentences = detail.get("ASR", {}).get("Sentences", [])
        out["Subtitle"] = to_srt(sentences) if fmt == "srt" else to_vtt(sentences)
        return out
