"""``run_job(job_id)``: the one entry point every dispatcher calls (in-process pool now, Celery later).

claim lease -> run the type's handler with a heartbeat -> persist result, transition and callback
event in one transaction (compare-and-set on the lease holder, so a job succeeds exactly once).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from openvod.domain.contract import JobContext, JobOutput
from openvod.domain.jobs import (
    AI_IMAGE_TYPE,
    AnalyzerCrashed,
    AnalyzerUnavailable,
    AttemptsExhausted,
    JobFailed,
    JobStatus,
    JobTimeout,
    LeaseLost,
    MediaFileMissing,
    MediaNotFound,
    TransientJobError,
)
from openvod.domain.rows import JobRow, MediaRow
from openvod.engine.ports import JobRuntime as Runtime
from openvod.errors import VideoNotFound, VodError
from openvod.pipeline.progress import decode_progress
from openvod.store import jobrepo
from openvod.store.tables import jobs
from openvod.util import dumps

log = logging.getLogger(__name__)

MAX_MESSAGE = 1024
PROGRESS_EVERY_S = 1.0
# Job types whose handler reports fixed steps around one decode pass through the media pipeline: the
# pass's decoded fraction of the duration is the job's progress from lo to hi (0..1). AIMediaDNA
# reports 0.02 before decoding and 0.7 once fingerprinted; AIImage 0.02 and, after rendering, 0.95.
# Handlers that report their own progress as they go (AIVideoTag) are not listed.
DECODE_SPAN: dict[str, tuple[float, float]] = {"AIMediaDNA": (0.02, 0.68), "AIImage": (0.02, 0.85)}


def make_worker_id(kind: str = "worker") -> str:
    return f"{kind}:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class _Heartbeat(threading.Thread):
    """Extends the lease while the handler runs; notices when the lease was lost; enforces the time limit.

    At the job's deadline it fails the job with ``JobTimeout`` (a compare-and-set on the lease holder,
    so a result that lands first wins) and calls ``on_timeout`` (a worker process exits there, so an
    analyzer stuck anywhere is stopped and the pool replaces the worker). A result the handler
    produces afterwards is discarded by the same compare-and-set.
    """

    def __init__(self, rt: Runtime, job: JobRow, worker_id: str, on_timeout: Callable[[str], None] | None = None):
        super().__init__(daemon=True, name=f"heartbeat-{job.id[:8]}")
        self.rt, self.job, self.job_id, self.worker_id = rt, job, job.id, worker_id
        self.on_timeout = on_timeout
        self.stop_event = threading.Event()
        self._poke = threading.Event()
        self.lost = False
        self.timed_out = False
        self.deadline: float | None = None  # time.monotonic()
        self.limit_message = ""
        self._progress: float | None = None  # 0-100 reported and not yet written
        self._progress_lock = threading.Lock()  # reports come from the handler, its decode helper and the beat
        self._progress_written = -1.0
        self._progress_at = 0.0

    def progress(self, fraction: float) -> None:
        """JobContext.progress: remember 0-100; written at most once per PROGRESS_EVERY_S (and at each beat)."""
        try:
            pct = round(min(1.0, max(0.0, float(fraction))) * 100.0, 1)
        except (TypeError, ValueError):
            return
        with self._progress_lock:
            if pct <= max(self._progress_written, self._progress or -1.0):
                return  # progress never goes back
            self._progress = pct
            if time.monotonic() - self._progress_at >= PROGRESS_EVERY_S:
                self._write_progress_locked()
        if self.lost:  # like ctx.heartbeat: a job that is no longer ours stops here
            raise LeaseLost(self.job_id)

    def _write_progress(self) -> None:
        with self._progress_lock:
            self._write_progress_locked()

    def _write_progress_locked(self) -> None:
        pct = self._progress
        if pct is None:
            return
        self._progress = None
        self._progress_at = time.monotonic()
        try:
            jobrepo.set_progress(self.rt.engine, self.job_id, self.worker_id, pct)
            self._progress_written = pct
        except Exception:  # progress is a nicety: a locked database must not fail the job
            log.debug("progress write failed", exc_info=True, extra={"job_id": self.job_id})

    def set_time_limit(self, seconds: float, message: str) -> None:
        self.deadline = time.monotonic() + seconds
        self.limit_message = message
        self._poke.set()

    def stop(self) -> None:
        self.stop_event.set()
        self._poke.set()

    def beat(self) -> None:
        if self.lost:
            return
        self._write_progress()
        try:
            if not jobrepo.extend_lease(self.rt.engine, self.job_id, self.worker_id, self.rt.settings.engine.lease_s):
                self.lost = True
                log.warning("lease lost: another worker owns the job now; stopping", extra={"job_id": self.job_id})
        except Exception:  # a locked database must not kill the job; the next beat retries
            log.warning("heartbeat failed", exc_info=True, extra={"job_id": self.job_id})

    def beat_or_stop(self) -> None:
        """The handler's ``ctx.heartbeat``: extend the lease, and stop the handler (``LeaseLost``)
        once the job is no longer ours, so two workers never keep working on one job."""
        self.beat()
        if self.lost:
            raise LeaseLost(self.job_id)

    def _expire(self) -> bool:
        """Fail the job for its time limit; True when done (or the job is no longer ours)."""
        try:
            status = _fail(self.rt, self.job, self.worker_id, JobTimeout.code, self.limit_message)
        except Exception:
            log.warning("could not fail a job past its time limit; retrying", exc_info=True, extra={"job_id": self.job_id})
            return False
        self.timed_out = status is not None
        if self.timed_out and self.on_timeout is not None:
            self.on_timeout(self.job_id)
        return True

    def run(self) -> None:
        hb_s = self.rt.settings.engine.heartbeat_s
        next_beat = time.monotonic() + hb_s
        while not self.stop_event.is_set():
            until = next_beat if self.deadline is None else min(next_beat, self.deadline)
            self._poke.wait(max(0.0, until - time.monotonic()))
            self._poke.clear()
            if self.stop_event.is_set():
                return
            t = time.monotonic()
            if self.deadline is not None and t >= self.deadline:
                if self._expire():
                    return
                self.deadline = t + 1.0
            if t >= next_beat:
                self.beat()
                next_beat = t + hb_s


def time_limit(rt: Runtime, job_type: str, duration_s: float) -> tuple[float, str] | None:
    """The job's time limit in seconds and the Message a timeout carries; None when unlimited."""
    lim = rt.settings.engine.time_limit(job_type)
    if lim.base_s <= 0 and lim.per_media_s <= 0:
        return None
    d = max(0.0, float(duration_s or 0.0))
    total = lim.base_s + lim.per_media_s * d
    return total, (
        f"The job exceeded its time limit of {total:.0f} s ({lim.base_s:g} s + {lim.per_media_s:g} s per second "
        f"of a {d:.1f} s video) and was stopped."
    )


