"""Celery dispatch for scaled-out deployments (docs/scale-out.md). Celery is imported lazily (``scale`` extra).

The database lease is the truth; a message is only a wake-up that names a job:

- ``serve --role api`` commits the job, then publishes ``openvod.run_job(job_id)`` on the queue of
  the job's type (``dna``, ``tag``, ``image``, ...; ``ScaleSettings.queue_for``) from a background
  thread. A publish that fails (broker down) is only logged: the sweep publishes again.
- ``openvod worker --queues dna,tag,image`` is a Celery worker. The task body is ``run_job(job_id)``:
  it claims the job with a compare-and-set, so a duplicated or redelivered message for a job that is
  running or done does nothing, and a job never runs twice at once.
- Messages are acknowledged early (``acks_late`` off): a job of an hour never holds an unacked
  message, so neither Redis's ``visibility_timeout`` nor RabbitMQ's ``consumer_timeout`` can
  redeliver it mid-run. A worker that dies mid-job loses its message, not the job: its lease stops
  being extended, the sweep puts the job back to ``init`` and publishes it again.
- The sweep (one API node at a time: a PostgreSQL advisory lock elects it) runs every
  ``scale.sweep_interval_s``: expired leases go back to the queue (or fail with
  JobAttemptsExhausted), and waiting jobs whose queue holds fewer messages than waiting jobs get a
  new wake-up once ``scale.republish_after_s`` passed since their last one (a message lost with a
  broker restart, or reserved by a worker that died).
"""

from __future__ import annotations

import logging
import os
import queue as queue_mod
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text

from openvod.config import Settings
from openvod.domain.jobs import JobStatus
from openvod.store import jobrepo
from openvod.store.tables import jobs, media

if TYPE_CHECKING:
    from openvod.engine.ports import JobRuntime as Runtime

log = logging.getLogger(__name__)

TASK_NAME = "openvod.run_job"
_SWEEP_LOCK = 0x6F76737765657000  # "ovsweep"

# The settings of this worker process tree and the runtime class of the composition root (set before
# the worker forks its pool children; the engine never imports openvod.runtime).
_SETTINGS: Settings | None = None
_FACTORY: Callable[..., Any] | None = None
_STATE: dict[str, Any] = {"pid": None, "rt": None, "worker_id": None}


def make_celery(settings: Settings) -> Any:
    """The Celery app: broker from ``scale.broker_url``, early acks, no result backend."""
    from celery import Celery

    url = settings.scale.broker_url
    if not url:
        raise SystemExit("openvod: scale.broker_url is not set (redis://… or amqp://…)")
    app = Celery("openvod", broker=url, set_as_current=False)
    redis = url.startswith(("redis://", "rediss://", "redis+socket://"))
    app.conf.update(
        task_acks_late=False,  # the lease, not the message, protects a job (see the module doc)
        task_reject_on_worker_lost=False,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_create_missing_queues=True,
        task_default_queue="openvod",
        worker_prefetch_multiplier=1,
        # Redis: take a message only when a pool process is free, so none waits behind a long job.
        worker_disable_prefetch=redis,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a broker restart: keep trying
        broker_transport_options={"visibility_timeout": 3600} if redis else {},
    )

    @app.task(name=TASK_NAME, ignore_result=True, acks_late=False)
    def run_job_task(job_id: str) -> str | None:
        return execute(job_id)

    return app


# ---------------------------------------------------------------------------------------- worker side
def _runtime() -> tuple[Runtime, str]:
    """This process's Runtime (built after the pool forked, never shared across processes)."""
    if _STATE["pid"] != os.getpid():
        from openvod.engine.runner import make_worker_id

        assert _SETTINGS is not None and _FACTORY is not None, "set before the worker's pool starts"
        rt = _FACTORY(_SETTINGS, migrate=False)
        app = make_celery(_SETTINGS)
        rt.wake = lambda *ids: publish_now(rt, app, ids)
        _STATE.update(pid=os.getpid(), rt=rt, worker_id=make_worker_id("celery"))
    return _STATE["rt"], _STATE["worker_id"]


def execute(job_id: str) -> str | None:
    """The task body: ``run_job(job_id)``; a job another worker holds or finished is left alone."""
    from openvod.engine.inprocess import _exit_after_timeout
    from openvod.engine.runner import run_job

    rt, worker_id = _runtime()
    try:
        status = run_job(rt, job_id, worker_id, on_timeout=_exit_after_timeout)
    except Exception:  # e.g. the store is unreachable: the lease expires and the sweep re-queues it
        log.exception("job run failed; its lease will expire", extra={"job_id": job_id})
        return None
    return str(status) if status is not None else None


