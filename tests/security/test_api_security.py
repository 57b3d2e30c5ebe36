"""Security regressions of the API half of issue 10: cross-account reads through CoverURL and through
the data folder, 500s on hostile input, per-job callback URLs, template paging and limits, and the
event-loop rules. Every request here is a raw signed HTTP call against the session server."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from openvod.api.rpc import READ_ONLY
from openvod.config import Settings
from openvod.services.media import MediaService
from tests.conftest import Key, Server, db_connect, settings_db
from tests.sdk import v1_request

ENVELOPE_KEYS = ["RequestId", "HostId", "Code", "Message", "Recommend"]


def call(server: Server, key: Key, action: str, params: dict[str, str] | None = None) -> httpx.Response:
    r = v1_request(server.url, key, action, params, method="POST", in_body=True)
    assert r.status_code < 500, r.text
    return r


def ok(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    return dict(r.json())


def refused(r: httpx.Response, code: str = "InvalidParameter", status: int = 400) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert list(body) == ENVELOPE_KEYS, body
    assert body["Code"] == code, body
    return dict(body)


def register(server: Server, key: Key, url: str, **extra: Any) -> httpx.Response:
    return call(server, key, "RegisterMedia", {"RegisterMetadatas": json.dumps([{"FileURL": url, "Title": "t", **extra}])})


@pytest.fixture(scope="module")
def victim(server: Server, key: Key, media_dir: Path, video: Path) -> dict[str, str]:
    """Account A's video: its media id, account id and blob key (as A's own signed URLs reveal them)."""
    src = media_dir / "victim.mp4"
    shutil.copy(video, src)
    body = ok(register(server, key, str(src)))
    media_id = body["RegisteredMediaList"][0]["MediaId"]
    mz = ok(call(server, key, "GetMezzanineInfo", {"VideoId": media_id}))["Mezzanine"]
    blob_key = httpx.URL(mz["FileURL"]).path.removeprefix("/blobs/")
    account = blob_key.split("/")[1]
    return {"media_id": media_id, "account": account, "blob_key": blob_key}


# ---------------------------------------------------------------------------------------------- defect 1
@pytest.mark.parametrize("form", ["blob:{key}", "BLOB:{key}", "/blobs/{key}", "file:///{key}", "{key}", "ftp://h/x.jpg",
                                  "javascript:alert(1)", "http://[::1", "http://h:99999/c.jpg", "0" * 32])
def test_cover_url_cannot_name_an_internal_blob(server: Server, other_key: Key, media_dir: Path, video: Path,
                                                victim: dict[str, str], form: str) -> None:
    """B cannot point a CoverURL at A's source video (it used to come back as a signed URL to A's bytes)."""
    src = media_dir / "b-cover.mp4"
    shutil.copy(video, src)
    r = register(server, other_key, str(src), CoverURL=form.format(key=victim["blob_key"]))
    body = refused(r)
    assert "CoverURL" in body["Message"]


def test_cover_url_http_and_own_image_id_allowed(server: Server, other_key: Key, media_dir: Path, video: Path) -> None:
    src = media_dir / "b-cover-ok.mp4"
    shutil.copy(video, src)
    body = ok(register(server, other_key, str(src), CoverURL="https://cdn.example.com/c.jpg"))
    vid = body["RegisteredMediaList"][0]["MediaId"]
    info = ok(call(server, other_key, "GetVideoInfo", {"VideoId": vid}))["Video"]
    assert info["CoverURL"] == "https://cdn.example.com/c.jpg"


def test_stored_foreign_blob_cover_is_never_signed(tmp_path: Path) -> None:
    """Rows written before CoverURL was validated may hold any blob key: only the row's own account's
    AI images are signed."""
    signed: list[str] = []
    urls = SimpleNamespace(sign=lambda base, key: signed.append(key) or f"{base}/blobs/{key}?auth_key=x")
    blobs = SimpleNamespace(exists=lambda key: True)
    svc = MediaService(None, None, blobs, urls, None, None, None)  # type: ignore[arg-type]
    row = {"account_id": "bbb", "cover_url": "blob:media/aaa/m1/source.mp4"}
    assert svc.cover_url(row, "http://h") == ""
    assert svc.cover_url({**row, "cover_url": "blob:aiimage/aaa/m1/x.png"}, "http://h") == ""
    assert svc.cover_url({**row, "cover_url": "blob:aiimage/bbb/../aaa/x.png"}, "http://h") == ""
    assert svc.cover_url({**row, "cover_url": "/etc/passwd"}, "http://h") == ""
    assert svc.cover_url({**row, "cover_url": "blob:aiimage/bbb/m2/x.png"}, "http://h").startswith("http://h/blobs/")
    assert signed == ["aiimage/bbb/m2/x.png"]


# ---------------------------------------------------------------------------------------------- defect 2
def test_blob_store_is_never_a_media_root(server: Server, other_key: Key, media_dir: Path,
                                          victim: dict[str, str]) -> None:
    """The server's roots include the data folder's parent, yet B cannot register A's blob by path, by
    file:// URL, through a symlink, or through ../ (it used to get a copy of A's video)."""
    blob = server.data_dir / "blobs" / victim["blob_key"]
    assert blob.is_file()
    link = media_dir / "innocent.mp4"
    link.unlink(missing_ok=True)
    link.symlink_to(blob)
    dir_link = media_dir / "innocent-dir"
    dir_link.unlink(missing_ok=True)
    dir_link.symlink_to(server.data_dir)
    for url in [str(blob), f"file://{blob}", str(link), f"{media_dir}/../data/blobs/{victim['blob_key']}",
                f"{dir_link}/blobs/{victim['blob_key']}", str(server.data_dir / "openvod.db"),
                str(server.data_dir / "url-signing.key")]:
        body = ok(register(server, other_key, url))
        assert body["RegisteredMediaList"] == [] and body["FailedFileURLs"] == [url], url


