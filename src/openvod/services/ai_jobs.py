"""AI jobs: SubmitAIJob, ListAIJob, GetAIVideoTagResult, GetMediaDNAResult, SubmitMediaDNADeleteJob."""

from __future__ import annotations

import builtins
import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, bindparam, func, insert, select

from openvod.domain import userdata
from openvod.domain.contract import AnalyzerRegistry
from openvod.domain.jobs import AI_IMAGE_TYPE, AI_JOB_TYPES, JobStatus
from openvod.domain.options import MediaDNAOptions, VideoTagOptions, parse_options, stored
from openvod.errors import InvalidParameter, VodError
from openvod.services.fingerprints import FingerprintService
from openvod.services.media import MediaService
from openvod.services.uploads import IllegalStatus
from openvod.store.fastread import FastReader
from openvod.store.tables import jobs
from openvod.util import dumps, json_problem, loads, new_id, now, utc_iso

# Spellings of the per-type config key (spec §5.1.1): current first, then the older one.
# The jobs the console lists and may retry: AI jobs, AI image jobs and AIMediaAudit jobs.
CONSOLE_TYPES = AI_JOB_TYPES + (AI_IMAGE_TYPE, "AIMediaAudit")
CONFIG_KEYS = {"AIVideoTag": ("AIVideoTag", "AIVideoTagConfig"), "AIMediaDNA": ("AIMediaDNA", "AIMediaDNAConfig")}


class ResultNotFound(VodError):
    code = "InvalidAIJob.NotFound"
    http_status = 404
    message = "No successful AI job of this type exists for the video."


def normalise_config(raw: str, types: list[str]) -> dict[str, dict[str, Any]]:
    """Parse Config (both spellings) into ``{type: sub-config}`` for the requested types."""
    if not raw:
        cfg: dict[str, Any] = {}
    else:
        try:
            cfg = loads(raw)
        except ValueError as exc:
            raise InvalidParameter("Config", json_problem(exc, "It must be a JSON object.")) from None
        if not isinstance(cfg, dict):
            raise InvalidParameter("Config", "It must be a JSON object.")
    known = {k for keys in CONFIG_KEYS.values() for k in keys} | {"DNADBId"}
    unknown = sorted(set(cfg) - known)
    if unknown:
        raise InvalidParameter("Config", f"Unknown key(s): {', '.join(unknown)}.")
    out: dict[str, dict[str, Any]] = {}
    for t in types:
        present = [k for k in CONFIG_KEYS[t] if k in cfg]
        if len(present) > 1:
            raise InvalidParameter("Config", f"Give either {present[0]} or {present[1]}, not both.")
        sub = cfg[present[0]] if present else {}
        if not isinstance(sub, dict):
            raise InvalidParameter("Config", f"{present[0]} must be an object.")
        out[t] = _normalise_tag(sub) if t == "AIVideoTag" else _normalise_dna(sub, cfg.get("DNADBId"))
    return out


def _normalise_tag(sub: dict[str, Any]) -> dict[str, Any]:
    return stored(parse_options(VideoTagOptions, sub, wire=True))


def _normalise_dna(sub: dict[str, Any], top_db: Any) -> dict[str, Any]:
    data = dict(sub)
    if "DNADBId" not in data and top_db is not None:
        data["DNADBId"] = top_db  # the top-level spelling; the nested one wins
    return stored(parse_options(MediaDNAOptions, data, wire=True))


def job_wire(row: Any) -> dict[str, Any]:
    """One AIJob of ListAIJob: every field a string."""
    return {
        "JobId": row.id,
        "MediaId": row.media_id,
        "Type": row.type,
        "Status": row.status,
        "Code": row.code or "",
        "Message": row.message or "",
        "CreationTime": utc_iso(row.created_at),
        "CompleteTime": utc_iso(row.completed_at),
        "Data": row.data or "",
        # Extra (not in the VOD wire shape; the SDK models ignore unknown keys): 0-100 while it runs.
        "Progress": progress_of(row),
    }


