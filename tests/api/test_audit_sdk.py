"""AIMediaAudit through both official SDKs against a real server with the real audit analyzer.

Generated videos (bench.audit.media) with known content. OCR/ASR come from an AIVideoTag result of
the media (a stand-in tagger that reports the captions and speech the generator drew: see
tests/audit_plugins.py), which is the reuse path; the audit runs no OCR/ASR of its own here
(``audit.run_ocr/run_asr`` false), so a video without a tag result shows what that costs: review.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_vod20170321 import models as m

from bench.audit.media import QR, AuditClip, render
from bench.tag.media import Caption, Shot
from tests.conftest import Server, free_port, wait_for
from tests.sdk import OldClient, new_client

pytest.importorskip("nudenet", reason="the porn scene's model ships in the nudenet wheel")

ALL_VIDEO = '{"AuditItem":["porn","ad","live","audio"],"AuditRange":["video","text-title"],"AuditContent":["screen"],"AuditAutoBlock":"no"}'


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("auditsrv")
    truth = root / "truth.json"
    truth.write_text("{}")
    s = Server(root / "data", free_port(), env={
        "OPENVOD_PLUGINS": '["tests.audit_plugins:register"]', "OPENVOD_ENGINE__WORKERS": "1",
        "OPENVOD_AUDIT__RUN_OCR": "false", "OPENVOD_AUDIT__RUN_ASR": "false",
        "OPENVOD_TEST_AUDIT_TRUTH": str(truth)}).start()
    s.truth = truth  # type: ignore[attr-defined]
    yield s
    s.stop()


@pytest.fixture(scope="module")
def key(srv: Server) -> Any:
    return srv.key("auditor")


@pytest.fixture(scope="module")
def client(srv: Server, key: Any) -> Any:
    return new_client(srv.endpoint, key)


def _md5(p: Path) -> str:
    import hashlib

    return hashlib.md5(p.read_bytes()).hexdigest()


def _media(srv: Server, client: Any, name: str, clip: AuditClip, title: str = "", tag: bool = True,
           said: list[dict[str, Any]] | None = None) -> str:
    """Render, register and (``tag``) run the stand-in AIVideoTag; ``said`` replaces the speech truth
    (sentences the stand-in ASR reports without audio being synthesised)."""
    d = srv.data_dir.parent / "media"
    d.mkdir(exist_ok=True)
    p = d / f"{name}.mp4"
    truth = render(clip, p)
    if said is not None:
        truth["speech"] = said
    all_truth = json.loads(srv.truth.read_text())  # type: ignore[attr-defined]
    all_truth[_md5(p)] = truth
    srv.truth.write_text(json.dumps(all_truth))  # type: ignore[attr-defined]
    body = client.register_media(m.RegisterMediaRequest(register_metadatas=json.dumps(
        [{"FileURL": str(p), "Title": title or name}]))).body
    mid = str(body.registered_media_list[0].media_id)
    if tag:
        jid = client.submit_aijob(m.SubmitAIJobRequest(media_id=mid, types="AIVideoTag",
                                                       config='{"AIVideoTag":{"AnalyseTypes":"OCR,ASR"}}')
                                  ).body.aijob_list.aijob[0].job_id
        wait_for(lambda: client.list_aijob(m.ListAIJobRequest(job_ids=jid)).body.aijob_list.aijob[0].status
                 == "success", timeout=60)
    return mid


def _template(client: Any, cfg: str = ALL_VIDEO) -> str:
    return str(client.add_aitemplate(m.AddAITemplateRequest(template_name="audit", template_type="AIMediaAudit",
                                                          template_config=cfg)).body.template_id)


def _audit(client: Any, mid: str, tid: str) -> Any:
    jid = client.submit_aimedia_audit_job(m.SubmitAIMediaAuditJobRequest(
        media_id=mid, template_id=tid, media_type="video", user_data='{"Extend":{"k":"v"}}',
        media_audit_configuration='{"ResourceType":"test_movie"}', censor_provider="green")).body.job_id

    def done() -> Any:
        j = client.get_aimedia_audit_job(m.GetAIMediaAuditJobRequest(job_id=jid)).body.media_audit_job
        return j if j.status in ("success", "fail") else None

    job = wait_for(done, timeout=90, interval=0.3)
    assert job.status == "success", (job.code, job.message)
    assert job.type == "AIMediaAudit" and job.media_id == mid
    return job


@pytest.fixture(scope="module")
def tid(client: Any) -> str:
    return _template(client)


def test_clean_video_passes(srv: Server, client: Any, tid: str) -> None:
    clip = AuditClip(duration=6, shots=[Shot(0, 3, "gradient", 1), Shot(3, 6, "motion", 2)],
                     captions=[Caption("Evening news", 1, 4)], audio=False)
    mid = _media(srv, client, "clean", clip, title="A walk in the park")
    data = _audit(client, mid, tid).data
    assert data.suggestion == "pass", data.to_map()
    assert data.label == "normal" and data.abnormal_modules == ""
    v = data.video_result
    for r in (v.porn_result, v.ad_result, v.live_result):
        assert r.suggestion == "pass" and r.label == "normal" and r.top_list == []
    assert data.text_result[0].type == "title" and data.text_result[0].suggestion == "pass"
    res = client.get_media_audit_result(m.GetMediaAuditResultRequest(media_id=mid)).body.media_audit_result
    assert res.suggestion == "pass"


def test_qr_code_and_url_caption_are_ad_with_times(srv: Server, client: Any, tid: str, key: Any) -> None:
    clip = AuditClip(duration=8, shots=[Shot(0, 8, "gradient", 3)], qrs=[QR("https://promo.example.com/win", 2.0, 5.0)],
                     captions=[Caption("Visit www.cheap-deals.top now", 5.0, 7.5)], audio=False)
    mid = _media(srv, client, "ad", clip)
    data = _audit(client, mid, tid).data
    assert data.suggestion == "block" and "ad" in data.label.split(",") and data.abnormal_modules == "video"
    ad = data.video_result.ad_result
    assert ad.suggestion == "block" and ad.label == "qrcode"
    counts = {c.label: c.count for c in ad.counter_list}
    assert counts.get("qrcode", 0) >= 2 and counts.get("ad", 0) >= 1, counts
    qr_times = [int(t.timestamp) for t in ad.top_list if t.label == "qrcode"]
    assert qr_times and all(1500 <= t <= 5500 for t in qr_times), qr_times
    url_times = [int(t.timestamp) for t in ad.top_list if t.label == "ad"]
    assert url_times == [5000], url_times
    top = ad.top_list[0]
    assert float(top.score) >= 90 and "auth_key=" in top.url
    r = httpx.get(top.url, timeout=10)
    assert r.status_code == 200 and r.content[:3] == b"\xff\xd8\xff"
    # the same through the old SDK, plus the timeline and the per-frame detail
    old = OldClient(srv.endpoint, key)
    tl = old.call("GetMediaAuditResultTimeline", MediaId=mid)["MediaAuditResultTimeline"]
    assert {x["Label"] for x in tl["Ad"]} == {"qrcode", "ad"} and tl["Porn"] == []
    det = old.call("GetMediaAuditResultDetail", MediaId=mid, PageNo=1)["MediaAuditResultDetail"]
    assert det["Total"] >= 7 and len(det["List"]) == det["Total"]
    hits = [x for x in det["List"] if x["AdLabel"] == "qrcode"]
    assert hits and all(x["Url"].startswith("http") for x in hits)


def test_black_run_is_live_meaningless(srv: Server, client: Any, tid: str, key: Any) -> None:
    clip = AuditClip(duration=8, shots=[Shot(0, 2, "gradient", 4), Shot(2, 6, "black"), Shot(6, 8, "gradient", 4)],
                     audio=False)
    mid = _media(srv, client, "black", clip, tag=False)
    old = OldClient(srv.endpoint, key)
    jid = old.call("SubmitAIMediaAuditJob", MediaId=mid, TemplateId=tid)["JobId"]
    job = wait_for(lambda: (j := old.call("GetAIMediaAuditJob", JobId=jid)["MediaAuditJob"])["Status"] == "success" and j,
                   timeout=90, interval=0.3)
    live = job["Data"]["VideoResult"]["LiveResult"]
    assert live["Label"] == "meaningless" and live["Suggestion"] in ("review", "block"), live
    times = sorted(int(t["Timestamp"]) for t in live["TopList"])
    assert times and 1500 <= times[0] <= 2600 and times[-1] <= 6000, times
    # no AIVideoTag result and OCR switched off: the text-based ad checks are not claimed as passed
    ad = job["Data"]["VideoResult"]["AdResult"]
    assert ad["Suggestion"] == "review" and "On-screen text was not read" in ad["Reason"], ad


def test_custom_banned_word_shown_and_spoken(srv: Server, client: Any, key: Any) -> None:
    from tests.conftest import run_cli

    r = run_cli(srv.data_dir, "audit", "words", "add", "--account", "auditor", "--label", "contraband",
                "moonshine", "蓝色药丸")
    assert r.returncode == 0, r.stderr
    clip = AuditClip(duration=8, shots=[Shot(0, 8, "gradient", 5)], captions=[Caption("Buy moonshine here", 3.0, 5.0)],
                     audio=False)
    mid = _media(srv, client, "words", clip, said=[{"text": "请买蓝色药丸", "start": 6.0, "end": 7.5}])
    t = _template(client, ALL_VIDEO.replace('"audio"]', '"audio","terrorism"]'))
    data = _audit(client, mid, t).data
    ad = data.video_result.ad_result
    hit = [x for x in ad.top_list if x.label == "contraband"]
    assert hit and hit[0].timestamp == "3000" and float(hit[0].score) >= 99, ad.to_map()
    assert data.suggestion == "block"
    assert data.video_result.terrorism_result.suggestion == "review"  # no model: never a silent pass
    assert data.audio_result[0].label == "contraband" and data.audio_result[0].suggestion == "block"
    audio = client.get_media_audit_audio_result_detail(m.GetMediaAuditAudioResultDetailRequest(media_id=mid)).body
    lst = audio.media_audit_audio_result_detail.list
    assert [(x.label, x.start_time, x.text) for x in lst] == [("contraband", 6, "请买蓝色药丸")]


def test_external_cover_is_reviewed_not_passed(srv: Server, client: Any) -> None:
    d = srv.data_dir.parent / "media"
    d.mkdir(exist_ok=True)
    p = d / "cover.mp4"
    render(AuditClip(duration=3, shots=[Shot(0, 3, "gradient", 9)], audio=False), p)
    mid = str(client.register_media(m.RegisterMediaRequest(register_metadatas=json.dumps(
        [{"FileURL": str(p), "Title": "cover", "CoverURL": "http://example.com/cover.jpg"}]))
    ).body.registered_media_list[0].media_id)
    t = _template(client, ALL_VIDEO.replace('"AuditRange":["video","text-title"]',
                                            '"AuditRange":["video","text-title","image-cover"]'))
    data = _audit(client, mid, t).data
    img = data.image_result[0]
    assert img.type == "cover" and img.url == "http://example.com/cover.jpg" and img.suggestion == "review"
    assert {r.scene for r in img.result} == {"porn", "ad", "live"}
    assert data.suggestion == "review" and "image-cover" in data.abnormal_modules.split(",")
    raw = client.get_media_audit_result(m.GetMediaAuditResultRequest(media_id=mid)).body.to_map()
    assert raw["MediaAuditResult"]["ImageResult"][0]["Suggestion"] == "review"


def test_blocked_video_stops_playing(srv: Server, client: Any, key: Any) -> None:
    clip = AuditClip(duration=2, shots=[Shot(0, 2, "gradient", 6)], audio=False)
    d = srv.data_dir.parent / "media"
    d.mkdir(exist_ok=True)
    p = d / "play.mp4"
    render(clip, p)
    body = client.register_media(m.RegisterMediaRequest(
        register_metadatas=json.dumps([{"FileURL": str(p), "Title": "play"}]), template_group_id="VOD_NO_TRANSCODE")).body
    mid = str(body.registered_media_list[0].media_id)
    url = wait_for(lambda: _play_url(client, mid), timeout=30)
    assert httpx.get(url, timeout=10).status_code == 200
    client.create_audit(m.CreateAuditRequest(audit_content=json.dumps(
        [{"VideoId": mid, "Status": "Blocked", "Reason": "test", "Comment": "manual"}])))
    with pytest.raises(ClientException) as ei:
        client.get_play_info(m.GetPlayInfoRequest(video_id=mid))
    assert ei.value.code == "Forbidden.IllegalStatus"
    assert httpx.get(url, timeout=10).status_code == 403  # the URL signed before the block refuses too
    # SetAuditSecurityIp: a Blocked video plays for the audit security IPs only (the tests call from 127.0.0.1)
    client.set_audit_security_ip(m.SetAuditSecurityIpRequest(ips="127.0.0.0/8", security_group_name="Preview"))
    preview = _play_url(client, mid)
    assert preview and httpx.get(preview, timeout=10).status_code == 200 and httpx.get(url, timeout=10).status_code == 200
    client.set_audit_security_ip(m.SetAuditSecurityIpRequest(ips="127.0.0.0/8", security_group_name="Preview",
                                                             operate_mode="Delete"))
    assert _play_url(client, mid) is None and httpx.get(preview, timeout=10).status_code == 403
    hist = client.get_audit_history(m.GetAuditHistoryRequest(video_id=mid)).body
    assert hist.status == "Blocked" and hist.total == 1 and hist.histories[0].reason == "test"
    client.create_audit(m.CreateAuditRequest(audit_content=json.dumps([{"VideoId": mid, "Status": "Normal"}])))
    assert _play_url(client, mid)
    old = OldClient(srv.endpoint, key)
    h = old.call("GetAuditHistory", VideoId=mid, SortBy="CreationTime:Asc")
    assert [x["Status"] for x in h["Histories"]] == ["Blocked", "Normal"] and h["Status"] == "Normal"


def _play_url(client: Any, mid: str) -> str | None:
    try:
        return str(client.get_play_info(m.GetPlayInfoRequest(video_id=mid)).body.play_info_list.play_info[0].play_url)
    except ClientException:
        return None


def test_security_ips_and_template_thresholds(client: Any, key: Any, srv: Server) -> None:
    client.set_audit_security_ip(m.SetAuditSecurityIpRequest(ips="10.0.0.1,192.168.0.0/16"))
    client.set_audit_security_ip(m.SetAuditSecurityIpRequest(ips="10.0.0.2", operate_mode="Append"))
    lst = client.list_audit_security_ip(m.ListAuditSecurityIpRequest()).body.security_ip_list
    assert [(x.security_group_name, x.ips) for x in lst if x.security_group_name == "Default"] == [
        ("Default", "10.0.0.1,192.168.0.0/16,10.0.0.2")]
    with pytest.raises(ClientException):
        client.set_audit_security_ip(m.SetAuditSecurityIpRequest(ips="not-an-ip"))
    # the cloud's error codes; an unknown OperateMode is taken as Append (the cloud's documented default)
    for ips, code, status in ((" , ", "IpsIsEmpty", 400), (",".join(f"10.1.0.{i}" for i in range(101)), "IpsExceededMax", 403)):
        with pytest.raises(ClientException) as ei:
            client.set_audit_security_ip(m.SetAuditSecurityIpRequest(ips=ips))
        assert (ei.value.code, ei.value.status_code) == (code, status)
    client.set_audit_security_ip(m.SetAuditSecurityIpRequest(ips="10.0.0.3", operate_mode="Sideways"))
    lst = client.list_audit_security_ip(m.ListAuditSecurityIpRequest()).body.security_ip_list
    assert next(x.ips for x in lst if x.security_group_name == "Default").endswith(",10.0.0.2,10.0.0.3")
    for i in range(20):
        try:
            client.set_audit_security_ip(m.SetAuditSecurityIpRequest(ips="10.9.9.9", security_group_name=f"g{i}"))
        except ClientException as exc:
            assert (exc.code, exc.status_code) == ("SecurityIpGroupExceededMax", 403)
            break
    else:
        raise AssertionError("no group limit")
    cfg = json.loads(ALL_VIDEO)
    cfg["Thresholds"] = {"live": {"Block": 70, "Review": 50}}
    t = _template(client, json.dumps(cfg))
    info = client.get_aitemplate(m.GetAITemplateRequest(template_id=t)).body.template_info
    assert json.loads(info.template_config)["Thresholds"] == {"live": {"Block": 70.0, "Review": 50.0}}
    cfg["Thresholds"] = {"live": {"Block": 40, "Review": 50}}
    with pytest.raises(ClientException):
        _template(client, json.dumps(cfg))


CLEAN_SHOTS = [Shot(0, 3, "gradient", 1), Shot(3, 6, "motion", 2)]


@pytest.mark.parametrize("case", ["video", "text", "audio", "several"])
def test_top_label_agrees_with_suggestion_and_modules(srv: Server, client: Any, tid: str, key: Any,
                                                      case: str) -> None:
    """Label names the categories that did not pass, most severe first, for any module combination:
    a flagged title alone is never ``Label: normal`` next to ``Suggestion: block``."""
    qrs = [QR("https://promo.example.com/win", 1.0, 5.0)] if case in ("video", "several") else []
    title = {"video": "A walk in the park", "text": "加微信 wxdeals88 免费领取", "audio": "A walk in the park",
             "several": "Visit www.cheap-deals.top now"}[case]
    said = {"video": [], "text": [], "audio": [{"text": "哈哈哈哈哈哈哈哈哈哈", "start": 1.0, "end": 2.5}],
            "several": [{"text": "Call 13812345678 to buy cheap watches", "start": 1.0, "end": 2.5}]}[case]
    clip = AuditClip(duration=6, shots=CLEAN_SHOTS, captions=[Caption("Evening news", 1, 4)], qrs=qrs, audio=False)
    mid = _media(srv, client, f"combo-{case}", clip, title=title, said=said)
    data = _audit(client, mid, tid).data
    want = {"video": ("block", "ad", "video"), "text": ("block", "ad", "text-title"), "audio": ("block", "audio", "video"),
            "several": ("block", "ad,audio", "video,text-title")}[case]
    assert (data.suggestion, data.label, data.abnormal_modules) == want, data.to_map()
    if case == "several":
        assert data.video_result.ad_result.suggestion == "block" and data.text_result[0].suggestion == "review"
        assert data.audio_result[0].suggestion == "review", data.to_map()
    res = OldClient(srv.endpoint, key).call("GetMediaAuditResult", MediaId=mid)["MediaAuditResult"]
    assert (res["Suggestion"], res["Label"], res["AbnormalModules"]) == want