def run_worker(settings: Settings, runtime_factory: Callable[..., Any], queues: list[str], concurrency: int,
               hostname: str = "", loglevel: str = "INFO", pool: str = "prefork") -> None:
    """``openvod worker``: a Celery worker on ``queues`` with ``concurrency`` pool processes.

    SIGTERM is Celery's warm shutdown: no new message is taken, running jobs finish, and messages
    reserved but not started go back to the broker. A job cut short anyway (SIGKILL, a lost machine)
    is re-run after its lease expires."""
    global _SETTINGS, _FACTORY
    settings = settings.model_copy(update={"scale": settings.scale.model_copy(update={"role": "worker"})})
    _SETTINGS, _FACTORY = settings, runtime_factory
    runtime_factory(settings).close()  # migrate (under the advisory lock) before the pool forks
    app = make_celery(settings)
    argv = ["worker", "-Q", ",".join(queues), "-c", str(concurrency), "--loglevel", loglevel, "-P", pool,
            "--without-gossip", "--without-mingle", "--without-heartbeat"]
    if hostname:
        argv += ["-n", hostname]
    app.worker_main(argv=argv)


# ---------------------------------------------------------------------------------------- API side
def hard_time_limit(rt: Runtime, job_type: str, duration_s: float) -> float | None:
    """Celery's hard time limit of a job's task: the job's time limit plus ``scale.hard_time_limit_margin_s``.

    The heartbeat thread enforces the job's own limit (JobTimeout) inside the worker process; this is
    the backstop for a process too stuck to run that thread (an analyzer holding the GIL, a stopped
    process): the prefork pool's parent kills the child from outside and starts a new one. The job's
    lease has run out by then (no heartbeat), so the sweep re-queues and publishes it."""
    from openvod.engine.runner import time_limit

    lim = time_limit(rt, job_type, duration_s)
    return None if lim is None else lim[0] + rt.settings.scale.hard_time_limit_margin_s