def progress_of(row: Any) -> str:
    """The job's progress 0-100 as a string: 100 once successful, the last reported value otherwise."""
    if row.status == "success":
        return "100"
    p = getattr(row, "progress", None)
    return f"{float(p or 0.0):g}"


@lru_cache(maxsize=64)
def _list_jobs_stmt(n_ids: int, n_types: int) -> Any:
    """One statement per list size, built once: the polling hot path then hits SQLAlchemy's compiled
    cache with plain bind parameters (no per-call expansion of IN lists)."""
    return select(jobs).where(
        jobs.c.id.in_([bindparam(f"i{k}") for k in range(n_ids)]),
        jobs.c.account_id == bindparam("account_id"),
        jobs.c.type.in_([bindparam(f"t{k}") for k in range(n_types)]),
    )


class JobService:
    """Submit and read AI jobs."""

    def __init__(self, engine: Engine, analyzers: AnalyzerRegistry, media: MediaService,
                 fingerprints: FingerprintService, wake: Callable[..., None]):
        self.engine = engine
        self.analyzers = analyzers
        self.media = media
        self.fingerprints = fingerprints
        self.wake = wake  # wakes idle workers after a submit
        self.reader = FastReader(engine)

    def check_type_available(self, job_type: str, param: str) -> Any:
        handler, reason = self.analyzers.available(job_type)
        if handler is None:
            raise InvalidParameter(param, f"{job_type} cannot run on this server: {reason}.")
        return handler

    def create_jobs(self, account_id: str, media_id: str, specs: list[dict[str, Any]]) -> list[str]:
        """Insert job rows in one transaction (committed before any response), then wake the workers."""
        ids = []
        t = now()
        rows = []
        for i, spec in enumerate(specs):
            jid = new_id()
            ids.append(jid)
            rows.append(
                {
                    "id": jid,
                    "account_id": account_id,
                    "media_id": media_id,
                    "status": JobStatus.INIT,
                    "created_at": t + i * 1e-6,
                    "attempts": 0,
                    **spec,
                }
            )
        with self.engine.begin() as conn:
            conn.execute(insert(jobs), rows)
        self.wake(*ids)
        return ids

    def submit(self, account_id: str, media_id: str, types_raw: str, config_raw: str, user_data: str) -> list[dict[str, str]]:
        types: list[str] = []
        for t in (x.strip() for x in types_raw.split(",")):
            if not t:
                continue
            canon = next((k for k in AI_JOB_TYPES if k.lower() == t.lower()), None)
            if canon is None:
                raise InvalidParameter("Types", f"Unknown type {t!r}. Allowed: {', '.join(AI_JOB_TYPES)}.")
            if canon not in types:
                types.append(canon)
        if not types:
            raise InvalidParameter("Types", "Name at least one of AIVideoTag, AIMediaDNA.")
        configs = normalise_config(config_raw, types)
        userdata.parse(user_data)
        for t in types:
            configs[t] = self.check_type_available(t, "Types").validate_config(configs[t])
        row = self.media.get_row(account_id, media_id)
        if row["status"] in ("Uploading", "UploadFail"):  # CreateUploadVideo before (or without) the bytes
            raise IllegalStatus(row["status"])
        specs = [{"type": t, "config": dumps(configs[t]), "user_data": user_data} for t in types]
        ids = self.create_jobs(account_id, media_id, specs)
        return [{"JobId": jid, "MediaId": media_id, "Type": t} for jid, t in zip(ids, types, strict=True)]

    def list(self, account_id: str, ids: list[str], types: tuple[str, ...] = AI_JOB_TYPES) -> tuple[list[Any], list[str]]:
        """Rows of this account's jobs among ``ids`` (in request order) and the ids that do not exist."""
        if not ids:
            return [], []
        params: dict[str, Any] = {"account_id": account_id}
        params.update({f"i{k}": v for k, v in enumerate(ids)})
        params.update({f"t{k}": v for k, v in enumerate(types)})
        rows = self.reader.all(_list_jobs_stmt(len(ids), len(types)), params)
        by_id = {r.id: r for r in rows}
        found = [by_id[i] for i in dict.fromkeys(ids) if i in by_id]
        return found, [i for i in dict.fromkeys(ids) if i not in by_id]

    def list_account(self, account_id: str, *, media_id: str = "", job_type: str = "", status: str = "",
                     since: float | None = None, until: float | None = None, limit: int = 50,
                     offset: int = 0) -> tuple[int, builtins.list[Any]]:
        """This account's AI jobs, newest first, filtered (the console's job lists): (total, rows)."""
        q = select(jobs.c.id, jobs.c.media_id, jobs.c.type, jobs.c.status, jobs.c.code, jobs.c.message,
                   jobs.c.created_at, jobs.c.started_at, jobs.c.completed_at, jobs.c.progress, jobs.c.attempts,
                   jobs.c.config, jobs.c.template_id).where(
            jobs.c.account_id == account_id, jobs.c.type.in_(CONSOLE_TYPES))
        if media_id:
            q = q.where(jobs.c.media_id == media_id)
        if job_type:
            q = q.where(jobs.c.type == job_type)
        if status:
            q = q.where(jobs.c.status == status)
        if since is not None:
            q = q.where(jobs.c.created_at >= since)
        if until is not None:
            q = q.where(jobs.c.created_at <= until)
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(q.subquery())).scalar_one()
            rows = conn.execute(q.order_by(jobs.c.created_at.desc(), jobs.c.id.desc()).offset(offset).limit(limit)).all()
        return int(total), list(rows)

    def retry(self, account_id: str, job_id: str) -> str:
        """Queue a new job like a failed one of this account (same type, video, config and template)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id, jobs.c.account_id == account_id)).first()
        if row is None or row.type not in CONSOLE_TYPES:
            raise InvalidParameter("JobId", "No such job.")
        if row.status != JobStatus.FAIL:
            raise InvalidParameter("JobId", "Only a failed job can be retried.")
        self.check_type_available(row.type, "JobId")
        self.media.get_row(account_id, row.media_id)
        spec = {"type": row.type, "config": row.config, "user_data": row.user_data,
                "template_id": row.template_id, "template_config": row.template_config}
        return self.create_jobs(account_id, row.media_id, [spec])[0]

    def latest_result(self, account_id: str, media_id: str, job_type: str) -> dict[str, Any]:
        self.media.get_row(account_id, media_id)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(jobs.c.data)
                .where(
                    jobs.c.account_id == account_id,
                    jobs.c.media_id == media_id,
                    jobs.c.type == job_type,
                    jobs.c.status == JobStatus.SUCCESS,
                )
                .order_by(jobs.c.completed_at.desc())
                .limit(1)
            ).first()
        if row is None:
            raise ResultNotFound(f"No successful {job_type} job exists for the video.")
        data = json.loads(row.data or "{}")
        return data if isinstance(data, dict) else {}

    def video_tag_result(self, account_id: str, media_id: str) -> dict[str, Any]:
        data = self.latest_result(account_id, media_id, "AIVideoTag")
        data.pop("OrigASRData", None)
        for key in ("Category", "Keyword", "Location", "Person", "Time"):
            data.setdefault(key, [])
        return data

    def dna_result(self, account_id: str, media_id: str) -> dict[str, Any]:
        data = self.latest_result(account_id, media_id, "AIMediaDNA")
        data.setdefault("VideoDNA", [])
        return data

    def dna_delete(self, account_id: str, media_id: str, db_id: str = "") -> str:
        """Remove the video's fingerprints from its library now; the returned JobId records the deletion."""
        self.media.get_row(account_id, media_id)
        handler = self.check_type_available("AIMediaDNA", "MediaId")
        self.fingerprints.delete_video(account_id, media_id, db_id or None)
        handler.on_fingerprints_deleted(account_id, media_id, db_id)
        jid = new_id()
        t = now()
        with self.engine.begin() as conn:
            conn.execute(
                insert(jobs).values(
                    id=jid,
                    account_id=account_id,
                    media_id=media_id,
                    type="AIMediaDNADelete",
                    status=JobStatus.SUCCESS,
                    code="0",
                    message="OK",
                    config=dumps({"DNADBId": db_id}),
                    created_at=t,
                    started_at=t,
                    completed_at=t,
                )
            )
        return jid
