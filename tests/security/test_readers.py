"""Read processes (api/readers.py): big reads answered from a child process, identical to in-process
answers, errors and XML included; a killed read process is replaced and its request still answered;
no read process outlives a killed server."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from openvod.api.rpc import HEAVY, OFFLOAD, READ_ONLY
from tests.procs import alive, named_children
from tests.conftest import Key, Server, db_connect, free_port, wait_for
from tests.security.test_fuzz import send






def seed(srv: Server, account: str, n: int) -> None:
    with db_connect(srv.data_dir) as db:
        acc = db.execute("SELECT id FROM accounts WHERE name = ?", (account,)).fetchone()[0]
        t = time.time()
        db.executemany(
            "INSERT INTO ai_templates (id, account_id, name, type, config, source, is_default, created_at, modified_at)"
            " VALUES (?, ?, ?, 'AIImage', ?, 'Custom', 0, ?, ?)",
            [(uuid.uuid4().hex, acc, f"t{i}", '{"Format": "png"}', t + i * 1e-3, t) for i in range(n)])


@pytest.fixture()
def srv(tmp_path: Path) -> Iterator[Server]:
    s = Server(tmp_path / "data", free_port()).start()
    yield s
    s.stop()


def test_offloaded_actions_are_pool_reads() -> None:
    """Offloaded handlers run on the thread pool side (never inline on the loop) and are not the
    registration pool's."""
    assert not OFFLOAD & READ_ONLY and not OFFLOAD & HEAVY


def test_big_reads_answered_by_a_read_process(srv: Server) -> None:
    assert srv.proc is not None
    key = srv.key("acme")
    other = srv.key("other")
    seed(srv, "acme", 120)
    assert not named_children(srv.proc.pid, "openvod-reader")  # started on the first big read, answered in-process meanwhile
    r = send(srv, key, "ListAITemplate", {"TemplateType": "AIImage"}, "get")
    assert r.status_code == 200 and r.json()["Total"] == 120, r.text
    wait_for(lambda: named_children(srv.proc.pid, "openvod-reader"), timeout=60)  # type: ignore[union-attr]
    time.sleep(3)  # it has imported and answers
    pid = named_children(srv.proc.pid, "openvod-reader")[0]  # type: ignore[union-attr]
    r = send(srv, key, "ListAITemplate", {"TemplateType": "AIImage", "PageNo": "2", "PageSize": "50"}, "get")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["RequestId"] == r.headers["x-acs-request-id"]
    assert body["Total"] == 120 and len(body["TemplateInfoList"]) == 50
    assert [t["TemplateName"] for t in body["TemplateInfoList"]] == [f"t{i}" for i in range(50, 100)]
    # The account comes from the signature checked in the API process: another account sees nothing.
    r = send(srv, other, "ListAITemplate", {"TemplateType": "AIImage"}, "post")
    assert r.status_code == 200 and r.json()["Total"] == 0, r.text
    # Errors keep their code and status; XML is rendered there too.
    r = send(srv, key, "ListAITemplate", {"TemplateType": "Nope"}, "post")
    assert r.status_code == 400 and r.json()["Code"].startswith("InvalidParameter"), r.text
    r = send(srv, key, "ListAITemplate", {"TemplateType": "AIImage", "PageSize": "1", "Format": "XML"}, "post")
    assert r.status_code == 200 and r.text.startswith("<?xml") and "<ListAITemplateResponse>" in r.text, r.text
    for action, params in [("GetVideoList", {}), ("SearchMedia", {"Match": "Title = 'x'"}), ("ListFaceLibrary", {}),
                           ("DescribeVodAIData", {"StartTime": "2024-01-01T00:00:00Z",
                                                  "EndTime": "2024-01-02T00:00:00Z"})]:
        r = send(srv, key, action, params, "v3")
        assert r.status_code == 200, (action, r.text)
    assert named_children(srv.proc.pid, "openvod-reader") == [pid]  # type: ignore[union-attr]

    # kill -9 the read process: the next requests are answered (in-process meanwhile) and it is replaced.
    os.kill(pid, signal.SIGKILL)
    for _ in range(3):
        r = send(srv, key, "ListAITemplate", {"TemplateType": "AIImage"}, "get")
        assert r.status_code == 200 and r.json()["Total"] == 120, r.text
    new = wait_for(lambda: [p for p in named_children(srv.proc.pid, "openvod-reader") if p != pid], timeout=60)  # type: ignore[union-attr]
    assert new
    wait_for(lambda: "read process" in (srv.log_path.read_text(errors="replace") if srv.log_path else ""), timeout=10)
    r = send(srv, key, "ListAITemplate", {"TemplateType": "AIImage"}, "get")
    assert r.status_code == 200 and r.json()["Total"] == 120


def test_read_process_does_not_outlive_a_killed_server(srv: Server) -> None:
    assert srv.proc is not None
    server_pid = srv.proc.pid
    r = send(srv, srv.key("acme"), "ListAITemplate", {"TemplateType": "AIImage"}, "get")
    assert r.status_code == 200, r.text
    pids = wait_for(lambda: named_children(server_pid, "openvod-reader"), timeout=60)
    srv.proc.kill()
    srv.proc.wait(10)
    srv.proc = None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.05)
    left = [p for p in pids if alive(p)]
    for p in left:
        os.kill(p, signal.SIGKILL)
    assert not left, f"read processes alive 10 s after the server was killed: {left}"


def test_read_processes_off(tmp_path: Path) -> None:
    """api.read_processes = 0: no child, the same answers from the thread pool."""
    s = Server(tmp_path / "data", free_port(), env={"OPENVOD_API__READ_PROCESSES": "0"}).start()
    try:
        key: Key = s.key("acme")
        seed(s, "acme", 3)
        r = send(s, key, "ListAITemplate", {"TemplateType": "AIImage"}, "get")
        assert r.status_code == 200 and r.json()["Total"] == 3, r.text
        assert s.proc is not None and not named_children(s.proc.pid, "openvod-reader")
    finally:
        s.stop()

