"""The embedded dispatcher: a pool of worker processes that claim jobs from the store, plus the reaper.

Workers are processes (not threads) so analyzers use every core and a crashing or killed worker
takes nothing else down. A supervisor thread replaces dead workers at once and gives their jobs
back to the queue; the reaper re-queues jobs whose lease expired (a hung or killed worker on any
machine) and fails them with a Code once the attempt limit is reached.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.synchronize import Event as MpEvent
from typing import Any

from sqlalchemy import select

from openvod.config import Settings
from openvod.domain.jobs import JobStatus
from openvod.engine.liveness import bind_to_parent, parent_alive
from openvod.engine.ports import JobRuntime
from openvod.engine.runner import fail_job, fail_job_if_holder, make_worker_id, run_job, time_limit
from openvod.logs import setup_logging
from openvod.store import jobrepo
from openvod.store.tables import jobs, media

log = logging.getLogger(__name__)


def _worker_main(
    settings_json: str, worker_id: str, wake: MpEvent, stop: MpEvent, alive: Any = None, parent_pid: int = 0,
    runtime_factory: Callable[..., JobRuntime] | None = None,
) -> None:
    """Entry point of one worker process."""
    if alive is not None:  # first of all: never outlive the server (engine/liveness.py)
        bind_to_parent(alive, parent_pid, "worker")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    settings = Settings.model_validate_json(settings_json)
    setup_logging(settings.log_level, settings.log_json)
    assert runtime_factory is not None, "the pool passes the class of its own runtime"
    rt = runtime_factory(settings, migrate=False)
    rt.wake = wake.set
    log.info("worker started", extra={"worker_id": worker_id})
    parent = parent_pid or os.getppid()
    while not stop.is_set():
        if not parent_alive(parent):  # the server died without stopping us (kill -9): do not linger
            log.warning("server process is gone; worker exits", extra={"worker_id": worker_id})
            break
        try:
            job_id = jobrepo.claim_next(rt.engine, worker_id, settings.engine.lease_s)
        except Exception:
            log.warning("claim failed; retrying", exc_info=True)
            job_id = None
        if job_id:
            try:
                run_job(rt, job_id, worker_id, claimed=True, on_timeout=_exit_after_timeout)
            except Exception:  # e.g. the disk is full: the result cannot be written
                log.exception("job run failed; giving the job back", extra={"job_id": job_id})
                try:  # back to the queue, or JobAttemptsExhausted at the attempt limit
                    Reaper(rt).release(jobrepo.expired(rt.engine, time.time(), worker_id), "its result could not be stored")
                except Exception:  # still failing: the lease expires and the reaper re-queues it
                    log.warning("could not give the job back; its lease will expire", extra={"job_id": job_id})
                stop.wait(1.0)
            continue
        if wake.wait(settings.engine.poll_interval_s):
            wake.clear()
    rt.close()


def _exit_after_timeout(job_id: str) -> None:
    """The job ran past its time limit and was failed: the analyzer may be stuck anywhere (C code
    included), so this worker ends at once and the pool starts a fresh one."""
    log.warning("worker exits after a job time limit; it will be replaced", extra={"job_id": job_id})
    os._exit(75)


class Reaper:
    """Re-queue jobs whose lease expired; fail them with a Code after ``max_attempts``."""

    def __init__(self, rt: JobRuntime):
        self.rt = rt

    def release(self, holder_jobs: list[dict], reason: str) -> int:
        n = 0
        for j in holder_jobs:
            if j["attempts"] >= self.rt.settings.engine.max_attempts:
                fail_job(
                    self.rt,
                    j["id"],
                    "JobAttemptsExhausted",
                    f"The job was attempted {j['attempts']} times and its worker was lost each time ({reason}).",
                )
            elif jobrepo.requeue_if_holder(self.rt.engine, j["id"], j["claimed_by"]):
                n += 1
        if n:
            self.rt.wake()
        return n

    def sweep(self) -> int:
        return self.release(jobrepo.expired(self.rt.engine, time.time()), "lease expired")

    def release_worker(self, worker_id: str) -> int:
        return self.release(jobrepo.expired(self.rt.engine, time.time(), worker_id), "worker died")


class WorkerPool:
    """N worker processes, replaced when they die.

    Workers are started only from the supervisor thread, which lives until :meth:`stop` has
    finished: a worker's PR_SET_PDEATHSIG fires when the thread that started it exits.
    """

    def __init__(self, rt: JobRuntime, size: int | None = None):
        self.rt = rt
        self.size = max(1, size if size is not None else rt.settings.engine.workers)
        self.ctx = mp.get_context("spawn")
        self.wake_event = self.ctx.Event()
        self.stop_event = self.ctx.Event()
        self.procs: dict[str, mp.process.BaseProcess] = {}
        self._alive_w: dict[str, Any] = {}  # write ends of the liveness pipes (never written)
        self.reaper = Reaper(rt)
        self._stopping = threading.Event()
        self._closed = threading.Event()
        self._started = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pending_release: set[str] = set()  # dead workers whose jobs could not be released yet
        self._next_limit_check = 0.0

    def wake(self) -> None:
        self.wake_event.set()

    def _spawn(self) -> None:
        wid = make_worker_id()
        alive_r, alive_w = self.ctx.Pipe(duplex=False)
        p = self.ctx.Process(
            target=_worker_main,
            args=(self.rt.settings.model_dump_json(), wid, self.wake_event, self.stop_event, alive_r, os.getpid(),
                  type(self.rt)),  # the workers build a runtime of the pool's own kind
            name=f"openvod-{wid}",
            daemon=True,
        )
        p.start()
        alive_r.close()
        self.procs[wid] = p
        self._alive_w[wid] = alive_w

    def start(self) -> None:
        for target, name in ((self._supervise, "pool-supervisor"), (self._reap, "reaper")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)
        self._started.wait(120)

    def pids(self) -> dict[str, int | None]:
        return {wid: p.pid for wid, p in self.procs.items()}

    def _supervise(self) -> None:
        try:
            for _ in range(self.size):
                self._spawn()
        except Exception:
            log.exception("could not start the workers")
        finally:
            self._started.set()
        while not self._closed.wait(0.5):
            if self._stopping.is_set():
                continue
            try:
                self.check_workers()
            except Exception:
                log.exception("worker supervision failed")

    def check_workers(self) -> None:
        """Replace dead workers; give their jobs back to the queue (retried until the store takes it)."""
        for wid, p in list(self.procs.items()):
            if p.is_alive() or self._stopping.is_set():
                continue
            log.warning("worker died; replacing it", extra={"worker_id": wid, "exitcode": p.exitcode})
            del self.procs[wid]
            w = self._alive_w.pop(wid, None)
            if w is not None:
                w.close()
            self._pending_release.add(wid)
            self._spawn()
        self.retry_releases()
        if time.monotonic() >= self._next_limit_check:
            self._next_limit_check = time.monotonic() + 2.0
            self.enforce_time_limits()

    def enforce_time_limits(self) -> int:
        """The backstop for a worker too stuck to enforce its own job's time limit (an analyzer holding
        the GIL starves the heartbeat thread): past the limit plus a grace period, fail the job with
        JobTimeout and kill the worker; the supervisor then replaces it."""
        if not self.procs:
            return 0
        grace = max(5.0, 2 * self.rt.settings.engine.heartbeat_s)
        now = time.time()
        q = (
            select(jobs.c.id, jobs.c.type, jobs.c.started_at, jobs.c.claimed_by, media.c.duration)
            .select_from(jobs.outerjoin(media, media.c.id == jobs.c.media_id))
            .where(jobs.c.status == JobStatus.PROCESSING, jobs.c.claimed_by.in_(list(self.procs)))
        )
        with self.rt.engine.connect() as conn:
            rows = conn.execute(q).all()
        n = 0
        for r in rows:
            limit = time_limit(self.rt, r.type, r.duration or 0.0)
            if limit is None or r.started_at is None or now < r.started_at + limit[0] + grace:
                continue
            job = {"id": r.id, "type": r.type}
            full = fail_job_if_holder(self.rt, r.id, r.claimed_by, "JobTimeout", limit[1])
            if full is None:
                continue  # it ended meanwhile
            p = self.procs.get(r.claimed_by)
            log.warning("job past its time limit on an unresponsive worker; killing the worker",
                        extra={"job_id": job["id"], "worker_id": r.claimed_by})
            if p is not None and p.pid:
                try:
                    os.kill(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            n += 1
        return n

    def retry_releases(self) -> None:
        for wid in sorted(self._pending_release):
            try:
                self.reaper.release_worker(wid)
            except Exception:  # e.g. the disk is full: keep trying, the job must not stay processing
                log.warning("could not release a dead worker's jobs yet; will retry", exc_info=True,
                            extra={"worker_id": wid})
                continue
            self._pending_release.discard(wid)

    def _reap(self) -> None:
        while not self._stopping.wait(self.rt.settings.engine.reaper_interval_s):
            try:
                self.reaper.sweep()
            except Exception:
                log.exception("reaper sweep failed")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop workers; jobs they held go back to the queue for the next start."""
        self._stopping.set()
        self.stop_event.set()
        self.wake_event.set()
        deadline = time.monotonic() + timeout
        for p in self.procs.values():
            p.join(max(0.1, deadline - time.monotonic()))
        for wid, p in self.procs.items():
            if p.is_alive():
                p.terminate()
                p.join(5)
            try:
                for j in jobrepo.expired(self.rt.engine, time.time(), wid):
                    jobrepo.requeue_if_holder(self.rt.engine, j["id"], wid)
            except Exception:
                log.exception("could not requeue jobs of a stopped worker")
        for w in self._alive_w.values():
            w.close()
        self._alive_w.clear()
        self._closed.set()
        for t in self._threads:
            t.join(2)