def publish_now(rt: Runtime, app: Any, job_ids: Any) -> int:
    """Publish a wake-up for each waiting job of ``job_ids`` on its type's queue; returns how many."""
    ids = [str(j) for j in job_ids if j]
    if not ids:
        return 0
    with rt.engine.connect() as conn:
        rows = conn.execute(
            select(jobs.c.id, jobs.c.type, jobs.c.account_id, jobs.c.config, media.c.duration)
            .select_from(jobs.outerjoin(media, media.c.id == jobs.c.media_id))
            .where(jobs.c.id.in_(ids), jobs.c.status == JobStatus.INIT)).all()
    for r in rows:
        app.send_task(TASK_NAME, args=[r.id], queue=rt.settings.scale.queue_for(r.type, r.account_id, r.config),
                      time_limit=hard_time_limit(rt, r.type, r.duration or 0.0),
                      retry=True, retry_policy={"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5})
    return len(rows)


class Dispatcher:
    """The API node's side: publishes wake-ups for submitted jobs and, when elected, runs the sweep."""

    def __init__(self, rt: Runtime, app: Any | None = None, sweep: bool = True):
        self.rt = rt
        self.app = app if app is not None else make_celery(rt.settings)
        self.sweep_enabled = sweep
        self._q: queue_mod.SimpleQueue[tuple[str, ...]] = queue_mod.SimpleQueue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.published: dict[str, float] = {}  # job id -> when this node last published it
        self._lock_conn: Any = None
        self._pub_lock = threading.Lock()

    # -- publishing
    def wake(self, *job_ids: str) -> None:
        """``rt.wake``: called after a commit with the new job ids (no ids: nothing to publish now)."""
        if job_ids:
            self._q.put(tuple(job_ids))

    def _publish(self, ids: list[str]) -> None:
        with self._pub_lock:
            n = publish_now(self.rt, self.app, ids)
            t = time.time()
            for j in ids:
                self.published[j] = t
        log.debug("published wake-ups", extra={"count": n})

    def _publisher(self) -> None:
        while not self._stop.is_set():
            try:
                first = self._q.get(timeout=0.5)
            except queue_mod.Empty:
                continue
            ids = list(first)
            while len(ids) < 500:
                try:
                    ids.extend(self._q.get_nowait())
                except queue_mod.Empty:
                    break
            try:
                self._publish(ids)
            except Exception:  # the broker is away: the sweep publishes these jobs again later
                log.warning("could not publish wake-ups; the sweep will retry", exc_info=True)

    # -- the sweep
    def _is_leader(self) -> bool:
        """One sweeping node at a time on PostgreSQL (session advisory lock); always on SQLite."""
        if self.rt.engine.dialect.name != "postgresql":
            return True
        try:
            if self._lock_conn is not None:  # still connected, so still holding the session lock
                self._lock_conn.execute(text("SELECT 1"))
                self._lock_conn.commit()  # never sit idle in a transaction
                return True
            conn = self.rt.engine.connect()
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _SWEEP_LOCK}).scalar()
            conn.commit()
            if got:
                self._lock_conn = conn
                log.info("this node now runs the job sweep")
                return True
            conn.close()
        except Exception:
            log.warning("sweep leadership check failed", exc_info=True)
            if self._lock_conn is not None:
                try:
                    self._lock_conn.invalidate()
                except Exception:
                    pass
                self._lock_conn = None
        return False

    def queue_depth(self, name: str) -> int:
        """Messages ready in a broker queue (0 when it does not exist yet)."""
        try:
            with self.app.connection_for_write() as conn:
                return int(conn.default_channel.queue_declare(queue=name, passive=True).message_count)
        except Exception:
            return 0

    def sweep(self) -> int:
        """Re-queue expired leases and publish their jobs; re-publish waiting jobs whose wake-up may be lost."""
        from openvod.engine.inprocess import Reaper

        t = time.time()
        expired = jobrepo.expired(self.rt.engine, t)
        requeued: list[str] = []
        if expired:
            Reaper(self.rt).release(expired, "lease expired")
            with self.rt.engine.connect() as conn:
                requeued = [r.id for r in conn.execute(select(jobs.c.id).where(
                    jobs.c.id.in_([j["id"] for j in expired]), jobs.c.status == JobStatus.INIT)).all()]
        if requeued:
            self._publish(requeued)
        with self.rt.engine.connect() as conn:
            waiting = conn.execute(select(jobs.c.id, jobs.c.type, jobs.c.created_at, jobs.c.account_id,
                                          jobs.c.config).where(jobs.c.status == JobStatus.INIT)).all()
        after = self.rt.settings.scale.republish_after_s
        by_queue: dict[str, list[Any]] = {}
        for r in waiting:
            by_queue.setdefault(self.rt.settings.scale.queue_for(r.type, r.account_id, r.config), []).append(r)
        stale: list[str] = []
        for qname, rows in by_queue.items():
            due = [r.id for r in rows if max(r.created_at, self.published.get(r.id, 0.0)) < t - after]
            if due and self.queue_depth(qname) < len(rows):
                stale.extend(due)
        if stale:
            log.info("re-publishing wake-ups of waiting jobs", extra={"count": len(stale)})
            self._publish(stale)
        live = {r.id for r in waiting}
        for j in [j for j in self.published if j not in live]:
            self.published.pop(j, None)
        return len(requeued) + len(stale)

    def _sweeper(self) -> None:
        while not self._stop.wait(self.rt.settings.scale.sweep_interval_s):
            try:
                if self._is_leader():
                    self.sweep()
            except Exception:
                log.warning("job sweep failed", exc_info=True)

    def start(self) -> None:
        targets = [(self._publisher, "celery-publisher")]
        if self.sweep_enabled:
            targets.append((self._sweeper, "job-sweep"))
        for target, name in targets:
            th = threading.Thread(target=target, name=name, daemon=True)
            th.start()
            self._threads.append(th)

    def stop(self) -> None:
        self._stop.set()
        for th in self._threads:
            th.join(5)
        rest: list[str] = []
        while True:
            try:
                rest.extend(self._q.get_nowait())
            except queue_mod.Empty:
                break
        if rest:
            try:
                self._publish(rest)
            except Exception:
                log.warning("could not publish the last wake-ups; the sweep will", exc_info=True)
        if self._lock_conn is not None:  # hand the sweep to another node at once
            try:
                self._lock_conn.execute(text("SELECT pg_advisory_unlock_all()"))
                self._lock_conn.commit()
                self._lock_conn.close()
            except Exception:
                pass
            self._lock_conn = None