def test_incoming_folder_is_a_media_root(server: Server, other_key: Key, video: Path) -> None:
    dest = server.data_dir / "incoming" / "drop.mp4"
    shutil.copy(video, dest)
    body = ok(register(server, other_key, str(dest)))
    assert body["RegisteredMediaList"][0]["NewRegister"] is True


def test_default_media_roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for k in list(os.environ):
        if k.startswith("OPENVOD_"):
            monkeypatch.delenv(k)
    monkeypatch.chdir(tmp_path)
    s = Settings(data_dir=tmp_path / "d")
    assert s.media_roots() == [(tmp_path / "d" / "incoming").resolve()]


# ---------------------------------------------------------------------------------------------- defect 3
DEEP = "[" * 2000 + "]" * 2000


@pytest.mark.parametrize(
    ("action", "params"),
    [
        ("SubmitAIJob", {"MediaId": "0" * 32, "Types": "AIVideoTag", "Config": '{"AIVideoTag":' + DEEP + "}"}),
        ("SubmitAIJob", {"MediaId": "0" * 32, "Types": "AIVideoTag", "UserData": '{"Extend":' + "[" * 200 + "]" * 200 + "}"}),
        ("RegisterMedia", {"RegisterMetadatas": DEEP}),
        ("RegisterMedia", {"RegisterMetadatas": '[{"FileURL":"/x.mp4","Title":' + DEEP + "}]"}),
        ("AddAITemplate", {"TemplateName": "t", "TemplateType": "AIImage", "TemplateConfig": DEEP}),
        ("RegisterMedia", {"RegisterMetadatas": '[{"FileURL":"/x.mp4","Title":"t","CateId":1e400}]'}),
        ("RegisterMedia", {"RegisterMetadatas": '[{"FileURL":"/x.mp4","Title":"t","CateId":-1e400}]'}),
        ("RegisterMedia", {"RegisterMetadatas": '[{"FileURL":"/x.mp4","Title":"t","CateId":"1e400"}]'}),
        ("RegisterMedia", {"RegisterMetadatas": '[{"FileURL":"/x.mp4","Title":"t","CateId":NaN}]'}),
        ("RegisterMedia", {"RegisterMetadatas": '[{"FileURL":"/x.mp4","Title":"t","CateId":9223372036854775808}]'}),
        ("RegisterMedia", {"RegisterMetadatas": '[{"FileURL":"/x.mp4","Title":"t","CateId":"--5"}]'}),
        ("AddAITemplate", {"TemplateName": "t", "TemplateType": "AIImage",
                           "TemplateConfig": '{"Format":"png","SetDefaultCover":"false","Count":"\\u00b2"}'}),
        ("AddAITemplate", {"TemplateName": "t", "TemplateType": "AIImage",
                           "TemplateConfig": '{"Format":"png","SetDefaultCover":"false","Count":"\\u0663"}'}),
        ("SetMessageCallback", {"CallbackURL": "http://127.0.0.1:99999/cb", "EventTypeList": "AIComplete"}),
        ("SetMessageCallback", {"CallbackURL": "http://127.0.0.1:abc/cb", "EventTypeList": "AIComplete"}),
        ("SetMessageCallback", {"CallbackURL": "http://127.0.0.1:-1/cb", "EventTypeList": "AIComplete"}),
        ("SetMessageCallback", {"CallbackURL": "http://[::1", "EventTypeList": "AIComplete"}),
        ("SetMessageCallback", {"CallbackURL": "http://a..example.com/cb", "EventTypeList": "AIComplete"}),
        ("SetMessageCallback", {"CallbackURL": "http://" + "a" * 64 + ".example.com/cb", "EventTypeList": "AIComplete"}),
        ("SetMessageCallback", {"CallbackURL": "http://.example.com/cb", "EventTypeList": "AIComplete"}),
    ],
)
def test_hostile_input_is_a_400(server: Server, key: Key, action: str, params: dict[str, str]) -> None:
    body = refused(call(server, key, action, params), code=_code(action, params))
    assert body["Message"]


