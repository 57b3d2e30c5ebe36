"""Fault tests: killed workers, server restarts with queued work, failing callback receivers, broken media."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from alibabacloud_vod20170321 import models as m

from openvod.notify.delivery import vod_signature
from tests.procs import alive
from tests.conftest import Server, db_connect, free_port, wait_for
from tests.media import make_video
from tests.receiver import CallbackReceiver
from tests.sdk import new_client


def _register(c, path: Path) -> str:  # type: ignore[no-untyped-def]
    body = c.register_media(
        m.RegisterMediaRequest(register_metadatas=json.dumps([{"FileURL": str(path), "Title": path.stem}]))
    ).body
    assert body.failed_file_urls == [], body
    return str(body.registered_media_list[0].media_id)


def _submit(c, mid: str, user_data: str = "") -> str:  # type: ignore[no-untyped-def]
    req = m.SubmitAIJobRequest(media_id=mid, types="AIVideoTag", user_data=user_data or None)
    return str(c.submit_aijob(req).body.aijob_list.aijob[0].job_id)


def _statuses(c, ids: list[str]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    out: dict[str, str] = {}
    for i in range(0, len(ids), 10):
        body = c.list_aijob(m.ListAIJobRequest(job_ids=",".join(ids[i : i + 10]))).body
        out.update({j.job_id: j.status for j in body.aijob_list.aijob})
    return out


def _runs(srv: Server, job_id: str) -> list[list[str]]:
    log = srv.data_dir / "runs.log"
    if not log.exists():
        return []
    return [line.split() for line in log.read_text().splitlines() if line.startswith(job_id)]


def _db(srv: Server):  # type: ignore[no-untyped-def]
    return db_connect(srv.data_dir)


@pytest.fixture
def fresh(tmp_path: Path):  # type: ignore[no-untyped-def]
    servers: list[Server] = []

    def make(**env: str) -> Server:
        srv = Server(tmp_path / "data", free_port(), env=env).start()
        servers.append(srv)
        return srv

    yield make
    for s in servers:
        s.stop()


def test_kill_worker_mid_job_succeeds_exactly_once(fresh, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    srv = fresh(OPENVOD_TEST_JOB_SECONDS="3", OPENVOD_ENGINE__WORKERS="1")
    key = srv.key("acme")
    c = new_client(srv.endpoint, key)
    rx = CallbackReceiver(path="/vod/callback")
    try:
        c.set_message_callback(m.SetMessageCallbackRequest(callback_type="HTTP", callback_url=rx.url,
                                                           event_type_list="AIComplete"))
        mid = _register(c, make_video(tmp_path / "k.mp4", seconds=1.0))
        job = _submit(c, mid)
        first = wait_for(lambda: _runs(srv, job), timeout=30)
        victim = int(first[0][1])
        assert _statuses(c, [job])[job] == "processing"
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: _statuses(c, [job])[job] == "success", timeout=60)
        runs = _runs(srv, job)
        assert len(runs) == 2 and int(runs[1][1]) != victim
        with _db(srv) as db:
            attempts, status = db.execute("select attempts, status from jobs where id=?", (job,)).fetchone()
            events = db.execute("select count(*) from outbox where job_id=?", (job,)).fetchone()[0]
        assert (attempts, status, events) == (2, "success", 1)
        wait_for(lambda: rx.requests, timeout=30)
        time.sleep(1.0)
        assert [r.body["JobId"] for r in rx.requests] == [job]
        assert rx.requests[0].body["Status"] == "success"
    finally:
        rx.close()


def test_restart_with_50_queued_jobs_all_end(fresh, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    srv = fresh(OPENVOD_TEST_JOB_SECONDS="0.5", OPENVOD_ENGINE__WORKERS="1")
    key = srv.key("acme")
    c = new_client(srv.endpoint, key)
    mid = _register(c, make_video(tmp_path / "q.mp4", seconds=1.0))
    jobs = [_submit(c, mid) for _ in range(50)]
    srv.stop()
    st = _statuses_db(srv, jobs)
    assert sum(1 for s in st.values() if s == "init") >= 30, st
    assert "processing" not in st.values()  # a clean stop gives held jobs back
    srv.env["OPENVOD_TEST_JOB_SECONDS"] = "0"
    srv.env["OPENVOD_ENGINE__WORKERS"] = "2"
    srv.start()
    c = new_client(srv.endpoint, key)
    wait_for(lambda: set(_statuses(c, jobs).values()) == {"success"}, timeout=120, interval=0.5)


def _statuses_db(srv: Server, ids: list[str]) -> dict[str, str]:
    with _db(srv) as db:
        q = f"select id, status from jobs where id in ({','.join('?' * len(ids))})"
        return dict(db.execute(q, ids).fetchall())


def test_server_killed_orphaned_jobs_resume(fresh, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    srv = fresh(OPENVOD_TEST_JOB_SECONDS="5", OPENVOD_ENGINE__WORKERS="2")
    key = srv.key("acme")
    c = new_client(srv.endpoint, key)
    mid = _register(c, make_video(tmp_path / "o.mp4", seconds=1.0))
    jobs = [_submit(c, mid) for _ in range(4)]
    wait_for(lambda: sum(1 for j in jobs if _runs(srv, j)) >= 2, timeout=30)
    # a machine crash: the server and its workers die at once, mid-job
    pids = srv.worker_pids()
    assert pids
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    srv.stop(sig=signal.SIGKILL)
    for pid in pids:
        wait_for(lambda pid=pid: not alive(pid), timeout=30)
    st = _statuses_db(srv, jobs)
    assert "processing" in st.values()
    srv.env["OPENVOD_TEST_JOB_SECONDS"] = "0"
    srv.start()
    c = new_client(srv.endpoint, key)
    wait_for(lambda: set(_statuses(c, jobs).values()) == {"success"}, timeout=90, interval=0.5)




def test_callback_receiver_fails_twice_then_gets_event(fresh, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    srv = fresh()
    key = srv.key("acme")
    c = new_client(srv.endpoint, key)
    rx = CallbackReceiver(path="/vod/callback", fail_first=2)
    try:
        c.set_message_callback(m.SetMessageCallbackRequest(callback_type="HTTP", callback_url=rx.url,
                                                           event_type_list="AIComplete", auth_switch="on",
                                                           auth_key="Secret123"))
        mid = _register(c, make_video(tmp_path / "cb.mp4", seconds=1.0))
        job = _submit(c, mid, '{"Extend":{"localId":"L1"}}')
        wait_for(lambda: len(rx.requests) >= 3, timeout=60)
        time.sleep(1.0)
        assert [r.code for r in rx.requests] == [500, 500, 200]
        _, code, _, headers, body = rx.requests[-1]
        assert body["EventType"] == "AIVideoTagComplete" and body["JobId"] == job and body["MediaId"] == mid
        assert body["Status"] == "success" and body["Code"] == "0" and body["Message"] == "OK"
        assert isinstance(body["Data"], str) and json.loads(body["Data"])["Keyword"]
        assert body["Extend"] == '{"localId":"L1"}'
        ts = headers["X-VOD-TIMESTAMP"]
        assert len(ts) == 10 and headers["X-VOD-SIGNATURE"] == vod_signature(rx.url, int(ts), "Secret123")
        with _db(srv) as db:
            row = db.execute("select status, attempts from outbox where job_id=?", (job,)).fetchone()
        assert row == ("delivered", 3)
    finally:
        rx.close()


def test_per_job_callback_url_legacy_string_form(fresh, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    srv = fresh()
    key = srv.key("acme")
    c = new_client(srv.endpoint, key)
    rx = CallbackReceiver(path="/vod/callback")
    try:
        mid = _register(c, make_video(tmp_path / "pj.mp4", seconds=1.0))
        ud = json.dumps({"MessageCallback": json.dumps({"CallbackURL": rx.url}), "Extend": "plain text"})
        job = _submit(c, mid, ud)
        wait_for(lambda: rx.requests, timeout=60)
        body = rx.requests[0].body
        assert body["JobId"] == job and body["Extend"] == "plain text"
        assert "X-VOD-SIGNATURE" not in rx.requests[0].headers
    finally:
        rx.close()


def test_media_broken_after_registration_fails_job(fresh, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    srv = fresh()
    key = srv.key("acme")
    c = new_client(srv.endpoint, key)
    ids = {}
    for name, damage in (("trunc", lambda b: b[:200]), ("garbage", lambda b: b[:16] + os.urandom(len(b))),
                         ("gone", None)):
        mid = _register(c, make_video(tmp_path / f"{name}.mp4", seconds=1.0, seed=len(name)))
        blob = next((srv.data_dir / "blobs" / "media").glob(f"*/{mid}/source.mp4"))
        if damage is None:
            blob.unlink()
        else:
            blob.write_bytes(damage(blob.read_bytes()))
        ids[name] = _submit(c, mid)

    def ended():  # type: ignore[no-untyped-def]
        body = c.list_aijob(m.ListAIJobRequest(job_ids=",".join(ids.values()))).body
        js = {j.job_id: j for j in body.aijob_list.aijob}
        return js if all(j.status in ("success", "fail") for j in js.values()) else None

    js = wait_for(ended, timeout=60)
    for name, jid in ids.items():
        assert js[jid].status == "fail", name
        assert js[jid].code in ("InvalidVideo.Damaged", "InvalidVideo.NoneStream"), (name, js[jid].code)
        assert js[jid].message and js[jid].complete_time
