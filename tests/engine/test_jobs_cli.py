"""``openvod jobs cancel|requeue|list`` against a running embedded server (in-process dispatcher):
the database lease is the truth, a cancelled job ends ``fail`` once with one callback, a requeued job
runs again from scratch and reports with a new dedupe key; a running or succeeded job is refused."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from alibabacloud_vod20170321 import models as m

from openvod.cli import main
from openvod.notify.delivery import DEDUPE_HEADER
from tests.conftest import Server, db_connect, db_env, free_port, wait_for
from tests.engine.test_faults import _register, _runs, _submit
from tests.media import make_video
from tests.receiver import CallbackReceiver
from tests.sdk import new_client


def _jobs(srv: Server, *args: str) -> tuple[int, Any]:
    """``openvod jobs …`` in this process (a subprocess would start too slowly on a loaded machine)."""
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        for k, v in db_env(srv.data_dir).items():
            mp.setenv(k, v)
        mp.setattr(sys, "stdout", out)
        rc = main(["jobs", *args, "--json", "--data-dir", str(srv.data_dir)])
    return rc, json.loads(out.getvalue() or "{}")


def _row(srv: Server, job_id: str) -> tuple[str, str, str | None]:
    conn = db_connect(srv.data_dir)
    try:
        return tuple(conn.execute("SELECT status, code, data FROM jobs WHERE id = ?", (job_id,)).fetchone())  # type: ignore[return-value]
    finally:
        conn.close()


def test_cancel_and_requeue_with_the_in_process_pool(tmp_path: Path) -> None:
    srv = Server(tmp_path / "data", free_port(), env={"OPENVOD_TEST_JOB_SECONDS": "3", "OPENVOD_ENGINE__WORKERS": "1"})
    srv.start()
    rx = CallbackReceiver()
    try:
        c = new_client(srv.endpoint, srv.key("acme"))
        c.set_message_callback(m.SetMessageCallbackRequest(callback_type="HTTP", callback_url=rx.url,
                                                           event_type_list="AIComplete"))
        mid = _register(c, make_video(tmp_path / "v.mp4", seconds=1.0))
        running, queued = _submit(c, mid), _submit(c, mid)
        wait_for(lambda: _runs(srv, running), timeout=30)  # one worker: the second job waits

        rc, out = _jobs(srv, "cancel", running, queued)
        assert rc == 0, out
        by_id = {j["JobId"]: j for j in out["Jobs"]}
        assert by_id[running]["Ok"] and "running" in by_id[running]["Message"]
        assert by_id[queued]["Ok"] and "before it started" in by_id[queued]["Message"]
        # The holder's next heartbeat finds the job gone: its result is discarded, never stored.
        wait_for(lambda: b"lease lost" in srv.log_path.read_bytes(), timeout=20)  # type: ignore[union-attr]
        wait_for(lambda: len(rx.requests) >= 2, timeout=20)
        for j in (running, queued):
            assert _row(srv, j) == ("fail", "JobCancelled", None)
        assert sorted((h.body["JobId"], h.body["Status"], h.body["Code"]) for h in rx.requests) == sorted(
            [(running, "fail", "JobCancelled"), (queued, "fail", "JobCancelled")])
        assert not _runs(srv, queued)  # cancelled before any worker took it

        rc, out = _jobs(srv, "cancel", running)
        assert rc == 1 and "already ended fail" in out["Jobs"][0]["Message"]
        rc, out = _jobs(srv, "list", "--status", "fail", "--account", "acme")
        assert rc == 0 and {j["id"] for j in out} == {running, queued}

        # Requeue: a fresh attempt that runs to success; refused while it runs and once it succeeded.
        rc, out = _jobs(srv, "requeue", running)
        assert rc == 0 and out["Jobs"][0]["Status"] == "init", out
        wait_for(lambda: len(_runs(srv, running)) == 2, timeout=30)
        rc, out = _jobs(srv, "requeue", running)
        assert rc == 1 and "running on" in out["Jobs"][0]["Message"], out
        wait_for(lambda: _row(srv, running)[0] == "success", timeout=30)
        wait_for(lambda: len(rx.requests) >= 3, timeout=20)
        rc, out = _jobs(srv, "requeue", running, "no-such-job")
        assert rc == 1 and [j["Ok"] for j in out["Jobs"]] == [False, False]
        assert "succeeded" in out["Jobs"][0]["Message"] and out["Jobs"][1]["Message"] == "no such job"

        keys = {(h.body["JobId"], h.body["Status"]): h.headers[DEDUPE_HEADER] for h in rx.requests}
        assert keys == {(running, "fail"): f"{running}:AIVideoTagComplete",
                        (queued, "fail"): f"{queued}:AIVideoTagComplete",
                        (running, "success"): f"{running}:AIVideoTagComplete:1"}
        conn = db_connect(srv.data_dir)
        try:
            assert conn.execute("SELECT attempts FROM jobs WHERE id = ?", (running,)).fetchone()[0] == 1
            assert conn.execute("SELECT count(*) FROM outbox WHERE job_id = ?", (running,)).fetchone()[0] == 2
        finally:
            conn.close()
    finally:
        rx.close()
        srv.stop()
