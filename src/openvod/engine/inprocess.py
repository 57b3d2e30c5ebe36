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
from multiprocessing.synchronize import Event as MpEvent
from typing import TYPE_CHECKING

from openvod.config import Settings
from openvod.engine.runner import fail_job, make_worker_id, run_job
from openvod.store import jobrepo

if TYPE_CHECKING:
    from openvod.runtime import Runtime

log = logging.getLogger(__name__)


def _worker_main(settings_json: str, worker_id: str, wake: MpEvent, stop: MpEvent) -> None:
    """Entry point of one worker process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    from openvod.logs import setup_logging
    from openvod.runtime import Runtime

    settings = Settings.model_validate_json(settings_json)
    setup_logging(settings.log_level, settings.log_json)
    rt = Runtime(settings, migrate=False)
    rt.wake = wake.set
    log.info("worker started", extra={"worker_id": worker_id})
    parent = os.getppid()
    while not stop.is_set():
        if os.getppid() != parent:  # the server died without stopping us (kill -9): do not linger
            log.warning("server process is gone; worker exits", extra={"worker_id": worker_id})
            break
        try:
            job_id = jobrepo.claim_next(rt.engine, worker_id, settings.engine.lease_s)
        except Exception:
            log.warning("claim failed; retrying", exc_info=True)
            job_id = None
        if job_id:
            run_job(rt, job_id, worker_id, claimed=True)
            continue
        if wake.wait(settings.engine.poll_interval_s):
            wake.clear()
    rt.close()


class Reaper:
    """Re-queue jobs whose lease expired; fail them with a Code after ``max_attempts``."""

    def __init__(self, rt: Runtime):
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
    """N worker processes, replaced when they die."""

    def __init__(self, rt: Runtime, size: int | None = None):
        self.rt = rt
        self.size = max(1, size if size is not None else rt.settings.engine.workers)
        self.ctx = mp.get_context("spawn")
        self.wake_event = self.ctx.Event()
        self.stop_event = self.ctx.Event()
        self.procs: dict[str, mp.process.BaseProcess] = {}
        self.reaper = Reaper(rt)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def wake(self) -> None:
        self.wake_event.set()

    def _spawn(self) -> None:
        wid = make_worker_id()
        p = self.ctx.Process(
            target=_worker_main,
            args=(self.rt.settings.model_dump_json(), wid, self.wake_event, self.stop_event),
            name=f"openvod-{wid}",
            daemon=True,
        )
        p.start()
        self.procs[wid] = p

    def start(self) -> None:
        for _ in range(self.size):
            self._spawn()
        for target, name in ((self._supervise, "pool-supervisor"), (self._reap, "reaper")):
            t = threading.Thread(target=target, name=name, daemon=True)
            t.start()
            self._threads.append(t)

    def pids(self) -> dict[str, int | None]:
        return {wid: p.pid for wid, p in self.procs.items()}

    def _supervise(self) -> None:
        while not self._stopping.wait(0.5):
            for wid, p in list(self.procs.items()):
                if p.is_alive() or self._stopping.is_set():
                    continue
                log.warning("worker died; replacing it", extra={"worker_id": wid, "exitcode": p.exitcode})
                del self.procs[wid]
                try:
                    self.reaper.release_worker(wid)
                except Exception:
                    log.exception("could not release the dead worker's jobs")
                self._spawn()

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
        for t in self._threads:
            t.join(2)
