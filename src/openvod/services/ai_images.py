"""AI image jobs (smart covers, GIFs): SubmitAIImageJob, GetAIImageJobs, ListAIImageInfo, DeleteAIImageInfos,
and persisting a finished job's images (blobs first, rows and cover inside the job's final transaction)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Engine, delete, select

from openvod.domain import userdata
from openvod.domain.jobs import AI_IMAGE_TYPE
from openvod.engine.registry import ImageOutput
from openvod.errors import InvalidParameter
from openvod.store.tables import ai_images, media
from openvod.util import dumps, new_id, now, utc_iso
from openvod.config import ApiSettings
from openvod.domain.rows import JobRow
from openvod.services.ai_jobs import JobService
from openvod.services.media import MediaService
from openvod.services.templates import TemplateService
from openvod.storage.blobs import LocalBlobStore
from openvod.storage.urls import UrlSigner


def image_job_wire(r: Any) -> dict[str, str]:
    return {
        "JobId": r.id,
        "VideoId": r.media_id,
        "Status": r.status,
        "Code": "Success" if r.status == "success" else (r.code or ""),
        "Message": "success" if r.status == "success" else (r.message or ""),
        "CreationTime": utc_iso(r.created_at),
        "TemplateId": r.template_id,
        "TemplateConfig": r.template_config,
        "UserData": r.user_data or "",
        "AIImageResult": r.data or "",
    }



WILDCARD_HOSTS = {"", "0.0.0.0", "::", "[::]"}


def base_url_for_workers(public_url: str, host: str, port: int) -> str:
    """The base of URLs that workers write into results (FaceUrl, AI image URLs), which have no
    request Host to go by: ``api.public_url`` when set, else the listening address, with a wildcard
    (0.0.0.0, ::) replaced by the loopback address, which at least works on the server's machine.
    Deployments reached from elsewhere set ``api.public_url`` (the server says so at start)."""
    if public_url:
        return public_url
    h = "127.0.0.1" if host in WILDCARD_HOSTS else host
    if ":" in h and not h.startswith("["):
        h = f"[{h}]"
    return f"http://{h}:{port}"

class AIImageService:
    """AI image jobs and the images they produce."""

    def __init__(self, engine: Engine, settings: ApiSettings, blobs: LocalBlobStore, urls: UrlSigner,
                 templates: TemplateService, job_service: JobService, media: MediaService):
        self.engine = engine
        self.settings = settings
        self.blobs = blobs
        self.urls = urls
        self.templates = templates
        self.job_service = job_service
        self.media = media

    def public_base_url(self) -> str:
        return base_url_for_workers(self.settings.public_url, self.settings.host,
                                    self.settings.port)

    # ------------------------------------------------------------------ submit / read
    def submit(self, account_id: str, video_id: str, template_id: str, user_data: str) -> str:
        userdata.parse(user_data)
        tpl = self.templates.get(account_id, template_id)
        if tpl.type != "AIImage":
            raise InvalidParameter("AITemplateId", "The template is not of type AIImage.")
        handler = self.job_service.check_type_available(AI_IMAGE_TYPE, "AITemplateId")
        cfg = handler.validate_config(json.loads(tpl.config))
        self.media.get_row(account_id, video_id)
        spec = {
            "type": AI_IMAGE_TYPE,
            "config": dumps(cfg),
            "user_data": user_data,
            "template_id": tpl.id,
            "template_config": tpl.config,
        }
        return self.job_service.create_jobs(account_id, video_id, [spec])[0]

    def list_infos(self, account_id: str, video_id: str, base_url: str) -> list[dict[str, str]]:
        self.media.get_row(account_id, video_id)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(ai_images)
                .where(ai_images.c.account_id == account_id, ai_images.c.video_id == video_id)
                .order_by(ai_images.c.created_at, ai_images.c.score.desc())
            ).all()
        return [
            {
                "AIImageInfoId": r.id,
                "JobId": r.job_id,
                "VideoId": r.video_id,
                "FileURL": self.urls.sign(base_url, r.blob_key),
                "Format": r.format,
                "Score": repr(float(r.score)),
                "Version": r.version,
                "CreationTime": utc_iso(r.created_at),
                **{k: v for k, v in json.loads(r.detail or "{}").items() if k not in ("Url",)},
            }
            for r in rows
        ]

    def delete_infos(self, account_id: str, ids: list[str]) -> None:
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(ai_images.c.id, ai_images.c.blob_key).where(
                    ai_images.c.account_id == account_id, ai_images.c.id.in_(ids)
                )
            ).all()
            conn.execute(delete(ai_images).where(ai_images.c.account_id == account_id, ai_images.c.id.in_(ids)))
        for r in rows:
            self.blobs.delete(r.blob_key)

    # ------------------------------------------------------------------ persisting a job's output
    def write_blobs(self, job: JobRow, images: list[ImageOutput]) -> list[tuple[str, ImageOutput]]:
        out = []
        for i, img in enumerate(images, start=1):
            fmt = img.format.lower()
            if fmt not in ("png", "gif"):
                raise ValueError(f"unsupported image format {img.format!r}")
            key = f"aiimage/{job.account_id}/{job.media_id}/{job.id}-{i:05d}.{fmt}"
            self.blobs.put_bytes(key, img.data)
            out.append((key, img))
        return out

    def delete_blobs(self, written: list[tuple[str, ImageOutput]]) -> None:
        for key, _ in written:
            self.blobs.delete(key)

    def insert_rows(self, conn: Connection, job: JobRow, written: list[tuple[str, ImageOutput]]) -> str:
        """Replace this job's image rows (idempotent re-runs), set the cover if asked; returns AIImageResult."""
        conn.execute(delete(ai_images).where(ai_images.c.job_id == job.id))
        base = self.public_base_url()
        t = now()
        result = []
        for key, img in written:
            conn.execute(
                ai_images.insert().values(
                    id=new_id(),
                    account_id=job.account_id,
                    job_id=job.id,
                    video_id=job.media_id,
                    format=img.format.lower(),
                    score=float(img.score),
                    blob_key=key,
                    version=str(int(t)),
                    detail=dumps(img.detail),
                    created_at=t,
                )
            )
            result.append({"Score": float(img.score), "Url": self.urls.unsigned(base, key), **img.detail})
        tpl_cfg = job.template_config_json()
        if written and str(tpl_cfg.get("SetDefaultCover", "false")).lower() == "true":
            best_key = max(written, key=lambda kv: kv[1].score)[0]
            exists = conn.execute(select(media.c.id).where(media.c.id == job.media_id)).first()
            if exists:
                self.media.set_internal_cover(conn, job.account_id, job.media_id, best_key)
        return dumps(result)

    def jobs(self, account_id: str, ids: list[str]) -> list[Any]:
        found, _missing = self.job_service.list(account_id, ids, (AI_IMAGE_TYPE,))
        return found