def _code(action: str, params: dict[str, str]) -> str:
    return "InvalidParameter.CallbackURL" if action == "SetMessageCallback" else "InvalidParameter"


def test_cate_id_beyond_int64_refused_for_a_real_file(server: Server, key: Key, media_dir: Path, video: Path) -> None:
    """2^63 used to pass validation and fail the insert with a 500."""
    src = media_dir / "cate.mp4"
    shutil.copy(video, src)
    for cate in (2**63, -(2**63) - 1, "99999999999999999999"):
        refused(register(server, key, str(src), CateId=cate))
    body = ok(register(server, key, str(src), CateId=2**63 - 1))
    vid = body["RegisteredMediaList"][0]["MediaId"]
    assert ok(call(server, key, "GetVideoInfo", {"VideoId": vid}))["Video"]["CateId"] == 2**63 - 1


# ---------------------------------------------------------------------------------------------- defect 4
@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:99999/cb", "http://h:abc/cb", "http://h:-1/cb",
                                 "http://a..b/cb", "http://exa mple.com/cb", "ftp://h/cb", "http:///cb"])
@pytest.mark.parametrize("form", ["object", "string"])
def test_bad_per_job_callback_refused_at_submit(server: Server, key: Key, victim: dict[str, str], url: str,
                                                form: str) -> None:
    """A per-job callback the sender could not use is refused at SubmitAIJob (it used to be accepted and
    then poison the outbox)."""
    mc: Any = {"CallbackURL": url}
    ud = json.dumps({"MessageCallback": mc if form == "object" else json.dumps(mc), "Extend": {"k": 1}})
    r = call(server, key, "SubmitAIJob", {"MediaId": victim["media_id"], "Types": "AIVideoTag", "UserData": ud})
    body = refused(r, code="InvalidParameter.CallbackURL")
    assert "CallbackURL" in body["Message"]
    r = call(server, key, "SubmitAIImageJob", {"VideoId": victim["media_id"], "AITemplateId": "0" * 32, "UserData": ud})
    refused(r, code="InvalidParameter.CallbackURL")


# ---------------------------------------------------------------------------------------------- defect 7
def test_list_ai_template_pages(server: Server) -> None:
    k = server.key("pager")
    cfg = json.dumps({"Format": "png", "SetDefaultCover": "false"})
    ids = [ok(call(server, k, "AddAITemplate", {"TemplateName": f"t{i}", "TemplateType": "AIImage",
                                                  "TemplateConfig": cfg}))["TemplateId"] for i in range(5)]
    first = ok(call(server, k, "ListAITemplate", {"TemplateType": "AIImage", "PageSize": "2"}))
    assert [t["TemplateId"] for t in first["TemplateInfoList"]] == ids[:2]
    assert first["Total"] == 5 and first["PageNo"] == 1 and first["PageSize"] == 2
    last = ok(call(server, k, "ListAITemplate", {"TemplateType": "AIImage", "PageSize": "2", "PageNo": "3"}))
    assert [t["TemplateId"] for t in last["TemplateInfoList"]] == ids[4:]
    every = ok(call(server, k, "ListAITemplate", {"TemplateType": "AIImage"}))
    assert [t["TemplateId"] for t in every["TemplateInfoList"]] == ids and every["PageSize"] == 100
    for bad in ({"PageSize": "0"}, {"PageSize": "101"}, {"PageNo": "0"}, {"PageNo": "x"}, {"PageSize": "1e9"}):
        refused(call(server, k, "ListAITemplate", {"TemplateType": "AIImage", **bad}))


