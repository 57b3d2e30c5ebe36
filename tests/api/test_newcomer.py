"""What a first-time user trips over (issue: first hour with openvod): URLs and HostId built from a
validated host, logs that keep their detail, the access log, RegisterMedia's failure reasons and one
MediaId per real file, GetAIVideoTagDetail's OutputFormat through the old SDK, noise at start."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from alibabacloud_vod20170321 import models as m

from openvod.api import signing
from openvod.api.rpc import RawRequest, RpcApi, clean_host
from openvod.config import Settings
from openvod.logs import JsonFormatter, TextFormatter
from tests.conftest import REPO, Key, db_url, settings_db
from tests.media import make_video
from tests.sdk import new_client, v1_params, v1_request


# ---------------------------------------------------------------------------------------------- in-process RPC
@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from openvod.runtime import Runtime

    d = tmp_path_factory.mktemp("newcomer")
    runtime = Runtime(Settings(data_dir=d / "data", database_url=settings_db(d / "data"),
                               media={"allowed_roots": [str(d)]}))
    yield runtime
    runtime.close()


def _call(api: RpcApi, key: Any, action: str, params: dict[str, str], host: str) -> tuple[int, dict[str, Any]]:
    p = v1_params(Key(key.access_key_id, key.secret), action, params)
    p["Signature"] = signing.v1_sign(key.secret, signing.v1_string_to_sign("GET", p))
    resp = api.handle(RawRequest("GET", urlencode(p).encode(), {"host": [host]}))
    return resp.status, json.loads(resp.body)


@pytest.mark.parametrize(("raw", "clean"), [
    ("127.0.0.1:8080", "127.0.0.1:8080"), ("http://127.0.0.1:8080", "127.0.0.1:8080"),
    ("https://vod.example.com/x", "vod.example.com"), ("[::1]:8080", "[::1]:8080"),
    ("evil host", ""), ("a\r\nb", ""), ("", ""), ("http://", ""),
])
def test_clean_host(raw: str, clean: str) -> None:
    assert clean_host(raw) == clean


def test_scheme_in_host_header_gives_clean_urls_and_host_id(rt: Any, tmp_path: Path) -> None:
    api = RpcApi(rt)
    key = rt.accounts.create_key("urls")
    video = make_video(rt.settings.data_dir.parent / "u.mp4", seconds=0.5)
    done, _ = rt.media.register(key.account_id, [{"file_url": str(video), "title": "u", "description": "", "tags": "",
                                                  "cover_url": "", "cate_id": None}])
    for host in ("http://127.0.0.1:8080", "127.0.0.1:8080"):
        status, body = _call(api, key, "GetMezzanineInfo", {"VideoId": done[0].media_id}, host)
        assert status == 200, body
        assert body["Mezzanine"]["FileURL"].startswith("http://127.0.0.1:8080/blobs/"), body
        status, body = _call(api, key, "GetVideoInfo", {"VideoId": "0" * 32}, host)
        assert status == 404 and body["HostId"] == "127.0.0.1:8080"
    # a Host header that is not a host falls back to the configured api.host:port
    status, body = _call(api, key, "GetVideoInfo", {"VideoId": "0" * 32}, "no such host!")
    assert body["HostId"] == f"{rt.settings.api.host}:{rt.settings.api.port}"


def test_public_url_is_used_and_validated(rt: Any, tmp_path: Path) -> None:
    from openvod.runtime import Runtime

    with pytest.raises(ValueError):
        Settings(api={"public_url": "http://http://127.0.0.1:8080"})
    with pytest.raises(ValueError):
        Settings(api={"public_url": "vod.example.com"})
    s = Settings(data_dir=tmp_path / "d", database_url=settings_db(tmp_path / "d"),
                 api={"public_url": "https://vod.example.com/media/"},
                 media={"allowed_roots": [str(tmp_path)]})
    assert s.api.public_url == "https://vod.example.com/media"
    prt = Runtime(s)
    try:
        key = prt.accounts.create_key("pub")
        video = make_video(tmp_path / "p.mp4", seconds=0.5)
        done, _ = prt.media.register(key.account_id, [{"file_url": str(video), "title": "p", "description": "",
                                                       "tags": "", "cover_url": "", "cate_id": None}])
        status, body = _call(RpcApi(prt), key, "GetMezzanineInfo", {"VideoId": done[0].media_id}, "10.0.0.5:8080")
        assert body["Mezzanine"]["FileURL"].startswith("https://vod.example.com/media/blobs/"), body
    finally:
        prt.close()


def test_access_log_line_per_request(rt: Any, caplog: pytest.LogCaptureFixture) -> None:
    api = RpcApi(rt)
    key = rt.accounts.create_key("access")
    with caplog.at_level(logging.INFO, logger="openvod.access"):
        _call(api, key, "ListAIJob", {"JobIds": "nope"}, "127.0.0.1:8080")
        _call(api, key, "GetVideoInfo", {"VideoId": "0" * 32}, "127.0.0.1:8080")
    recs = [r for r in caplog.records if r.name == "openvod.access"]
    assert [(r.action, r.status, r.access_key_id) for r in recs] == [
        ("ListAIJob", 200, key.access_key_id), ("GetVideoInfo", 404, key.access_key_id)]
    assert recs[1].code == "InvalidVideo.NotFound" and len(recs[0].request_id) == 36 and recs[0].ms >= 0
    # configurable: off, only failures are logged (on openvod.api)
    quiet = RpcApi(rt)
    quiet.access_log = False
    caplog.clear()
    with caplog.at_level(logging.INFO):
        _call(quiet, key, "ListAIJob", {"JobIds": "nope"}, "127.0.0.1:8080")
        _call(quiet, key, "GetVideoInfo", {"VideoId": "0" * 32}, "127.0.0.1:8080")
    assert [(r.name, r.status) for r in caplog.records if hasattr(r, "status")] == [("openvod.api", 404)]
    assert Settings().log_access is True


def test_plain_text_logs_keep_the_fields() -> None:
    rec = logging.LogRecord("openvod.services.media", logging.INFO, __file__, 1, "register failed", None, None)
    for k, v in {"request_id": "r-1", "action": "RegisterMedia", "code": "InvalidFileURL.NotFound",
                 "reason": "file not found: /x/a b.mp4", "job_id": "j1", "ms": 12.5}.items():
        setattr(rec, k, v)
    line = TextFormatter().format(rec)
    assert line.split(" ", 1)[1].startswith("INFO openvod.services.media register failed")
    for part in ('request_id=r-1', 'action=RegisterMedia', 'code=InvalidFileURL.NotFound',
                 'reason="file not found: /x/a b.mp4"', 'job_id=j1', 'ms=12.5'):
        assert part in line, line
    assert json.loads(JsonFormatter().format(rec))["reason"] == "file not found: /x/a b.mp4"


def test_faiss_is_quiet_at_start() -> None:
    code = ("from openvod.logs import setup_logging; setup_logging('INFO', False); "
            "from openvod.analyzers.dna.index import _faiss; _faiss()")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert r.returncode == 0, r.stderr
    assert "Could not load library" not in r.stderr and "faiss" not in r.stderr, r.stderr


# ---------------------------------------------------------------------------------------------- RegisterMedia
def test_register_failure_reasons(server, key, media_dir) -> None:  # type: ignore[no-untyped-def]
    bad = media_dir / "not-a-video.mp4"
    bad.write_bytes(b"\x00" * 200)
    urls = [str(media_dir / "missing.mp4"), "/etc/passwd", str(bad), "ftp://example.com/a.mp4", str(media_dir)]
    r = v1_request(server.url, key, "RegisterMedia", {"RegisterMetadatas": json.dumps(
        [{"FileURL": u, "Title": "t"} for u in urls])})
    body = r.json()
    assert r.status_code == 200 and body["FailedFileURLs"] == urls
    reasons = body["FailedFileURLReasons"]
    assert [x["FileURL"] for x in reasons] == urls
    assert [x["Code"] for x in reasons] == ["InvalidFileURL.NotFound", "InvalidFileURL.Forbidden",
                                            "InvalidVideo.Damaged", "InvalidFileURL.Unsupported",
                                            "InvalidFileURL.NotAFile"]
    assert "allowed_roots" in reasons[1]["Message"] and all(x["Message"] for x in reasons)
    # the SDK model ignores the extra key
    sdk = new_client(server.endpoint, key).register_media(m.RegisterMediaRequest(register_metadatas=json.dumps(
        [{"FileURL": urls[0], "Title": "t"}]))).body
    assert sdk.failed_file_urls == [urls[0]]
    # ... and the reason is in the server log with the RequestId
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [json.loads(x) for x in server.log_path.read_text().splitlines() if x.startswith("{")]
        hit = [x for x in lines if x.get("msg") == "register failed" and x.get("request_id") == sdk.request_id]
        if hit:
            break
        time.sleep(0.2)
    assert hit and hit[0]["code"] == "InvalidFileURL.NotFound" and hit[0]["reason"]


def test_one_media_id_per_real_file(server, key, media_dir) -> None:  # type: ignore[no-untyped-def]
    video = make_video(media_dir / "same.mp4", seconds=0.5, seed=13)
    link = media_dir / "same-link.mp4"
    link.unlink(missing_ok=True)
    link.symlink_to(video)
    # the server runs in the repository; a relative path resolves against its working directory
    relative = os.path.relpath(video, REPO)
    spellings = [str(video), f"file://{video}", relative, str(media_dir / "." / "same.mp4"), str(link)]
    c = new_client(server.endpoint, key)
    ids, news = [], []
    for u in spellings:
        body = c.register_media(m.RegisterMediaRequest(register_metadatas=json.dumps([{"FileURL": u, "Title": "s"}]))).body
        assert body.failed_file_urls == [], u
        ids.append(body.registered_media_list[0].media_id)
        news.append(body.registered_media_list[0].new_register)
        assert body.registered_media_list[0].file_url == u
    assert len(set(ids)) == 1 and news == [True] + [False] * (len(spellings) - 1)


# ---------------------------------------------------------------------------------------------- tag detail
def _fake_tag_job(server: Any, account_name: str, media_id: str) -> str:
    """A finished AIVideoTag job row with a transcript (what a real job leaves behind)."""
    from sqlalchemy import create_engine, insert, select

    from openvod.store.tables import accounts, jobs
    from openvod.util import new_id

    eng = create_engine(db_url(server.data_dir))
    try:
        with eng.begin() as conn:
            acc = conn.execute(select(accounts.c.id).where(accounts.c.name == account_name)).scalar_one()
            jid = new_id()
            detail = {"ASR": {"Sentences": [{"StartTime": 0, "EndTime": 1500, "Text": "Hello from openvod"}]},
                      "Faces": []}
            t = time.time()
            conn.execute(insert(jobs).values(id=jid, account_id=acc, media_id=media_id, type="AIVideoTag",
                                             status="success", config="{}", data="{}", detail=json.dumps(detail),
                                             created_at=t, started_at=t, completed_at=t))
    finally:
        eng.dispose()
    return jid


def test_tag_detail_output_format_through_old_sdk(server, media_dir) -> None:  # type: ignore[no-untyped-def]
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.request import CommonRequest

    k = server.key("subtitles")
    mid = _fake_tag_job(server, "subtitles", "f" * 32)
    client = AcsClient(k.id, k.secret, "cn-shanghai")

    def call(**params: str) -> dict[str, Any]:
        req = CommonRequest(domain=server.endpoint, version="2017-03-21", action_name="GetAIVideoTagDetail")
        req.set_protocol_type("http")
        req.set_method("POST")
        req.add_query_param("JobId", mid)
        for name, value in params.items():
            req.add_query_param(name, value)
        return json.loads(client.do_action_with_exception(req))

    srt = call(OutputFormat="srt")
    assert srt["Format"] == "srt" and "Hello from openvod" in srt["Subtitle"] and "00:00:01,500" in srt["Subtitle"]
    assert call(OutputFormat="vtt")["Subtitle"].startswith("WEBVTT")
    assert "Detail" in call()
    # Format is the SDK's own parameter (its CommonRequest sends Format=JSON): that is why OutputFormat exists
    assert "Detail" in call(Format="srt")
    # where a client can send Format=srt itself, it still works
    r = v1_request(server.url, k, "GetAIVideoTagDetail", {"JobId": mid}, fmt="srt")
    assert r.json()["Format"] == "srt"
    bad = v1_request(server.url, k, "GetAIVideoTagDetail", {"JobId": mid, "OutputFormat": "docx"})
    assert bad.status_code == 400 and "OutputFormat" in bad.json()["Message"]


def test_sdk_endpoint_with_scheme(server, key, media_dir) -> None:  # type: ignore[no-untyped-def]
    """The common mistake endpoint="http://127.0.0.1:8080": calls work and URLs are still clean."""
    from alibabacloud_tea_openapi.exceptions import ClientException

    video = make_video(media_dir / "scheme.mp4", seconds=0.5, seed=31)
    c = new_client(f"http://{server.endpoint}", key)
    mid = c.register_media(m.RegisterMediaRequest(register_metadatas=json.dumps(
        [{"FileURL": str(video), "Title": "scheme"}]))).body.registered_media_list[0].media_id
    url = c.get_mezzanine_info(m.GetMezzanineInfoRequest(video_id=mid)).body.mezzanine.file_url
    assert url.startswith(f"http://{server.endpoint}/blobs/"), url
    with pytest.raises(ClientException) as ei:
        c.get_video_info(m.GetVideoInfoRequest(video_id="0" * 32))
    assert ei.value.data["HostId"] == server.endpoint
