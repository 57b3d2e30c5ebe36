"""Console pages in-process (no browser): library paging and search, delete, jobs filters and retry,
settings (a key's secret is shown once), language switch."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import update

from openvod.console.app import ConsoleApp
from openvod.store.tables import jobs
from tests.console.client import Client, add_user, make_runtime
from tests.media import make_video


def test_pages(tmp_path: Path) -> None:
    rt = make_runtime(tmp_path / "data", page_size=2)
    add_user(rt, "acme", "ann")
    c = Client(ConsoleApp(rt, ThreadPoolExecutor(1)))
    assert c.sign_in("ann").status == 303
    clip = make_video(tmp_path / "c.mp4", seconds=1.0)
    ids = [c.upload(clip, f"{name}.mp4")[1]["VideoId"] for name in ("alpha", "beta", "gamma")]
    acc = rt.accounts.find_account("acme")

    # library: newest first, two per page, search by title
    p1, p2 = c.get("/console/library"), c.get("/console/library?page=2")
    assert [ids[2].encode() in p1.body, ids[1].encode() in p1.body, ids[0].encode() in p2.body] == [True, True, True]
    assert b'id="next"' in p1.body and b'id="prev"' in p2.body
    found = c.get("/console/library?q=bet")
    assert ids[1].encode() in found.body and ids[0].encode() not in found.body
    assert b'class="inline confirm"' in p1.body  # delete asks first (console.js)

    # jobs: a failure shows Code and Message with Retry; retry queues the same job again
    jid = rt.jobs.submit(acc, ids[0], "AIMediaDNA", "{}", "")[0]["JobId"]
    with rt.engine.begin() as conn:
        conn.execute(update(jobs).where(jobs.c.id == jid).values(status="fail", code="InvalidVideo.Damaged",
                                                                 message="The video cannot be decoded."))
    page = c.get("/console/jobs?status=fail&type=AIMediaDNA")
    assert b"InvalidVideo.Damaged" in page.body and b"The video cannot be decoded." in page.body
    assert c.get("/console/jobs?status=success").body.count(jid.encode()) == 0
    assert c.get("/console/jobs?since=2000-01-01T00:00&until=2001-01-01T00:00").body.count(jid.encode()) == 0
    assert c.post(f"/console/jobs/{jid}/retry").status == 303
    _n, rows = rt.jobs.list_account(acc, media_id=ids[0])
    assert [(r.type, r.status) for r in rows] == [("AIMediaDNA", "init"), ("AIMediaDNA", "fail")]
    assert c.post(f"/console/jobs/{rows[0].id}/retry").status == 400  # only failures are retried

    # the video page's job table and its JSON view carry the Progress
    state = c.get(f"/console/video/{ids[0]}/state.json")
    assert state.status == 200 and b'"Progress": "0"' in state.body

    # delete
    assert c.post(f"/console/video/{ids[0]}/delete").status == 303
    assert c.get(f"/console/video/{ids[0]}").status == 404

    # settings: a new key's secret appears once
    r = c.post("/console/settings/keys")
    secret = re.search(rb'id="new-secret">AccessKeySecret ([A-Za-z0-9]+)<', r.body).group(1)
    assert secret not in c.get("/console/settings").body
    key_id = rt.accounts.list_keys("acme")[0].access_key_id
    assert c.post(f"/console/settings/keys/{key_id}/disable").status == 303
    assert rt.accounts.list_keys("acme")[0].status == "Inactive"

    # language: Simplified Chinese and back; only safe redirect targets
    r = c.get("/console/lang?to=zh-CN&next=/console/jobs")
    assert dict(r.headers)["location"] == "/console/jobs"
    assert "媒资库".encode() in c.get("/console/library").body
    assert dict(c.get("/console/lang?to=en&next=https://evil.example/").headers)["location"] == "/console/library"
    assert b">Library<" in c.get("/console/library").body
    rt.close()


def test_console_paths_stay_the_consoles_on_a_bucket_host(tmp_path: Path) -> None:
    """Virtual-host routing (Host: <bucket>.<host>) sends object requests to the object endpoint, but
    /console stays the console's, and the upload form then posts to / on that host."""
    import json

    from openvod.oss.asgi import OssAsgi

    rt = make_runtime(tmp_path / "data")
    oss = OssAsgi(rt, threads=1)
    host = [(b"host", b"openvod.example.com")]
    for path in ("/console", "/console/library", "/console/upload/address"):
        assert oss.route({"path": path, "method": "POST", "headers": host}) is None, path
    assert oss.route({"path": "/sv/x.mp4", "method": "PUT", "headers": host}) == ("openvod", "sv/x.mp4")
    add_user(rt, "acme", "ann")
    c = Client(ConsoleApp(rt, ThreadPoolExecutor(1)))
    assert c.sign_in("ann").status == 303
    r = c.request("POST", "/console/upload/address", form={"name": "a.mp4", "size": 10},
                  headers={"X-CSRF-Token": c.csrf, "Host": "openvod.example.com"})
    assert json.loads(r.body)["Post"]["URL"] == "/"
    r = c.request("POST", "/console/upload/address", form={"name": "a.mp4", "size": 10},
                  headers={"X-CSRF-Token": c.csrf, "Host": "127.0.0.1:8080"})
    assert json.loads(r.body)["Post"]["URL"] == "/openvod/"
    oss.pool.shutdown()
    rt.close()
