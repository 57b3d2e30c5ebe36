"""Disk faults (issue 10 #10): a full disk gives 503 ServiceUnavailable (never 500) and shows on
/healthz; a read-only data folder stops the server with one clear line; a job whose worker died while
the disk was full is re-leased once the store takes writes again.

Both ways: a real small tmpfs (when this runs as root and may mount), and ENOSPC / SQLITE_FULL
injected at the storage and store boundary (always)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import sqlalchemy.exc
from sqlalchemy import insert, select

from openvod.api import signing
from openvod.api.rpc import RawRequest, RpcApi
from openvod.app import OpenVodApp
from openvod.config import BlobSettings, MediaSettings, Settings
from openvod.engine.inprocess import WorkerPool
from openvod.engine.registry import AnalyzerRegistry
from openvod.runtime import Runtime
from openvod.storage import health
from openvod.store.tables import jobs
from tests.conftest import REPO, Server, free_port, settings_db, wait_for
from tests.media import make_video
from tests.sdk import v1_params, v1_request

ENVELOPE_KEYS = ["RequestId", "HostId", "Code", "Message", "Recommend"]


# ------------------------------------------------------------------------------------ in process
@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    s = Settings(data_dir=tmp_path / "data", database_url=settings_db(tmp_path / "data"),
                 media=MediaSettings(allowed_roots=[str(tmp_path)]),
                 blobs=BlobSettings(min_free_bytes=0))
    r = Runtime(s, registry=AnalyzerRegistry())
    yield r
    r.close()


def _rpc(rt: Runtime, action: str, params: dict[str, str]) -> tuple[int, dict[str, Any]]:
    k = rt.accounts.create_key("acme")
    key = SimpleNamespace(id=k.access_key_id, secret=k.secret)
    p = v1_params(key, action, params)
    p["Signature"] = signing.v1_sign(key.secret, signing.v1_string_to_sign("GET", p))
    resp = RpcApi(rt).handle(RawRequest("GET", urlencode(p).encode(), {"host": ["localhost"]}))
    return resp.status, json.loads(resp.body)


def _enospc(*a: Any, **kw: Any) -> Any:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _sqlite_full(*a: Any, **kw: Any) -> Any:
    raise sqlalchemy.exc.OperationalError("INSERT INTO media ...", {}, sqlite3.OperationalError("database or disk is full"))


def _bug(*a: Any, **kw: Any) -> Any:
    raise RuntimeError("a real bug")


@pytest.mark.parametrize("fault,status,code", [
    (_enospc, 503, "ServiceUnavailable"),
    (_sqlite_full, 503, "ServiceUnavailable"),
    (_bug, 500, "InternalError"),  # anything else is still a bug, reported as such
])
def test_write_fault_maps_to_503(rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 fault: Any, status: int, code: str) -> None:
    clip = make_video(tmp_path / "v.mp4", seconds=0.5)
    monkeypatch.setattr(rt.blobs, "put_file", fault)
    st, body = _rpc(rt, "RegisterMedia", {"RegisterMetadatas": json.dumps([{"FileURL": str(clip), "Title": "v"}])})
    assert (st, body["Code"]) == (status, code), body
    assert list(body) == ENVELOPE_KEYS


def test_disk_fault_recognised_through_wrappers() -> None:
    assert health.disk_fault(OSError(errno.EROFS, "ro"))
    wrapped = sqlalchemy.exc.OperationalError("x", {}, sqlite3.OperationalError("attempt to write a readonly database"))
    assert health.disk_fault(wrapped)
    try:
        try:
            _enospc()
        except OSError as e:
            raise ValueError("while copying") from e
    except ValueError as outer:
        assert health.disk_fault(outer)
    assert health.disk_fault(RuntimeError("x")) is None
    assert health.disk_fault(sqlite3.OperationalError("no such table: x")) is None


def test_healthz_reports_low_space_and_failing_writes(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    app = OpenVodApp(rt)
    assert app._health().status == 200
    rt.settings.blobs.min_free_bytes = 1 << 62
    r = app._health()
    assert r.status == 503 and "free" in json.loads(r.body)["error"]
    rt.settings.blobs.min_free_bytes = 0

    def no_write(*a: Any, **kw: Any) -> Any:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("builtins.open", no_write)
    r = app._health()
    assert r.status == 503 and "No space left" in json.loads(r.body)["error"]


def test_dead_worker_job_is_released_once_the_store_takes_writes(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """The supervisor could not give a dead worker's job back (disk full); it keeps trying, and the job
    goes back to the queue as soon as writes work, long before its lease would expire."""
    t = time.time()
    with rt.engine.begin() as conn:
        conn.execute(insert(jobs).values(
            id="j1", account_id="a", media_id="m", type="AIVideoTag", status="processing", created_at=t,
            started_at=t, claimed_by="worker:dead", lease_until=t + 3600, attempts=1))
    pool = WorkerPool(rt, size=1)
    from openvod.store import jobrepo

    real = jobrepo.requeue_if_holder
    monkeypatch.setattr(jobrepo, "requeue_if_holder", _sqlite_full)
    pool._pending_release.add("worker:dead")
    pool.retry_releases()  # the disk is full: nothing happens, nothing is lost
    with rt.engine.connect() as conn:
        assert conn.execute(select(jobs.c.status).where(jobs.c.id == "j1")).scalar() == "processing"
    assert pool._pending_release == {"worker:dead"}
    monkeypatch.setattr(jobrepo, "requeue_if_holder", real)
    pool.retry_releases()  # space again: re-leased
    with rt.engine.connect() as conn:
        row = conn.execute(select(jobs.c.status, jobs.c.claimed_by).where(jobs.c.id == "j1")).one()
    assert tuple(row) == ("init", None)
    assert pool._pending_release == set()


# ------------------------------------------------------------------------------------ read-only
def _serve(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openvod.cli", "serve", "--data-dir", str(data_dir), "--port", str(free_port())],
        capture_output=True, text=True, timeout=120, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")},
    )


def _mount_tmpfs(where: Path, opts: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(where)], capture_output=True).returncode == 0


def _umount(where: Path) -> None:
    subprocess.run(["umount", "-l", str(where)], capture_output=True)


def test_read_only_data_folder_exits_with_one_line(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    mounted = _mount_tmpfs(ro, "size=1m,ro")
    if not mounted:
        if os.geteuid() == 0:
            pytest.skip("cannot mount a read-only tmpfs here, and root ignores file permissions")
        ro.mkdir(exist_ok=True)
        ro.chmod(0o555)
    try:
        for data_dir in (ro, ro / "data"):  # an existing read-only folder, and one that cannot be created
            r = _serve(data_dir)
            lines = [ln for ln in (r.stdout + r.stderr).splitlines() if ln.strip()]
            assert r.returncode != 0
            assert "Traceback" not in r.stderr, r.stderr
            assert len(lines) == 1 and lines[0].startswith("openvod: ") and str(ro) in lines[0], lines
    finally:
        if mounted:
            _umount(ro)
        else:
            ro.chmod(0o755)


# ------------------------------------------------------------------------------------ a real full disk
def test_full_tmpfs_gives_503_and_unhealthy_then_recovers(tmp_path: Path) -> None:
    mnt = tmp_path / "mnt"
    if not _mount_tmpfs(mnt, "size=24m"):
        pytest.skip("needs root and permission to mount a tmpfs")
    srv = Server(mnt / "data", free_port(), env={"OPENVOD_BLOBS__MIN_FREE_BYTES": str(1 << 20),
                                                   "OPENVOD_ENGINE__WORKERS": "1"})
    try:
        srv.start()
        key = srv.key("acme")
        clips = [make_video(mnt / f"v{i}.mp4", seconds=0.5, seed=i) for i in range(2)]

        def register(p: Path) -> httpx.Response:
            return v1_request(srv.url, key, "RegisterMedia",
                              {"RegisterMetadatas": json.dumps([{"FileURL": str(p), "Title": p.stem}])}, method="POST")

        assert register(clips[0]).status_code == 200
        filler = mnt / "filler"
        with open(filler, "wb", buffering=0) as fh:  # fill the disk to the last block
            for chunk in (1 << 20, 1 << 16, 4096, 512, 1):
                try:
                    while True:
                        fh.write(b"\0" * chunk)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
        r = register(clips[1])
        assert r.status_code == 503, r.text
        body = r.json()
        assert body["Code"] == "ServiceUnavailable" and list(body) == ENVELOPE_KEYS
        h = httpx.get(srv.url + "/healthz", timeout=10)
        assert h.status_code == 503 and h.json()["disk"], h.text
        filler.unlink()
        wait_for(lambda: httpx.get(srv.url + "/healthz", timeout=10).status_code == 200, timeout=20)
        r = register(clips[1])
        assert r.status_code == 200 and r.json()["RegisteredMediaList"], r.text
    finally:
        srv.stop()
        _umount(mnt)


def test_result_that_cannot_be_stored_is_given_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker whose job result hits a full disk stays alive and gives the job back at once (it used
    to die, or the job waited for its lease to expire); the next attempt succeeds."""
    import multiprocessing as mp
    import threading

    from openvod.engine import inprocess, runner

    s = Settings(data_dir=tmp_path / "data", database_url=settings_db(tmp_path / "data"),
                 media=MediaSettings(allowed_roots=[str(tmp_path)]),
                 plugins=["tests.plugins:register"])
    s.engine.lease_s = 3600  # a lease that would never expire during the test
    s.engine.poll_interval_s = 0.05
    rt = Runtime(s)
    try:
        acct = rt.accounts.ensure_account("acme")
        clip = make_video(tmp_path / "v.mp4", seconds=0.5)
        done, _ = rt.media.register(acct, [{"file_url": str(clip), "title": "v", "description": "", "tags": "",
                                            "cover_url": "", "cate_id": None}])
        jid = rt.jobs.create_jobs(acct, done[0].media_id, [{"type": "AIVideoTag", "config": "{}", "user_data": ""}])[0]
        real = runner._succeed
        calls: list[int] = []

        def full_once(*a: Any, **kw: Any) -> Any:
            calls.append(1)
            if len(calls) == 1:
                _sqlite_full()
            return real(*a, **kw)

        monkeypatch.setattr(runner, "_succeed", full_once)
        monkeypatch.setattr(inprocess.signal, "signal", lambda *a: None)  # not the main thread here
        ctx = mp.get_context("spawn")
        stop, wake = ctx.Event(), ctx.Event()
        t = threading.Thread(target=inprocess._worker_main,
                             args=(s.model_dump_json(), "worker:test:1", wake, stop, None, 0, Runtime), daemon=True)
        t.start()

        def status() -> Any:
            with rt.engine.connect() as conn:
                return conn.execute(select(jobs.c.status, jobs.c.attempts).where(jobs.c.id == jid)).one()

        row = wait_for(lambda: (r := status()) and r.status in ("success", "fail") and r, timeout=60)
        stop.set()
        wake.set()
        t.join(10)
        assert (row.status, row.attempts) == ("success", 2)
        assert len(calls) == 2
    finally:
        rt.close()
