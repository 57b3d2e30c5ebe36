"""Celery dispatch without services: kombu's in-memory broker and SQLite. The message is only a wake-up:
a duplicate does nothing, an expired lease is re-queued and published again, and a waiting job whose
wake-up was lost gets a new one (only when its queue holds fewer messages than waiting jobs).
The same paths against PostgreSQL, Redis and RabbitMQ: tests/scaleout (``-m scaleout``)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

pytest.importorskip("celery")

from openvod.config import EngineSettings, Settings  # noqa: E402
from openvod.domain.jobs import JobStatus  # noqa: E402
from openvod.engine import celery_app  # noqa: E402
from openvod.runtime import Runtime  # noqa: E402
from openvod.services.media import validate_metadata  # noqa: E402
from openvod.store import jobrepo  # noqa: E402
from openvod.store.tables import jobs  # noqa: E402
from tests.media import make_video  # noqa: E402
from tests.conftest import settings_db


def _row(rt: Runtime, job_id: str):  # type: ignore[no-untyped-def]
    with rt.engine.connect() as conn:
        return conn.execute(select(jobs).where(jobs.c.id == job_id)).first()


def test_wake_up_messages_and_the_sweep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", database_url=settings_db(tmp_path / "data"),
        plugins=["tests.plugins:register"],
        media={"allowed_roots": [str(tmp_path)]},
        engine=EngineSettings(workers=1, lease_s=5, heartbeat_s=0.5, max_attempts=3),
        scale={"broker_url": "memory://", "queues": {"AIVideoTag": "tag-unit"}, "republish_after_s": 0.3},
    )
    rt = Runtime(settings)
    app = celery_app.make_celery(settings)
    d = celery_app.Dispatcher(rt, app=app, sweep=False)
    monkeypatch.setattr(celery_app, "_SETTINGS", settings)
    monkeypatch.setattr(celery_app, "_FACTORY", Runtime)
    monkeypatch.setattr(celery_app, "_STATE", {"pid": None, "rt": None, "worker_id": None})
    try:
        acc = rt.accounts.ensure_account("acme")
        video = make_video(tmp_path / "c.mp4", seconds=1.0)
        done, _ = rt.media.register(acc, [validate_metadata({"FileURL": str(video), "Title": "c"}, 0)])
        mid = done[0].media_id

        def submit() -> str:
            return rt.jobs.submit(acc, mid, "AIVideoTag", "", "")[0]["JobId"]

        def purge() -> None:
            with app.connection_for_write() as conn:
                conn.default_channel.queue_purge("tag-unit")

        # One wake-up per job on its type's queue; the task body runs it once, a duplicate does nothing.
        j1 = submit()
        d._publish([j1])
        assert d.queue_depth("tag-unit") == 1
        assert celery_app.execute(j1) == JobStatus.SUCCESS
        assert celery_app.execute(j1) is None  # duplicated / redelivered message
        assert _row(rt, j1).attempts == 1
        d._publish([j1])  # a finished job is not published again
        assert d.queue_depth("tag-unit") == 1
        purge()

        # A worker died holding a job: the sweep re-queues it and publishes it at once.
        j2 = submit()
        assert jobrepo.claim(rt.engine, j2, "celery:dead-host:1:x", 0.1)
        time.sleep(0.2)
        assert d.sweep() >= 1
        row = _row(rt, j2)
        assert (row.status, row.attempts) == (JobStatus.INIT, 1) and d.queue_depth("tag-unit") == 1

        # Lost wake-ups (e.g. a broker restart): waiting jobs get new ones once republish_after_s passed,
        # but not while the queue already holds a message per waiting job.
        purge()
        j3 = submit()  # never published
        time.sleep(0.4)
        d.sweep()
        assert d.queue_depth("tag-unit") == 2  # j2 and j3
        time.sleep(0.4)
        d.sweep()
        assert d.queue_depth("tag-unit") == 2  # two messages for two waiting jobs: nothing to add
        assert celery_app.execute(j3) == JobStatus.SUCCESS and celery_app.execute(j2) == JobStatus.SUCCESS
        assert _row(rt, j2).attempts == 2 and _row(rt, j3).attempts == 1
    finally:
        d.stop()
        if celery_app._STATE.get("rt") is not None:
            celery_app._STATE["rt"].close()
        rt.close()
