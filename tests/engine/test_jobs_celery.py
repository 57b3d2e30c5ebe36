"""``openvod jobs cancel|requeue`` with Celery dispatch (kombu's in-memory broker, SQLite): a job
cancelled while a task runs it ends ``fail`` once and the task stops at its next heartbeat; a requeued
job (failed, or stuck with its lease run out) is published on its queue and runs from scratch.
The same against PostgreSQL and a real broker with an ``openvod worker``: tests/scaleout/test_jobops.py."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

pytest.importorskip("celery")

from openvod.cli_jobs import _publish  # noqa: E402
from openvod.config import EngineSettings, Settings  # noqa: E402
from openvod.domain.jobs import JobStatus  # noqa: E402
from openvod.engine import celery_app, jobops  # noqa: E402
from openvod.runtime import Runtime  # noqa: E402
from openvod.services.media import validate_metadata  # noqa: E402
from openvod.store import jobrepo  # noqa: E402
from openvod.store.tables import jobs, outbox  # noqa: E402
from tests.conftest import wait_for  # noqa: E402
from tests.media import make_video  # noqa: E402
from tests.conftest import settings_db


def _row(rt: Runtime, job_id: str):  # type: ignore[no-untyped-def]
    with rt.engine.connect() as conn:
        return conn.execute(select(jobs).where(jobs.c.id == job_id)).first()


def _events(rt: Runtime, job_id: str) -> list[int]:
    with rt.engine.connect() as conn:
        return sorted(r.seq for r in conn.execute(select(outbox.c.seq).where(outbox.c.job_id == job_id)))


@contextmanager
def _celery_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: EngineSettings,
                    scale: dict[str, Any]) -> Iterator[tuple[Runtime, str, str]]:
    """A runtime whose ``celery_app.execute`` runs in this process, an account with a callback, and one
    queued AIVideoTag job (the test analyzer, 1.5 s): yields (runtime, account, job id)."""
    monkeypatch.setenv("OPENVOD_TEST_JOB_SECONDS", "1.5")
    settings = Settings(
        data_dir=tmp_path / "data", database_url=settings_db(tmp_path / "data"),
        plugins=["tests.plugins:register"], media={"allowed_roots": [str(tmp_path)]},
        engine=engine, callbacks={"allow_private_targets": True}, scale=scale,
    )
    rt = Runtime(settings)
    monkeypatch.setattr(celery_app, "_SETTINGS", settings)
    monkeypatch.setattr(celery_app, "_FACTORY", Runtime)
    monkeypatch.setattr(celery_app, "_STATE", {"pid": None, "rt": None, "worker_id": None})
    try:
        acc = rt.accounts.ensure_account("acme")
        rt.callbacks.set(acc, app_id="app-1000000", callback_type="HTTP", callback_url="http://127.0.0.1:9/cb",
                         event_types="AIComplete", auth_switch="off", auth_key="")
        video = make_video(tmp_path / "c.mp4", seconds=1.0)
        done, _ = rt.media.register(acc, [validate_metadata({"FileURL": str(video), "Title": "c"}, 0)])
        yield rt, acc, rt.jobs.submit(acc, done[0].media_id, "AIVideoTag", "", "")[0]["JobId"]
    finally:
        if celery_app._STATE.get("rt") is not None:
            celery_app._STATE["rt"].close()
        rt.close()


def test_cancel_and_requeue_with_celery(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with _celery_runtime(tmp_path, monkeypatch, EngineSettings(workers=1, lease_s=5, heartbeat_s=0.2, max_attempts=3),
                         {"broker_url": "memory://", "queues": {"AIVideoTag": "tag-ops"}}) as (rt, acc, j1):
        d = celery_app.Dispatcher(rt, app=celery_app.make_celery(rt.settings), sweep=False)
        try:

            # Cancel while a task runs the job: the task's heartbeat finds it gone and it stops.
            result: list[str | None] = []
            t = threading.Thread(target=lambda: result.append(celery_app.execute(j1)))
            t.start()
            wait_for(lambda: _row(rt, j1).status == JobStatus.PROCESSING, timeout=20, interval=0.05)
            out = jobops.cancel(rt, j1, acc)
            assert out.ok and out.status == JobStatus.FAIL and "running on celery:" in out.message
            t.join(20)
            assert result == [None]  # not this worker's job any more: nothing stored
            row = _row(rt, j1)
            assert (row.status, row.code, row.data) == (JobStatus.FAIL, "JobCancelled", None)
            assert _events(rt, j1) == [0]
            assert not jobops.cancel(rt, j1).ok  # ended: refused
            assert jobops.cancel(rt, j1, "another-account").message == "no such job in this account"

            # Requeue the cancelled job: queued with a fresh attempt and published on its type's queue.
            out = jobops.requeue(rt, j1)
            assert out.ok and (_row(rt, j1).status, _row(rt, j1).attempts, _row(rt, j1).code) == ("init", 0, "")
            assert _publish(rt, [j1]) == "published 1 wake-up(s) on the broker"
            assert d.queue_depth("tag-ops") == 1
            assert celery_app.execute(j1) == JobStatus.SUCCESS
            assert _events(rt, j1) == [0, 1]  # the new run's event has its own dedupe key

            # A stuck job (its worker vanished; no sweep ran yet) is requeued; a live lease is refused.
            j2 = rt.jobs.submit(acc, _row(rt, j1).media_id, "AIVideoTag", "", "")[0]["JobId"]
            assert jobrepo.claim(rt.engine, j2, "celery:lost-host:1:x", 60)
            refused = jobops.requeue(rt, j2)
            assert not refused.ok and "running on celery:lost-host" in refused.message
            assert jobops.requeue(rt, j2, at=time.time() + 61).ok
            assert (_row(rt, j2).status, _row(rt, j2).attempts, _row(rt, j2).claimed_by) == ("init", 0, None)
        finally:
            d.stop()


def test_requeue_with_the_broker_away_leaves_it_to_the_sweep(tmp_path: Path) -> None:
    import socket

    from sqlalchemy import insert

    with socket.socket() as sk:  # a port nobody listens on
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    settings = Settings(data_dir=tmp_path / "data", database_url=settings_db(tmp_path / "data"),
                        scale={"broker_url": f"redis://127.0.0.1:{port}/0"})
    rt = Runtime(settings)
    try:
        with rt.engine.begin() as conn:
            conn.execute(insert(jobs).values(id="j" * 32, account_id="a", media_id="m", type="AIVideoTag",
                                             status="fail", code="X", message="x", created_at=time.time()))
        assert jobops.requeue(rt, "j" * 32).ok
        msg = _publish(rt, ["j" * 32])
        assert msg.startswith("could not publish on the broker") and "sweep" in msg, msg
        assert _row(rt, "j" * 32).status == JobStatus.INIT  # queued all the same: the sweep publishes it
    finally:
        rt.close()


def test_cancelled_run_never_commits_over_its_requeued_rerun(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``openvod worker --pool threads`` runs tasks in threads of one process: a job cancelled while a
    thread runs it, requeued and picked up by another thread of the same process, must be the new
    run's. Each run holds the lease under its own worker id, so the cancelled run's commit (before its
    next heartbeat noticed anything) finds the lease not its own and is discarded."""
    with _celery_runtime(tmp_path, monkeypatch, EngineSettings(workers=1, lease_s=30, heartbeat_s=10, max_attempts=3),
                         {"broker_url": "memory://"}) as (rt, _acc, j):
        first: list[str | None] = []
        second: list[str | None] = []
        t1 = threading.Thread(target=lambda: first.append(celery_app.execute(j)))
        t1.start()
        wait_for(lambda: _row(rt, j).status == JobStatus.PROCESSING, timeout=20, interval=0.05)
        holder = _row(rt, j).claimed_by
        assert jobops.cancel(rt, j).ok and jobops.requeue(rt, j).ok
        t2 = threading.Thread(target=lambda: second.append(celery_app.execute(j)))
        t2.start()
        wait_for(lambda: _row(rt, j).status == JobStatus.PROCESSING, timeout=20, interval=0.05)
        assert _row(rt, j).claimed_by != holder  # the rerun holds the lease under its own id
        t1.join(30)
        t2.join(30)
        assert first == [None] and second == [JobStatus.SUCCESS]
        assert _events(rt, j) == [0, 1]  # the cancel's event and the rerun's, nothing from the cancelled run
