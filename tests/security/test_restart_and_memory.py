"""Replay after a restart (defect 8) and memory at registration of a huge-resolution file (defect 6),
each against its own ``openvod serve`` subprocess."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from openvod.api import signing
from openvod.media.probe import ProbeError, probe
from tests.conftest import Server, db_connect, free_port
from tests.media import make_video
from tests.sdk import v1_params, v1_request
from tests.security.hugemedia import make_huge_flv, make_huge_h264

FORM = {"content-type": "application/x-www-form-urlencoded"}


def signed_body(key, action: str, params: dict[str, str], nonce: str) -> bytes:  # type: ignore[no-untyped-def]
    p = v1_params(key, action, params, nonce=nonce)
    p["Signature"] = signing.v1_sign(key.secret, signing.v1_string_to_sign("POST", p))
    return urlencode(p).encode()


def post(srv: Server, body: bytes) -> httpx.Response:
    r = httpx.post(srv.url + "/", content=body, headers=FORM, timeout=30)
    assert r.status_code < 500, r.text
    return r


def kill_hard(srv: Server) -> None:
    """kill -9 the server, then the worker processes it leaves behind (this test started them)."""
    workers = srv.worker_pids()
    srv.stop(signal.SIGKILL)
    for pid in workers:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture()
def own_server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path / "data", free_port())
    yield srv
    if srv.proc is not None:
        kill_hard(srv)


def test_replay_refused_after_restart(own_server: Server, tmp_path: Path) -> None:
    srv = own_server.start()
    key = srv.key("replayer")
    video = make_video(tmp_path / "r.mp4", seconds=1.0)
    r = v1_request(srv.url, key, "RegisterMedia",
                   {"RegisterMetadatas": json.dumps([{"FileURL": str(video), "Title": "r"}])}, method="POST")
    media_id = r.json()["RegisteredMediaList"][0]["MediaId"]

    submit = signed_body(key, "SubmitAIJob", {"MediaId": media_id, "Types": "AIVideoTag"}, "nonce-submit-1")
    poll = signed_body(key, "ListAIJob", {"JobIds": "x"}, "nonce-poll-1")
    assert post(srv, submit).status_code == 200
    assert post(srv, poll).status_code == 200
    for body in (submit, poll):  # same process: refused by the in-memory store
        assert post(srv, body).json()["Code"] == "SignatureNonceUsed"

    # Read-only nonces are written in 0.2 s batches (a crash may lose the last batch, by design): wait
    # until that batch is in the database, so that the loaded machine's scheduling decides nothing here.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with db_connect(srv.data_dir) as db:
            if db.execute("SELECT count(*) FROM request_nonces").fetchone()[0] >= 3:  # register, submit, poll
                break
        time.sleep(0.1)

    # A crash: the mutating request's nonce was written before it ran, so it survives kill -9.
    kill_hard(srv)
    srv.start()
    r = post(srv, submit)
    assert r.status_code == 400 and r.json()["Code"] == "SignatureNonceUsed", r.text

    # A graceful restart also keeps the batched nonces of read-only requests.
    srv.stop(signal.SIGTERM)
    srv.start()
    for body in (submit, poll):
        r = post(srv, body)
        assert r.status_code == 400 and r.json()["Code"] == "SignatureNonceUsed", r.text
    # Fresh requests still work, and the replayed SubmitAIJob made no second job.
    fresh = signed_body(key, "SubmitAIJob", {"MediaId": media_id, "Types": "AIVideoTag"}, "nonce-submit-2")
    assert post(srv, fresh).status_code == 200
    with db_connect(srv.data_dir) as db:
        n = db.execute("SELECT count(*) FROM jobs WHERE media_id = ?", (media_id,)).fetchone()[0]
    assert n == 2


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_huge_resolution_file_costs_little_memory(own_server: Server, tmp_path: Path) -> None:
    """A 2 KB H.264 file that declares 15000x15000 used to cost ~1 GB in the API server when
    registered (FFmpeg decodes frames while describing the streams). Four at once now stay small,
    and each is refused with the reason."""
    media = own_server.data_dir.parent / "media"
    media.mkdir(parents=True, exist_ok=True)
    files = [make_huge_h264(media / f"huge{i}.h264") for i in range(4)]
    assert all(f.stat().st_size < 10_000 for f in files)
    srv = own_server.start()
    key = srv.key("huge")
    assert srv.proc is not None
    before = _peak_rss_mb(srv.proc.pid)
    results: list[httpx.Response] = []

    def reg(f: Path) -> None:
        results.append(v1_request(srv.url, key, "RegisterMedia",
                                  {"RegisterMetadatas": json.dumps([{"FileURL": str(f), "Title": "h"}])},
                                  method="POST"))

    threads = [threading.Thread(target=reg, args=(f,)) for f in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(results) == 4
    for r in results:
        assert r.status_code == 200, r.text
        assert r.json()["RegisteredMediaList"] == [] and len(r.json()["FailedFileURLs"]) == 1
    peak = _peak_rss_mb(srv.proc.pid)
    print(f"server peak RSS: {before:.0f} MB before registering, {peak:.0f} MB after 4 huge files at once")
    log = srv.log_path.read_text() if srv.log_path else ""
    assert "15000x15000" in log and "media.max_pixels" in log
    assert peak < 300, f"peak RSS {peak:.0f} MB (before registering: {before:.0f} MB)"
    assert peak - before < 120, f"registration grew the server by {peak - before:.0f} MB"


def test_probe_bounds_decode_size(tmp_path: Path) -> None:
    video = make_video(tmp_path / "v.mp4", seconds=0.5, size=(320, 240))
    assert probe(video, max_pixels=320 * 240).width == 320
    with pytest.raises(ProbeError, match="max_pixels"):
        probe(video, max_pixels=320 * 239)
    huge = make_huge_h264(tmp_path / "h.h264", 4096, 4096)
    with pytest.raises(ProbeError, match="4096x4096"):
        probe(huge, max_pixels=4000 * 4000)


def test_probe_of_lazy_stream_container_runs_in_a_limited_child(tmp_path: Path) -> None:
    """FLV exposes its streams only while FFmpeg reads packets (decoder limits cannot be set first):
    it is probed in a child process under a memory limit, and the huge one is still refused."""
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ProbeError, match="15000x15000|memory limit"):
        probe(make_huge_flv(tmp_path / "h.flv"))
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024  # KB: this process stayed small
