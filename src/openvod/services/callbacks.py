"""Callback settings (SetMessageCallback / GetMessageCallback) and turning job ends into outbox events."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from openvod.config import CallbackSettings
from openvod.domain import userdata
from openvod.domain.jobs import JobStatus
from openvod.domain.rows import JobRow
from openvod.errors import InvalidParameter
from openvod.net import UnsafeTarget, check_http_target
from openvod.store.tables import callback_settings, outbox
from openvod.urlsyntax import BadUrl, parse_http_url
from openvod.util import dumps, now, utc_iso

DEFAULT_APP = "app-1000000"
EVENT_FOR_TYPE = {
    "AIVideoTag": "AIVideoTagComplete",
    "AIMediaDNA": "AIMediaDNAComplete",
    "AIMediaAudit": "AIMediaAuditComplete",
    "AIImageAudit": "AIMediaAuditComplete",
    # openvod's own event for AI image (smart cover / GIF) jobs; enabled by AIComplete like the others.
    "AIImage": "AIImageComplete",
}
AI_EVENTS = set(EVENT_FOR_TYPE.values())
KNOWN_EVENTS = AI_EVENTS | {
    "AIComplete", "ALL", "FileUploadComplete", "UploadByURLComplete", "DeleteMediaComplete",
    "TranscodeComplete", "StreamTranscodeComplete", "SnapshotComplete", "VideoAnalysisComplete",
    "CreateAuditComplete", "MediaBaseChangeComplete", "ImageUploadComplete", "AttachedMediaUploadComplete",
}
_AUTH_KEY = re.compile(r"^[A-Za-z0-9]{1,32}$")


def event_enabled(event_types: str, event: str) -> bool:
    names = {e.strip() for e in event_types.split(",") if e.strip()}
    return bool(names & {"ALL", event} or ("AIComplete" in names and event in AI_EVENTS))


class CallbackService:
    """Per-account callback configuration and event creation."""

    def __init__(self, engine: Engine, settings: CallbackSettings):
        self.engine = engine
        self.settings = settings

    def set(
        self,
        account_id: str,
        *,
        app_id: str,
        callback_type: str,
        callback_url: str,
        event_types: str,
        auth_switch: str,
        auth_key: str,
    ) -> None:
        ctype = (callback_type or "HTTP").upper()
        if ctype == "MNS":
            raise InvalidParameter("CallbackType", "MNS is not available in openvod; use HTTP.")
        if ctype != "HTTP":
            raise InvalidParameter("CallbackType", "Allowed values: HTTP, MNS.")
        if callback_url:
            if len(callback_url.encode()) > 256:
                raise InvalidParameter("CallbackURL", "It must not exceed 256 bytes.")
            try:
                parse_http_url(callback_url)
            except BadUrl as exc:
                raise InvalidParameter("CallbackURL", f"{exc}.", code="InvalidParameter.CallbackURL") from None
            try:
                check_http_target(callback_url, self.settings.allow_private_targets)
            except UnsafeTarget as exc:
                raise InvalidParameter("CallbackURL", str(exc)) from None
        events = [e.strip() for e in event_types.split(",") if e.strip()]
        bad = [e for e in events if e not in KNOWN_EVENTS]
        if bad:
            raise InvalidParameter("EventTypeList", f"Unknown event type(s): {', '.join(bad)}.")
        switch = (auth_switch or "off").lower()
        if switch not in ("on", "off"):
            raise InvalidParameter("AuthSwitch", "Allowed values: on, off.")
        if auth_key and not _AUTH_KEY.match(auth_key):
            raise InvalidParameter("AuthKey", "It must be 1-32 letters and digits.")
        current = self.get(account_id, app_id)
        key = auth_key or current["AuthKey"]
        if switch == "on" and not key:
            raise MissingAuthKey()
        values = {
            "callback_type": ctype,
            "callback_url": callback_url if callback_url else current["CallbackURL"],
            "event_types": ",".join(events),
            "auth_switch": switch,
            "auth_key": key,
            "modified_at": now(),
        }
        stmt = sqlite_insert(callback_settings) if self.engine.dialect.name == "sqlite" else None
        with self.engine.begin() as conn:
            if stmt is not None:
                conn.execute(
                    stmt.values(account_id=account_id, app_id=app_id, **values).on_conflict_do_update(
                        index_elements=["account_id", "app_id"], set_=values
                    )
                )
            else:
                n = conn.execute(
                    callback_settings.update()
                    .where(callback_settings.c.account_id == account_id, callback_settings.c.app_id == app_id)
                    .values(**values)
                ).rowcount
                if not n:
                    conn.execute(insert(callback_settings).values(account_id=account_id, app_id=app_id, **values))

    def get(self, account_id: str, app_id: str = DEFAULT_APP, conn: Connection | None = None) -> dict[str, str]:
        q = select(callback_settings).where(
            callback_settings.c.account_id == account_id, callback_settings.c.app_id == app_id
        )
        if conn is not None:
            r = conn.execute(q).first()
        else:
            with self.engine.connect() as c:
                r = c.execute(q).first()
        return {
            "AppId": app_id,
            "CallbackType": r.callback_type if r else "HTTP",
            "CallbackURL": r.callback_url if r else "",
            "EventTypeList": r.event_types if r else "",
            "AuthSwitch": r.auth_switch if r else "off",
            "AuthKey": r.auth_key if r else "",
            "MnsEndpoint": r.mns_endpoint if r else "",
            "MnsQueueName": r.mns_queue if r else "",
        }

    def enqueue_job_event(
        self, conn: Connection, job: JobRow, status: JobStatus, code: str, message: str, data: str
    ) -> bool:
        """Add the job's completion event to the outbox inside the job's final transaction."""
        event = EVENT_FOR_TYPE.get(job.type)
        if event is None:
            return False
        setting = self.get(job.account_id, DEFAULT_APP, conn)
        url = userdata.callback_url(job.user_data or "")
        if url is None:
            if not (setting["CallbackURL"] and event_enabled(setting["EventTypeList"], event)):
                return False
            url = setting["CallbackURL"]
        t = now()
        body: dict[str, Any] = {
            "EventTime": utc_iso(t),
            "EventType": event,
            "JobId": job.id,
            "MediaId": job.media_id,
            "Status": str(status),
            "Code": code,
            "Message": message,
            "Data": data or "",
            "CompleteTime": utc_iso(t),
        }
        if event == "AIMediaAuditComplete":  # the vendor sample has Data as an object here (spec §13)
            from openvod.util import loads

            body["Data"] = loads(data) if data else {}
        if job.type == "AIImage":
            body["VideoId"] = job.media_id
        ext = userdata.extend(job.user_data or "")
        if ext is not None:
            body["Extend"] = ext
        auth_key = setting["AuthKey"] if setting["AuthSwitch"] == "on" else ""
        # One event per run: a job run again by `openvod jobs requeue` gets the next seq (runs of one
        # job never end at once: each ends with the job's compare-and-set).
        seq = conn.execute(
            select(func.coalesce(func.max(outbox.c.seq) + 1, 0)).where(outbox.c.job_id == job.id, outbox.c.event_type == event)
        ).scalar_one()
        conn.execute(
            insert(outbox).values(
                account_id=job.account_id,
                job_id=job.id,
                event_type=event,
                seq=int(seq),
                url=url,
                body=dumps(body),
                auth_key=auth_key,
                status="pending",
                attempts=0,
                next_attempt_at=t,
                created_at=t,
            )
        )
        return True


class MissingAuthKey(InvalidParameter):
    def __init__(self) -> None:
        super().__init__("AuthKey", "An AuthKey is required when AuthSwitch is on.")