def _load(rt: Runtime, job_id: str) -> JobRow | None:
    with rt.engine.connect() as conn:
        row = conn.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first()
    return JobRow.from_mapping(dict(row)) if row else None


def run_job(
    rt: Runtime,
    job_id: str,
    worker_id: str | None = None,
    *,
    claimed: bool = False,
    on_timeout: Callable[[str], None] | None = None,
) -> str | None:
    """Run one job to its end. Returns the final status, or None if this worker did not own it.

    ``on_timeout(job_id)`` is called (from the heartbeat thread) after the job was failed for its
    time limit; a worker process exits there so the stuck analyzer stops with it.
    """
    worker_id = worker_id or make_worker_id()
    if not claimed and not jobrepo.claim(rt.engine, job_id, worker_id, rt.settings.engine.lease_s):
        return None
    job = _load(rt, job_id)
    if job is None:
        return None
    hb = _Heartbeat(rt, job, worker_id, on_timeout)
    hb.start()
    t0 = time.monotonic()
    log.info("job started", extra={"job_id": job_id, "type": job.type, "attempt": job.attempts})
    try:
        out, analyzer = _execute(rt, job, hb)
    except LeaseLost:
        if hb.timed_out:  # the time limit failed the job, which is why the lease is gone
            return JobStatus.FAIL
        log.warning("lease lost while running; the job was stopped and its work discarded", extra={"job_id": job_id})
        return None
    except JobFailed as exc:
        return _fail(rt, job, worker_id, exc.code, exc.message)
    except TransientJobError as exc:
        if hb.lost:
            return None
        if job.attempts >= rt.settings.engine.max_attempts:
            return _fail(rt, job, worker_id, AttemptsExhausted.code, f"Gave up after {job.attempts} attempts: {exc}")
        jobrepo.requeue_if_holder(rt.engine, job_id, worker_id)
        rt.wake(job_id)
        return JobStatus.INIT
    except Exception as exc:  # an analyzer bug: fail with a Code, never leave the job processing
        log.exception("analyzer crashed", extra={"job_id": job_id})
        return _fail(rt, job, worker_id, AnalyzerCrashed.code, f"The analyzer failed: {type(exc).__name__}: {exc}")
    finally:
        hb.stop()
    if hb.timed_out:
        return JobStatus.FAIL
    if hb.lost:  # the handler finished without another heartbeat: its result is not ours to commit
        log.warning("lease lost before the result was ready; result discarded", extra={"job_id": job_id})
        return None
    status = _succeed(rt, job, worker_id, out, analyzer)
    log.info(
        "job finished",
        extra={"job_id": job_id, "type": job.type, "status": status, "seconds": round(time.monotonic() - t0, 3)},
    )
    return status


