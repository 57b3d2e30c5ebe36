"""The job store's compare-and-set contract, run against every store: SQLite (embedded default) and
PostgreSQL (when one answers at OPENVOD_TEST_PG_URL, default postgresql://postgres@127.0.0.1:5432/test)."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from openvod.config import EngineSettings, Settings
from openvod.domain.jobs import JobStatus
from openvod.engine.inprocess import Reaper
from openvod.engine.registry import AnalyzerRegistry
from openvod.engine.runner import run_job
from openvod.runtime import Runtime
from openvod.store import jobrepo, tables
from openvod.store.tables import jobs, outbox
from tests.media import make_video
from tests.plugins import register as register_test_plugins

PG_URL = os.environ.get("OPENVOD_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_available() -> bool:
    try:
        import psycopg

        psycopg.connect(PG_URL.replace("+psycopg", ""), connect_timeout=2).close()
        return True
    except Exception:
        return False


@pytest.fixture(params=["sqlite", "postgresql"])
def rt(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    url = ""
    if request.param == "postgresql":
        if not _pg_available():
            pytest.skip("no PostgreSQL server reachable")
        url = PG_URL
        from sqlalchemy import create_engine

        eng = create_engine(url)
        _drop_all(eng)
        eng.dispose()
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=url,
        engine=EngineSettings(workers=1, lease_s=2, heartbeat_s=0.5, max_attempts=2),
    )
    reg = AnalyzerRegistry()
    register_test_plugins(reg)
    runtime = Runtime(settings, registry=reg)
    yield runtime
    if request.param == "postgresql":
        _drop_all(runtime.engine)
    runtime.close()


def _drop_all(engine) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    tables.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def _job(rt: Runtime, tmp_path: Path) -> str:
    acc = rt.accounts.ensure_account("acme")
    video = make_video(tmp_path / "c.mp4", seconds=1.0)
    rt.settings.media.allowed_roots = [str(tmp_path)]
    from openvod.services.media import validate_metadata

    done, failed = rt.media.register(acc, [validate_metadata({"FileURL": str(video), "Title": "c"}, 0)])
    assert not failed
    return rt.jobs.submit(acc, done[0].media_id, "AIVideoTag", "", "")[0]["JobId"]


def _row(rt: Runtime, job_id: str):  # type: ignore[no-untyped-def]
    with rt.engine.connect() as conn:
        return conn.execute(select(jobs).where(jobs.c.id == job_id)).first()


def test_only_one_claimer_wins(rt: Runtime, tmp_path: Path) -> None:
    job_id = _job(rt, tmp_path)
    results: list[bool] = []
    barrier = threading.Barrier(4)

    def claim(i: int) -> None:
        barrier.wait()
        results.append(jobrepo.claim(rt.engine, job_id, f"w{i}", 10))

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]
    row = _row(rt, job_id)
    assert row.status == JobStatus.PROCESSING and row.attempts == 1


def test_only_the_lease_holder_finishes(rt: Runtime, tmp_path: Path) -> None:
    job_id = _job(rt, tmp_path)
    assert jobrepo.claim_next(rt.engine, "A", 10) == job_id
    assert jobrepo.claim_next(rt.engine, "B", 10) is None
    with rt.engine.begin() as conn:
        assert not jobrepo.finish(conn, job_id, "B", JobStatus.SUCCESS, {"code": "0"})
    assert jobrepo.extend_lease(rt.engine, job_id, "A", 10)
    assert not jobrepo.extend_lease(rt.engine, job_id, "B", 10)
    with rt.engine.begin() as conn:
        assert jobrepo.finish(conn, job_id, "A", JobStatus.SUCCESS, {"code": "0"})
    with rt.engine.begin() as conn:
        assert not jobrepo.finish(conn, job_id, "A", JobStatus.FAIL, {"code": "x"})
    assert _row(rt, job_id).status == JobStatus.SUCCESS


def test_expired_lease_is_requeued_and_old_holder_loses(rt: Runtime, tmp_path: Path) -> None:
    job_id = _job(rt, tmp_path)
    assert jobrepo.claim(rt.engine, job_id, "A", 0.2)
    time.sleep(0.3)
    assert Reaper(rt).sweep() == 1
    assert _row(rt, job_id).status == JobStatus.INIT
    assert run_job(rt, job_id, "B") == JobStatus.SUCCESS
    with rt.engine.begin() as conn:  # the first holder comes back too late
        assert not jobrepo.finish(conn, job_id, "A", JobStatus.SUCCESS, {"code": "0"})
    row = _row(rt, job_id)
    assert (row.status, row.attempts, row.claimed_by) == (JobStatus.SUCCESS, 2, "B")
    assert json.loads(row.data)["Keyword"]


def test_attempt_limit_fails_with_code(rt: Runtime, tmp_path: Path) -> None:
    job_id = _job(rt, tmp_path)
    reaper = Reaper(rt)
    for holder in ("A", "B"):
        assert jobrepo.claim(rt.engine, job_id, holder, 0.1)
        time.sleep(0.2)
        reaper.sweep()
    row = _row(rt, job_id)
    assert row.status == JobStatus.FAIL and row.code == "JobAttemptsExhausted" and row.message


def test_run_job_writes_result_and_event_once(rt: Runtime, tmp_path: Path) -> None:
    job_id = _job(rt, tmp_path)
    rt.settings.callbacks.allow_private_targets = True  # no DNS here; nothing is sent in this test
    rt.callbacks.set(rt.accounts.ensure_account("acme"), app_id="app-1000000", callback_type="HTTP",
                     callback_url="http://127.0.0.1:9/cb", event_types="AIComplete", auth_switch="off", auth_key="")
    assert run_job(rt, job_id, "A") == JobStatus.SUCCESS
    assert run_job(rt, job_id, "B") is None  # already done: nobody can claim it again
    with rt.engine.connect() as conn:
        events = conn.execute(select(outbox).where(outbox.c.job_id == job_id)).all()
    assert len(events) == 1 and json.loads(events[0].body)["EventType"] == "AIVideoTagComplete"
