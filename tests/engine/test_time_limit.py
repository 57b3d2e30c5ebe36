"""Per-job time limits (issue 10 #12): a job past base + factor x duration ends `fail` with Code
JobTimeout, is not retried, and the worker that ran it is replaced."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from alibabacloud_vod20170321 import models as m

from openvod.config import EngineSettings, JobTimeLimit, Settings
from openvod.engine.registry import AnalyzerRegistry
from openvod.engine.runner import time_limit
from openvod.runtime import Runtime
from tests.conftest import Server, free_port, wait_for
from tests.media import make_video
from tests.sdk import new_client
from tests.conftest import settings_db


def test_time_limit_formula(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path / "d", database_url=settings_db(tmp_path / "d"), engine=EngineSettings(
        time_limits={"AIVideoTag": JobTimeLimit(base_s=10, per_media_s=2)},
        default_time_limit=JobTimeLimit(base_s=0, per_media_s=0)))
    rt = Runtime(s, registry=AnalyzerRegistry())
    try:
        total, msg = time_limit(rt, "AIVideoTag", 30.0)  # type: ignore[misc]
        assert total == 70 and "70 s" in msg and "30.0 s video" in msg
        assert time_limit(rt, "AIImage", 10.0)[0] == 900 + 4 * 10  # type: ignore[index]  # built-in default
        assert time_limit(rt, "SomethingElse", 10.0) is None  # 0 + 0 = no limit
    finally:
        rt.close()


def test_job_past_its_time_limit_fails_and_worker_is_replaced(tmp_path: Path) -> None:
    srv = Server(tmp_path / "data", free_port(), env={
        "OPENVOD_TEST_JOB_SECONDS": "60",
        "OPENVOD_ENGINE__WORKERS": "1",
        "OPENVOD_ENGINE__TIME_LIMITS": json.dumps({"AIVideoTag": {"base_s": 0.5, "per_media_s": 1.0}}),
    }).start()
    try:
        c = new_client(srv.endpoint, srv.key("acme"))
        clip = make_video(tmp_path / "t.mp4", seconds=1.0)
        body = c.register_media(m.RegisterMediaRequest(
            register_metadatas=json.dumps([{"FileURL": str(clip), "Title": "t"}]))).body
        mid = body.registered_media_list[0].media_id
        jid = c.submit_aijob(m.SubmitAIJobRequest(media_id=mid, types="AIVideoTag")).body.aijob_list.aijob[0].job_id
        t0 = time.monotonic()

        def ended():  # type: ignore[no-untyped-def]
            j = c.list_aijob(m.ListAIJobRequest(job_ids=jid)).body.aijob_list.aijob[0]
            return j if j.status in ("success", "fail") else None

        j = wait_for(ended, timeout=60)
        assert time.monotonic() - t0 < 40  # far sooner than the 60 s the analyzer would take
        assert (j.status, j.code) == ("fail", "JobTimeout")
        assert "time limit of" in j.message and "(0.5 s + 1 s per second of a" in j.message, j.message
        runs = (srv.data_dir / "runs.log").read_text().splitlines()
        assert len(runs) == 1  # a timeout is final, not retried
        victim = int(runs[0].split()[1])

        def gone() -> bool:
            try:
                os.kill(victim, 0)
            except ProcessLookupError:
                return True
            with open(f"/proc/{victim}/stat") as fh:
                return fh.read().rsplit(")", 1)[1].split()[0] == "Z"

        wait_for(gone, timeout=10)
        assert srv.log_path is not None
        wait_for(lambda: srv.log_path.read_text().count('"worker started"') >= 2, timeout=60)
    finally:
        srv.stop()


def test_pool_kills_a_worker_too_stuck_to_time_out_its_job(tmp_path: Path) -> None:
    """The backstop: a worker whose heartbeat thread cannot run (an analyzer holding the GIL) never
    fails its own job; past the limit plus a grace period the pool fails it and kills the worker."""
    import subprocess
    from types import SimpleNamespace

    from sqlalchemy import insert, select

    from openvod.engine.inprocess import WorkerPool
    from openvod.store.tables import jobs

    s = Settings(data_dir=tmp_path / "d", database_url=settings_db(tmp_path / "d"), engine=EngineSettings(
        heartbeat_s=1, time_limits={"AIVideoTag": JobTimeLimit(base_s=10, per_media_s=0)}))
    rt = Runtime(s, registry=AnalyzerRegistry())
    stuck = subprocess.Popen(["sleep", "60"])
    fine = subprocess.Popen(["sleep", "60"])
    try:
        t = time.time()
        with rt.engine.begin() as conn:
            for jid, wid, started in (("old", "worker:h:1:stuck", t - 100), ("new", "worker:h:2:fine", t - 1)):
                conn.execute(insert(jobs).values(
                    id=jid, account_id="a", media_id="m", type="AIVideoTag", status="processing", created_at=started,
                    started_at=started, claimed_by=wid, lease_until=t + 3600, attempts=1))
        pool = WorkerPool(rt, size=1)
        pool.procs = {"worker:h:1:stuck": SimpleNamespace(pid=stuck.pid),  # type: ignore[dict-item]
                      "worker:h:2:fine": SimpleNamespace(pid=fine.pid)}
        assert pool.enforce_time_limits() == 1
        assert stuck.wait(10) == -9
        assert fine.poll() is None
        with rt.engine.connect() as conn:
            st = {r.id: (r.status, r.code) for r in conn.execute(select(jobs.c.id, jobs.c.status, jobs.c.code))}
        assert st == {"old": ("fail", "JobTimeout"), "new": ("processing", "")}
    finally:
        for p in (stuck, fine):
            if p.poll() is None:
                p.kill()
            p.wait()
        rt.close()