def _media_row(rt: Runtime, job: JobRow, handler: Any = None) -> dict[str, Any]:
    """The job's media row. A video that is gone fails the job; a database that cannot answer right
    now is a transient error (the job is retried), never "the video does not exist"."""
    try:
        own = handler.load_media(rt, job.account_id, job.media_id) if handler is not None else None
        return own if own is not None else rt.media.get_row(job.account_id, job.media_id)
    except VideoNotFound:
        raise MediaNotFound("The video does not exist.") from None
    except (SQLAlchemyError, OSError) as exc:
        raise TransientJobError(f"The database could not load the video: {type(exc).__name__}: {exc}") from exc


def _execute(rt: Runtime, job: JobRow, hb: _Heartbeat) -> tuple[JobOutput, str]:
    """Run the job's handler; its output and the ``name@version`` of the analyzer that made it."""
    handler, reason = rt.analyzers.available(job.type)
    if handler is None:
        raise AnalyzerUnavailable(reason or "no analyzer")
    media_row = _media_row(rt, job, handler)
    media = MediaRow.from_mapping(media_row)
    path = rt.media.local_path(media_row)
    # A URL upload job makes the source file itself (services/url_uploads.py).
    if not path.is_file() and handler.needs_media_file:
        raise MediaFileMissing("The video's source file is missing from storage.")
    limit = time_limit(rt, job.type, media.duration or 0.0)
    if limit is not None:
        hb.set_time_limit(*limit)
    config = job.config_json()
    try:
        options = handler.parse_options(config)
    except VodError as exc:  # a stored config the current model refuses: explained, not retried
        raise JobFailed(exc.code, exc.message) from None
    account_id = job.account_id
    ctx = JobContext(
        job_id=job.id,
        account_id=account_id,
        job_type=job.type,
        media_id=job.media_id,
        media_path=path,
        media=MappingProxyType(media_row),  # read-only: a handler cannot change the row it was given
        config=config,
        template_config=job.template_config_json(),
        options=options,
        analyzer_options=rt.analyzer_options.get(job.type),
        probe=media.probe_json(),
        heartbeat=hb.beat_or_stop,
        progress=hb.progress,
        fingerprints=rt.fingerprints.for_account(account_id),
        faces=rt.faces.for_account(account_id),
        blobs=rt.job_blobs(account_id, job.media_id),
        services=rt,
    )
    span = DECODE_SPAN.get(job.type)
    if span is None:
        out = handler.run(ctx)
    else:  # the pipeline's decode passes report how far they are, mapped into the job's range
        lo, hi = span
        with decode_progress(lambda f: hb.progress(lo + (hi - lo) * f)):
            out = handler.run(ctx)
    if not isinstance(out, JobOutput):
        raise TypeError(f"{handler.name} returned {type(out).__name__}, not JobOutput")
    return out, f"{handler.name}@{handler.version}"


def _succeed(rt: Runtime, job: JobRow, worker_id: str, out: JobOutput, analyzer: str) -> str | None:
    written = rt.images.write_blobs(job, out.images) if job.type == AI_IMAGE_TYPE else []
    try:
        with rt.engine.begin() as conn:
            if job.type == AI_IMAGE_TYPE:
                data_str = rt.images.insert_rows(conn, job, written)
            else:
                data_str = out.data if isinstance(out.data, str) else dumps(out.data if out.data is not None else {})
            values = {
                "code": "0",
                "message": "OK",
                "data": data_str,
                "detail": dumps(out.detail) if out.detail is not None else None,
                "analyzer": analyzer,
                "progress": 100.0,
            }
            if not jobrepo.finish(conn, job.id, worker_id, JobStatus.SUCCESS, values):
                raise _LostLease()
            rt.callbacks.enqueue_job_event(conn, job, JobStatus.SUCCESS, "0", "OK", data_str)
    except _LostLease:
        rt.images.delete_blobs(written)
        log.warning("lease lost before commit; result discarded", extra={"job_id": job.id})
        return None
    except BaseException:
        rt.images.delete_blobs(written)
        raise
    return JobStatus.SUCCESS


class _LostLease(Exception):
    pass


def _fail(rt: Runtime, job: JobRow, worker_id: str | None, code: str, message: str) -> str | None:
    message = message[:MAX_MESSAGE]
    with rt.engine.begin() as conn:
        if not jobrepo.finish(conn, job.id, worker_id, JobStatus.FAIL, {"code": code, "message": message}):
            return None
        rt.callbacks.enqueue_job_event(conn, job, JobStatus.FAIL, code, message, "")
    log.info("job failed", extra={"job_id": job.id, "code": code, "error": message})
    return JobStatus.FAIL


def fail_job_if_holder(rt: Runtime, job_id: str, worker_id: str, code: str, message: str) -> str | None:
    """Fail a processing job only while ``worker_id`` still holds it (the pool's time-limit backstop)."""
    job = _load(rt, job_id)
    if job is None:
        return None
    return _fail(rt, job, worker_id, code, message)


def fail_job(rt: Runtime, job_id: str, code: str, message: str) -> str | None:
    """Fail a queued or processing job regardless of lease holder (reaper at the attempt limit)."""
    job = _load(rt, job_id)
    if job is None:
        return None
    return _fail(rt, job, None, code, message)
