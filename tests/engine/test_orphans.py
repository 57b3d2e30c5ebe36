"""No process of a server outlives it (issue 10 #9): kill -9 the server at every moment of a worker's
life (just spawned and still starting, idle, mid-job, after a sibling was killed and replaced) and
with extra API processes; every child must be gone within seconds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from alibabacloud_vod20170321 import models as m

from tests.procs import alive, children, spawned_children
from tests.conftest import Server, free_port, wait_for
from tests.media import make_video
from tests.sdk import new_client








def _started_workers(srv: Server) -> int:
    assert srv.log_path is not None
    return srv.log_path.read_text(errors="replace").count('"worker started"')


# Each case starts a server; the two moments the old parent check already covered run with -m slow.
MOMENTS = [
    "just-spawned",
    "mid-job",
    "api-processes",
    pytest.param("idle", marks=pytest.mark.slow),
    pytest.param("replaced", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("moment", MOMENTS)
def test_no_child_outlives_a_killed_server(moment: str, tmp_path: Path) -> None:
    env = {"OPENVOD_ENGINE__WORKERS": "2", "OPENVOD_TEST_JOB_SECONDS": "60"}
    if moment == "api-processes":
        env["OPENVOD_API__PROCESSES"] = "2"
    srv = Server(tmp_path / "data", free_port(), env=env).start()
    seen: set[int] = set()
    try:
        assert srv.proc is not None
        server_pid = srv.proc.pid
        wait_for(lambda: _started_workers(srv) >= 2, timeout=60)
        seen |= set(children(server_pid))
        if moment == "mid-job":
            c = new_client(srv.endpoint, srv.key("acme"))
            clip = make_video(tmp_path / "c.mp4", seconds=1.0)
            body = c.register_media(m.RegisterMediaRequest(
                register_metadatas=json.dumps([{"FileURL": str(clip), "Title": "c"}]))).body
            mid = body.registered_media_list[0].media_id
            for _ in range(2):
                c.submit_aijob(m.SubmitAIJobRequest(media_id=mid, types="AIVideoTag"))
            runlog = srv.data_dir / "runs.log"
            wait_for(lambda: runlog.exists() and len(runlog.read_text().splitlines()) >= 2, timeout=60)
        elif moment in ("just-spawned", "replaced"):
            ws = spawned_children(server_pid)
            assert ws, subprocess.run(["ps", "-ww", "-o", "pid=,ppid=,stat=,args=", "-A"], capture_output=True, text=True).stdout
            victim = ws[0]
            os.kill(victim, signal.SIGKILL)
            if moment == "just-spawned":  # kill the server while the replacement is still starting
                new = wait_for(lambda: set(children(server_pid)) - seen, timeout=30, interval=0.01)
                seen |= new
            else:
                wait_for(lambda: _started_workers(srv) >= 3, timeout=60)
        seen |= set(children(server_pid))
        srv.proc.kill()
        srv.proc.wait(10)
        srv.proc = None
        gone_by = time.monotonic() + 10
        while time.monotonic() < gone_by and any(alive(p) for p in seen):
            time.sleep(0.05)
        left = [p for p in seen if alive(p)]
        assert not left, f"{moment}: children alive 10 s after the server was killed: {left}"
    finally:
        srv.stop()
        for p in seen:  # never leave an orphan behind, even when the assertion failed
            try:
                with open(f"/proc/{p}/cmdline", "rb") as fh:
                    ours = b"multiprocessing" in fh.read()
                if ours and alive(p):
                    os.kill(p, signal.SIGKILL)
            except OSError:
                pass
