"""Job state changes, each a compare-and-set: ``UPDATE … WHERE id=? AND status=?`` (and the lease holder)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, and_, or_, select, update

from openvod.domain.jobs import JobStatus, sources
from openvod.store.tables import jobs
from openvod.util import now


def claim(engine: Engine, job_id: str, worker_id: str, lease_s: float) -> bool:
    """init -> processing for one job; True if this worker now holds the lease."""
    t = now()
    with engine.begin() as conn:
        n = conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.status == JobStatus.INIT)
            .values(
                status=JobStatus.PROCESSING,
                claimed_by=worker_id,
                lease_until=t + lease_s,
                started_at=t,
                attempts=jobs.c.attempts + 1,
                progress=0.0,
            )
        ).rowcount
    return n == 1


def claim_next(engine: Engine, worker_id: str, lease_s: float, types: list[str] | None = None) -> str | None:
    """Claim the oldest queued job (optionally of given types). Retries when another worker wins the race."""
    for _ in range(5):
        q = select(jobs.c.id).where(jobs.c.status == JobStatus.INIT)
        if types:
            q = q.where(jobs.c.type.in_(types))
        with engine.connect() as conn:
            row = conn.execute(q.order_by(jobs.c.created_at).limit(1)).first()
        if row is None:
            return None
        if claim(engine, row.id, worker_id, lease_s):
            return str(row.id)
    return None


def extend_lease(engine: Engine, job_id: str, worker_id: str, lease_s: float) -> bool:
    """Heartbeat; False when the job is no longer ours (reaped, deleted or finished)."""
    with engine.begin() as conn:
        n = conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.status == JobStatus.PROCESSING, jobs.c.claimed_by == worker_id)
            .values(lease_until=now() + lease_s)
        ).rowcount
    return n == 1


def set_progress(engine: Engine, job_id: str, worker_id: str, pct: float) -> None:
    """The running job's progress (0-100), written only while ``worker_id`` holds it."""
    with engine.begin() as conn:
        conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.status == JobStatus.PROCESSING, jobs.c.claimed_by == worker_id,
                   or_(jobs.c.progress.is_(None), jobs.c.progress < pct))  # never back (claim resets it)
            .values(progress=pct)
        )


def finish(
    conn: Connection, job_id: str, worker_id: str | None, status: JobStatus, values: dict[str, Any]
) -> bool:
    """processing -> success|fail inside the caller's transaction; only the lease holder may do it.

    ``worker_id`` None finishes a job regardless of holder (used for init -> fail at the attempt limit).
    """
    cond = [jobs.c.id == job_id]
    if worker_id is None:
        cond.append(jobs.c.status.in_(sources(status)))
    else:
        cond += [jobs.c.status == JobStatus.PROCESSING, jobs.c.claimed_by == worker_id]
    n = conn.execute(
        update(jobs)
        .where(and_(*cond))
        .values(status=status, completed_at=now(), lease_until=None, **values)
    ).rowcount
    return n == 1


def expired(engine: Engine, at: float, worker_id: str | None = None) -> list[dict[str, Any]]:
    """Processing jobs whose lease ran out (or, with ``worker_id``, held by that dead worker)."""
    q = select(jobs.c.id, jobs.c.attempts, jobs.c.claimed_by).where(jobs.c.status == JobStatus.PROCESSING)
    q = q.where(jobs.c.claimed_by == worker_id) if worker_id else q.where(jobs.c.lease_until < at)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings().all()]


def requeue_if_holder(engine: Engine, job_id: str, holder: str | None) -> bool:
    """processing -> init when still held by ``holder`` (the reaper's CAS)."""
    with engine.begin() as conn:
        n = conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id, jobs.c.status == JobStatus.PROCESSING, jobs.c.claimed_by == holder)
            .values(status=JobStatus.INIT, claimed_by=None, lease_until=None)
        ).rowcount
    return n == 1


# What a job run again from scratch starts with (the row as a submit inserts it).
_FRESH: dict[str, Any] = {
    "status": JobStatus.INIT, "code": "", "message": "", "data": None, "detail": None, "analyzer": "",
    "started_at": None, "completed_at": None, "claimed_by": None, "lease_until": None, "attempts": 0,
    "progress": None,
}


def reopen(engine: Engine, job_id: str, at: float) -> str | None:
    """The operator's requeue: a failed job, or a processing job whose lease ran out before ``at``,
    back to ``init`` with its attempts reset. Returns the status it came from; None when the job is
    in neither state (queued, running under a live lease, succeeded, or gone)."""
    with engine.begin() as conn:
        if conn.execute(update(jobs).where(jobs.c.id == job_id, jobs.c.status == JobStatus.FAIL)
                        .values(**_FRESH)).rowcount == 1:
            return str(JobStatus.FAIL)
        if conn.execute(update(jobs).where(jobs.c.id == job_id, jobs.c.status == JobStatus.PROCESSING,
                                           jobs.c.lease_until < at).values(**_FRESH)).rowcount == 1:
            return str(JobStatus.PROCESSING)
    return None
