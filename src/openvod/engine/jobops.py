"""Operator actions on jobs (``openvod jobs list|cancel|requeue``), with the database lease as the truth.

- **cancel** a queued or running job: one compare-and-set ends it ``fail`` with Code ``JobCancelled``
  and writes its callback event in the same transaction, so it ends once and is reported once. A
  running job's holder learns it at its next heartbeat (the lease extension finds the job no longer
  ``processing``): the analyzer stops at its next ``ctx.heartbeat()``/``ctx.progress()``, and
  whatever it produces is discarded by the compare-and-set that would have stored it.
- **requeue** a failed job, or a stuck one (``processing`` with its lease run out): back to ``init``
  with its attempts reset (a run from scratch), then a wake-up is published on its queue (Celery) or
  the in-process pool claims it at its next poll. A queued job only gets a new wake-up. A running job
  (live lease) is refused: cancel it first. A succeeded job is refused: submit a new one.

URL upload jobs also change their media's state; they are refused here (CancelURLUploadJobs cancels
a queued one, and UploadMediaByURL submits a new one).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from openvod.domain.jobs import JobStatus
from openvod.engine.ports import JobRuntime
from openvod.engine.runner import fail_job
from openvod.store import jobrepo
from openvod.store.tables import jobs

CANCELLED_CODE = "JobCancelled"
CANCELLED_MESSAGE = "The job was cancelled by the operator."
NOT_HERE = {"URLUpload": "URL upload jobs change their media's state: cancel a queued one with CancelURLUploadJobs, "
                         "or submit the URL again with UploadMediaByURL"}


@dataclass
class Outcome:
    job_id: str
    ok: bool
    status: str  # the job's status after the action ("" when there is no such job)
    message: str


def _row(rt: JobRuntime, job_id: str, account_id: str | None) -> Any:
    q = select(jobs.c.id, jobs.c.type, jobs.c.status, jobs.c.claimed_by, jobs.c.lease_until, jobs.c.account_id)
    q = q.where(jobs.c.id == job_id)
    if account_id is not None:
        q = q.where(jobs.c.account_id == account_id)
    with rt.engine.connect() as conn:
        return conn.execute(q).first()


def _status(rt: JobRuntime, job_id: str) -> str:
    with rt.engine.connect() as conn:
        return str(conn.execute(select(jobs.c.status).where(jobs.c.id == job_id)).scalar() or "")


def cancel(rt: JobRuntime, job_id: str, account_id: str | None = None) -> Outcome:
    """End a queued or running job ``fail`` with JobCancelled (see the module doc)."""
    r = _row(rt, job_id, account_id)
    if r is None:
        return Outcome(job_id, False, "", "no such job" + (" in this account" if account_id else ""))
    if r.type in NOT_HERE:
        return Outcome(job_id, False, r.status, NOT_HERE[r.type])
    if r.status in (JobStatus.SUCCESS, JobStatus.FAIL):
        return Outcome(job_id, False, r.status, f"already ended {r.status}; nothing to cancel")
    was = r.status
    if fail_job(rt, job_id, CANCELLED_CODE, CANCELLED_MESSAGE) is None:
        now_status = _status(rt, job_id)
        return Outcome(job_id, False, now_status, f"it ended {now_status} before the cancel took effect")
    if was == JobStatus.PROCESSING:
        return Outcome(job_id, True, JobStatus.FAIL, f"cancelled while running on {r.claimed_by}; that worker "
                                                     "stops at its next heartbeat and its work is discarded")
    return Outcome(job_id, True, JobStatus.FAIL, "cancelled before it started")


def requeue(rt: JobRuntime, job_id: str, account_id: str | None = None, at: float | None = None) -> Outcome:
    """A failed or stuck job back to the queue with a fresh attempt; the caller wakes the workers
    (``rt.wake(job_id)`` or a Celery publish) for each ``ok`` outcome."""
    at = time.time() if at is None else at
    r = _row(rt, job_id, account_id)
    if r is None:
        return Outcome(job_id, False, "", "no such job" + (" in this account" if account_id else ""))
    if r.type in NOT_HERE:
        return Outcome(job_id, False, r.status, NOT_HERE[r.type])
    if r.status == JobStatus.INIT:
        return Outcome(job_id, True, JobStatus.INIT, "already queued; its wake-up is sent again")
    if r.status == JobStatus.SUCCESS:
        return Outcome(job_id, False, r.status, "it succeeded; submit a new job to run it again")
    if r.status == JobStatus.PROCESSING and (r.lease_until or 0.0) >= at:
        left = (r.lease_until or 0.0) - at
        return Outcome(job_id, False, r.status, f"it is running on {r.claimed_by} (lease valid {left:.0f} s more); "
                                                "cancel it first, or wait for it to end")
    came_from = jobrepo.reopen(rt.engine, job_id, at)
    if came_from is None:
        now_status = _status(rt, job_id)
        return Outcome(job_id, False, now_status, f"its state changed meanwhile (now {now_status}); try again")
    why = "failed" if came_from == JobStatus.FAIL else f"stuck: its lease on {r.claimed_by} ran out"
    return Outcome(job_id, True, JobStatus.INIT, f"queued again with a fresh attempt (it was {why})")


def list_jobs(rt: JobRuntime, statuses: list[str] | None = None, types: list[str] | None = None,
              account_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Jobs newest first, filtered by status, type and account."""
    q = select(jobs.c.id, jobs.c.account_id, jobs.c.media_id, jobs.c.type, jobs.c.status, jobs.c.code,
               jobs.c.message, jobs.c.attempts, jobs.c.claimed_by, jobs.c.lease_until, jobs.c.progress,
               jobs.c.created_at, jobs.c.started_at, jobs.c.completed_at)
    if statuses:
        q = q.where(jobs.c.status.in_(statuses))
    if types:
        q = q.where(func.lower(jobs.c.type).in_([t.lower() for t in types]))
    if account_id is not None:
        q = q.where(jobs.c.account_id == account_id)
    with rt.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q.order_by(jobs.c.created_at.desc()).limit(limit)).mappings().all()]
