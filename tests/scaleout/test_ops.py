"""Operations against PostgreSQL, a real broker (Redis, RabbitMQ) and an ``openvod worker`` (``-m scaleout``):

- ``openvod jobs cancel`` of a job a Celery worker runs: the worker's next heartbeat fails, the job
  ends ``fail`` JobCancelled once, with one callback event; ``openvod jobs requeue`` publishes it on
  the broker and the worker runs it again (its event gets the next dedupe key);
- a worker process too stuck to run its heartbeat thread (SIGSTOP) is killed by Celery's hard time
  limit (the job's limit + margin), its lease runs out, the sweep re-queues and publishes the job,
  and the freed pool slot (concurrency 1) runs it to success;
- ``/readyz`` with every dependency up: database, broker, object store, Redis nonces.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from openvod.cli import main
from openvod.config import load_settings
from openvod.engine.celery_app import Dispatcher
from openvod.readiness import Readiness
from openvod.runtime import Runtime
from openvod.services.media import validate_metadata
from openvod.store.tables import jobs, outbox
from tests.brokers import reachable
from tests.conftest import REPO, pg_database, wait_for
from tests.media import make_video
from tests.scaleout.conftest import AMQP_URL, REDIS_URL
from tests.seaweed import SeaweedFS

pytestmark = pytest.mark.scaleout



@pytest.fixture(params=["redis", "rabbitmq"])
def deployment(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    broker = REDIS_URL if request.param == "redis" else AMQP_URL
    if not reachable(broker):
        pytest.skip(f"no {request.param} broker at {broker}")
    tag = uuid.uuid4().hex[:8]
    data = tmp_path / "data"
    (tmp_path / "markers").mkdir()
    env = {
        "OPENVOD_DATABASE_URL": pg_database(f"ovops_{tag}"),
        "OPENVOD_SCALE__BROKER_URL": broker,
        "OPENVOD_SCALE__QUEUES": json.dumps({"AIVideoTag": f"tag-{tag}"}),
        "OPENVOD_SCALE__SWEEP_INTERVAL_S": "0.5",
        "OPENVOD_SCALE__REPUBLISH_AFTER_S": "60",
        "OPENVOD_SCALE__HARD_TIME_LIMIT_MARGIN_S": "2",
        "OPENVOD_ENGINE__LEASE_S": "2",
        "OPENVOD_ENGINE__HEARTBEAT_S": "0.5",
        "OPENVOD_ENGINE__TIME_LIMITS": json.dumps({"AIVideoTag": {"base_s": 4, "per_media_s": 0}}),
        "OPENVOD_MEDIA__ALLOWED_ROOTS": json.dumps([str(tmp_path)]),
        "OPENVOD_CALLBACKS__ALLOW_PRIVATE_TARGETS": "true",
        "OPENVOD_PLUGINS": '["tests.scaleout.ops_plugin:register"]',
        "OPENVOD_TEST_MARKERS": str(tmp_path / "markers"),
        "OPENVOD_TEST_RUNLOG": str(tmp_path / "runs.log"),
        "OPENVOD_LOG_JSON": "false",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    rt = Runtime(load_settings(None, data_dir=data))  # this process is the API node: publisher + sweep
    dispatcher = Dispatcher(rt)
    rt.wake = dispatcher.wake
    dispatcher.start()
    log_path = tmp_path / "worker.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "openvod.cli", "worker", "--data-dir", str(data), "--queues", f"tag-{tag}",
         "--concurrency", "1", "--hostname", f"ops-{tag}@%h"],
        stdout=open(log_path, "wb"), stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")})
    try:
        yield {"rt": rt, "data": data, "log": log_path, "runlog": tmp_path / "runs.log", "tmp": tmp_path}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        dispatcher.stop()
        rt.close()


def _submit(d: dict[str, Any], title: str) -> str:
    rt: Runtime = d["rt"]
    acc = rt.accounts.ensure_account("acme")
    rt.callbacks.set(acc, app_id="app-1000000", callback_type="HTTP", callback_url="http://127.0.0.1:9/cb",
                     event_types="AIComplete", auth_switch="off", auth_key="")
    video = make_video(d["tmp"] / f"{title}.mp4", seconds=1.0)
    done, _ = rt.media.register(acc, [validate_metadata({"FileURL": str(video), "Title": title}, 0)])
    return str(rt.jobs.submit(acc, done[0].media_id, "AIVideoTag", "", "")[0]["JobId"])


def _runs(d: dict[str, Any], job_id: str) -> list[int]:
    p: Path = d["runlog"]
    return [int(x.split()[1]) for x in p.read_text().splitlines() if x.startswith(job_id)] if p.exists() else []


def _job(d: dict[str, Any], job_id: str) -> Any:
    with d["rt"].engine.connect() as conn:
        return conn.execute(select(jobs).where(jobs.c.id == job_id)).first()


def _seqs(d: dict[str, Any], job_id: str) -> list[int]:
    with d["rt"].engine.connect() as conn:
        return sorted(r.seq for r in conn.execute(select(outbox.c.seq).where(outbox.c.job_id == job_id)))


def _cli(d: dict[str, Any], *args: str) -> tuple[int, Any]:
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "stdout", out)
        rc = main(["jobs", *args, "--json", "--data-dir", str(d["data"])])
    return rc, json.loads(out.getvalue())


def test_cancel_requeue_and_hard_time_limit_on_a_celery_worker(deployment: dict[str, Any]) -> None:
    d = deployment
    # Cancel a job the worker runs: its next heartbeat fails, it stops; the job ends fail once.
    slow = _submit(d, "slow")
    wait_for(lambda: _runs(d, slow), timeout=90)
    rc, out = _cli(d, "cancel", slow)
    assert rc == 0 and out["Jobs"][0]["Ok"] and "running on celery:" in out["Jobs"][0]["Message"], out
    wait_for(lambda: b"lease lost" in d["log"].read_bytes(), timeout=30)
    row = _job(d, slow)
    assert (row.status, row.code, row.data) == ("fail", "JobCancelled", None)
    assert _seqs(d, slow) == [0]
    # Requeue: published on the broker, run again by the worker, reported as a new event.
    rc, out = _cli(d, "requeue", slow)
    assert rc == 0 and out["Wake"] == "published 1 wake-up(s) on the broker", out
    wait_for(lambda: _job(d, slow).status == "success", timeout=60)
    assert len(_runs(d, slow)) == 2 and _seqs(d, slow) == [0, 1] and _job(d, slow).attempts == 1

    # A worker process frozen mid-job (heartbeat thread included) is killed by the hard time limit
    # (4 s + 2 s); the sweep re-queued the job when its lease ran out, and the freed slot runs it.
    stuck = _submit(d, "stuck")
    first = wait_for(lambda: _runs(d, stuck), timeout=60)[0]
    t0 = time.monotonic()
    wait_for(lambda: _job(d, stuck).status == "success", timeout=90)
    assert time.monotonic() - t0 < 60
    pids = _runs(d, stuck)
    assert len(pids) == 2 and pids[0] == first and pids[1] != first
    assert _job(d, stuck).attempts == 2 and _seqs(d, stuck) == [0]
    assert b"Hard time limit" in d["log"].read_bytes()
    with pytest.raises(ProcessLookupError):
        os.kill(first, 0)


def test_readyz_with_every_dependency_up(seaweed: SeaweedFS, tmp_path: Path) -> None:
    for broker in (REDIS_URL, AMQP_URL):
        if not reachable(broker):
            pytest.skip(f"no broker at {broker}")
        settings = load_settings(None, data_dir=tmp_path / uuid.uuid4().hex[:6], database_url=pg_database("ovops_ready"),
                                 blobs={"backend": "s3", "s3": {"endpoint_url": seaweed.endpoint, "bucket": "ready",
                                                                "access_key_id": "a", "secret_access_key": "b"}},
                                 scale={"role": "api", "broker_url": broker, "nonce_store": "redis",
                                        "redis_url": REDIS_URL})
        rt = Runtime(settings)
        ready = Readiness(rt)
        try:
            code, body = ready.run()
            assert code == 200, body
            assert set(body["checks"]) == {"database", "disk", "broker", "object_store", "nonce_store"}
            assert all(c["ok"] and c["latency_ms"] < 2000 for c in body["checks"].values()), body
        finally:
            ready.close()
            rt.close()
