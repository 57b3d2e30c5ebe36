"""Operability: /healthz, /metrics, JSON logs, and the operator CLI."""

from __future__ import annotations

import json

import httpx
from alibabacloud_vod20170321 import models as m

from tests.conftest import run_cli, wait_for
from tests.media import make_video
from tests.sdk import new_client


def test_healthz(server) -> None:  # type: ignore[no-untyped-def]
    r = httpx.get(server.url + "/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and "AIVideoTag" in r.json()["analyzers"]


def test_metrics_after_a_job(server, key, media_dir) -> None:  # type: ignore[no-untyped-def]
    c = new_client(server.endpoint, key)
    path = make_video(media_dir / "metrics.mp4", seconds=1.0, seed=42)
    mid = c.register_media(m.RegisterMediaRequest(
        register_metadatas=json.dumps([{"FileURL": str(path), "Title": "m"}]))).body.registered_media_list[0].media_id
    jid = c.submit_aijob(m.SubmitAIJobRequest(media_id=mid, types="AIVideoTag")).body.aijob_list.aijob[0].job_id
    wait_for(lambda: c.list_aijob(m.ListAIJobRequest(job_ids=jid)).body.aijob_list.aijob[0].status == "success")
    # The database figures are cached for scale.metrics_cache_s (2 s): an earlier scrape may be reused.
    def scrape() -> str:
        t = httpx.get(server.url + "/metrics").text
        return t if 'openvod_jobs{status="success",type="AIVideoTag"}' in t else ""

    text = wait_for(scrape, timeout=10)
    assert 'openvod_jobs{status="success",type="AIVideoTag"}' in text
    assert "openvod_queue_depth" in text
    assert 'openvod_job_duration_seconds_bucket{le="+Inf",type="AIVideoTag"}' in text
    assert 'openvod_rpc_requests_total{action="SubmitAIJob",status="200"}' in text


def test_logs_are_json_lines(server) -> None:  # type: ignore[no-untyped-def]
    # stdout (the first-start key banner) and stderr (logs) share the file; logs are the rest
    lines = [x for x in server.log_path.read_text().splitlines() if x.startswith("{") and "AccessKeySecret" not in x]
    assert lines and all("level" in json.loads(x) and "msg" in json.loads(x) for x in lines)


def test_keys_cli(tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = run_cli(tmp_path, "keys", "create", "--account", "ops", "--json")
    assert r.returncode == 0, r.stderr
    pair = json.loads(r.stdout)
    assert set(pair) == {"AccessKeyId", "AccessKeySecret"}
    listed = json.loads(run_cli(tmp_path, "keys", "list", "--account", "ops", "--json").stdout)
    assert [k["AccessKeyId"] for k in listed] == [pair["AccessKeyId"]] and listed[0]["Status"] == "Active"
    assert run_cli(tmp_path, "keys", "disable", pair["AccessKeyId"]).returncode == 0
    listed = json.loads(run_cli(tmp_path, "keys", "list", "--json").stdout)
    assert listed[0]["Status"] == "Inactive"
    assert run_cli(tmp_path, "keys", "disable", "nope").returncode == 1


def test_upload_cli(tmp_path) -> None:  # type: ignore[no-untyped-def]
    good = make_video(tmp_path / "u.mp4", seconds=1.0)
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 100)
    assert run_cli(tmp_path / "d", "keys", "create", "--json").returncode == 0  # creates the data folder
    r = run_cli(tmp_path / "d", "upload", str(good), str(bad), "--json")
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert len(out[0]["MediaId"]) == 32 and out[1]["Error"]
    again = json.loads(run_cli(tmp_path / "d", "upload", str(good), "--json").stdout)
    assert again[0]["MediaId"] == out[0]["MediaId"] and again[0]["NewRegister"] is False