def test_template_cap_per_account(tmp_path: Path) -> None:
    from openvod.runtime import Runtime
    from openvod.services.templates import TemplateQuotaExceeded

    s = Settings(data_dir=tmp_path / "d", database_url=settings_db(tmp_path / "d"), plugins=[])
    s.api.max_templates_per_account = 3
    rt = Runtime(s)
    try:
        a, b = rt.accounts.ensure_account("a"), rt.accounts.ensure_account("b")
        cfg = json.dumps({"Format": "gif", "SetDefaultCover": "false"})
        for i in range(3):
            rt.templates.add(a, f"t{i}", "AIImage", cfg)
        with pytest.raises(TemplateQuotaExceeded) as exc:
            rt.templates.add(a, "t3", "AIImage", cfg)
        assert exc.value.http_status == 400 and exc.value.code == "QuotaExceeded.AITemplate"
        rt.templates.add(b, "other account", "AIImage", cfg)  # the cap is per account
    finally:
        rt.close()


def test_only_bounded_reads_run_on_the_event_loop() -> None:
    """Actions served inline on the event loop read a bounded, indexed handful of rows; anything that
    can grow with an account's data (lists, full results) goes to the thread pool."""
    assert READ_ONLY <= {
        "ListAIJob", "GetAIImageJobs", "GetJobDetail", "GetAITemplate", "GetDefaultAITemplate",
        "GetMessageCallback", "GetVideoInfo", "GetVideoInfos", "GetPlayInfo", "GetImageInfo",
    }
    for slow in ("ListAITemplate", "GetAIVideoTagResult", "GetMediaDNAResult", "GetAIVideoTagDetail",
                 "ListFaceLibrary", "ListAIImageInfo", "RegisterMedia", "GetVideoList", "SearchMedia",
                 "ListJobInfo", "DescribeVodAIData"):
        assert slow not in READ_ONLY


def test_big_template_account_answers_are_bounded(server: Server, key: Key) -> None:
    """The functional half of the fairness check (bench/security/fairness.py measures the latency): an
    account with 3,000 templates gets pages of at most 100, and another account sees none of them."""
    import time
    import uuid

    big = server.key("big-templates")
    ok(call(server, big, "ListAITemplate", {"TemplateType": "AIImage"}))  # the account exists now
    with db_connect(server.data_dir) as db:
        acc = db.execute("SELECT a.id FROM accounts a JOIN access_keys k ON k.account_id = a.id WHERE k.id = ?",
                         (big.id,)).fetchone()[0]
        t = time.time()
        db.executemany(
            "INSERT INTO ai_templates (id, account_id, name, type, config, source, is_default, created_at, modified_at)"
            " VALUES (?, ?, ?, 'AIImage', '{\"Format\":\"png\",\"SetDefaultCover\":\"false\"}', 'Custom', 0, ?, ?)",
            [(uuid.uuid4().hex, acc, "t" * 100, t + i * 1e-6, t) for i in range(3000)],
        )
    r = call(server, big, "ListAITemplate", {"TemplateType": "AIImage"})
    body = ok(r)
    assert body["Total"] == 3000 and len(body["TemplateInfoList"]) == 100
    assert len(r.content) < 64 * 1024
    last = ok(call(server, big, "ListAITemplate", {"TemplateType": "AIImage", "PageNo": "30"}))
    assert len(last["TemplateInfoList"]) == 100
    assert ok(call(server, big, "ListAITemplate", {"TemplateType": "AIImage", "PageNo": "31"}))["TemplateInfoList"] == []
    # Over the cap: no more templates for this account.
    cfg = json.dumps({"Format": "png", "SetDefaultCover": "false"})
    refused(call(server, big, "AddAITemplate", {"TemplateName": "one more", "TemplateType": "AIImage",
                                                "TemplateConfig": cfg}), code="QuotaExceeded.AITemplate")
    mine = ok(call(server, key, "ListAITemplate", {"TemplateType": "AIImage"}))
    assert all(t["TemplateName"] != "t" * 100 for t in mine["TemplateInfoList"])
