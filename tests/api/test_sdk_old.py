"""The core flows through the OLD SDK: aliyun-python-sdk-core AcsClient + aliyunsdkvod request classes
(signature V1, HMAC-SHA1, parameters in the query of a POST)."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from aliyunsdkcore.acs_exception.exceptions import ServerException
from PIL import Image

from tests.conftest import Key, Server, wait_for
from tests.media import make_video
from tests.sdk import OldClient


@pytest.fixture(scope="module")
def c(server: Server, key: Key) -> OldClient:
    return OldClient(server.endpoint, key)


@pytest.fixture(scope="module")
def clip(media_dir: Path) -> Path:
    return make_video(media_dir / "old-sdk-clip.mp4", seconds=2.0, audio=True, seed=301)


def _register(c: OldClient, path: Path, title: str = "old clip") -> dict[str, Any]:
    body = c.call("RegisterMedia", RegisterMetadatas=json.dumps([{"FileURL": str(path), "Title": title}]))
    assert body["FailedFileURLs"] == []
    assert len(body["RegisteredMediaList"]) == 1
    return body["RegisteredMediaList"][0]


def _server_error(fn: Any, *args: Any, **kw: Any) -> ServerException:
    with pytest.raises(ServerException) as ei:
        fn(*args, **kw)
    return ei.value


def test_register_and_describe(c: OldClient, clip: Path) -> None:
    first = _register(c, clip)
    assert first["NewRegister"] is True and len(first["MediaId"]) == 32 and first["FileURL"] == str(clip)
    again = _register(c, clip)
    assert again["MediaId"] == first["MediaId"] and again["NewRegister"] is False
    mid = first["MediaId"]

    v = c.call("GetVideoInfo", VideoId=mid)["Video"]
    assert v["VideoId"] == mid and v["Title"] == "old clip"
    assert abs(v["Duration"] - 2.0) < 0.2 and v["Size"] == clip.stat().st_size
    assert v["Snapshots"] == {"Snapshot": []}
    assert v["CreationTime"].endswith("Z")

    infos = c.call("GetVideoInfos", VideoIds=f"{mid},nope")
    assert [x["VideoId"] for x in infos["VideoList"]] == [mid]
    assert infos["NonExistVideoIds"] == ["nope"]
    assert infos["VideoList"][0]["Snapshots"] == []

    mz = c.call("GetMezzanineInfo", VideoId=mid, AdditionType="video,audio", AuthTimeout=600)["Mezzanine"]
    assert mz["Width"] == 320 and mz["Height"] == 240 and mz["Size"] == clip.stat().st_size
    assert mz["VideoStreamList"][0]["CodecName"] == "h264"
    assert mz["AudioStreamList"][0]["CodecName"] == "aac"
    assert isinstance(mz["Duration"], str) and abs(float(mz["Duration"]) - 2.0) < 0.2
    r = httpx.get(mz["FileURL"], timeout=30)
    assert r.status_code == 200 and r.content == clip.read_bytes()
    plain = c.call("GetMezzanineInfo", VideoId=mid)["Mezzanine"]
    assert "VideoStreamList" not in plain and "AudioStreamList" not in plain


def test_ai_job_lifecycle(c: OldClient, clip: Path) -> None:
    mid = _register(c, clip)["MediaId"]
    resp = c.call(
        "SubmitAIJob",
        MediaId=mid,
        Types="AIVideoTag,AIMediaDNA",
        Config='{"AIVideoTag":{"AnalyseTypes":"ASR,OCR","OrigASRData":"true"}}',
        UserData='{"Extend":{"localId":"old1"}}',
        OwnerId="123456",
        ResourceOwnerId="123456",
    )
    jobs = resp["AIJobList"]["AIJob"]
    assert [j["Type"] for j in jobs] == ["AIVideoTag", "AIMediaDNA"]
    assert all(j["MediaId"] == mid and len(j["JobId"]) == 32 for j in jobs)
    ids = ",".join(j["JobId"] for j in jobs)

    def done() -> dict[str, Any] | None:
        body = c.call("ListAIJob", JobIds=ids + ",missing")
        return body if all(j["Status"] in ("success", "fail") for j in body["AIJobList"]["AIJob"]) else None

    body = wait_for(done)
    assert body["NonExistAIJobIds"] == {"String": ["missing"]}
    by_type = {j["Type"]: j for j in body["AIJobList"]["AIJob"]}
    tag = by_type["AIVideoTag"]
    assert tag["Status"] == "success" and tag["Code"] == "0" and tag["Message"] == "OK"
    assert tag["CreationTime"].endswith("Z") and tag["CompleteTime"].endswith("Z")
    data = json.loads(tag["Data"])
    assert "OrigASRData" in data and data["Keyword"]
    assert all(isinstance(t, str) for k in data["Keyword"] for t in k["Times"])
    assert json.loads(by_type["AIMediaDNA"]["Data"]) == {"VideoDNA": []}

    res = c.call("GetAIVideoTagResult", MediaId=mid)["VideoTagResult"]
    assert "OrigASRData" not in res
    assert [k["Tag"] for k in res["Keyword"]] == [k["Tag"] for k in data["Keyword"]]
    assert res["Keyword"][0]["Times"] == data["Keyword"][0]["Times"]
    assert res["Person"] == [] and res["Category"] == [{"Tag": "test"}]

    dna = c.call("GetMediaDNAResult", MediaId=mid)["DNAResult"]
    assert dna == {"VideoDNA": []}
    d = c.call("SubmitMediaDNADeleteJob", MediaId=mid)
    assert len(d["JobId"]) == 32 and d["MediaId"] == mid


def test_dna_finds_duplicate(c: OldClient, media_dir: Path) -> None:
    """Two registrations of identical bytes under different FileURLs: the second one's DNA job finds the first."""
    a = make_video(media_dir / "old-sdk-dup-a.mp4", seconds=1.0, seed=302)
    b = media_dir / "old-sdk-dup-b.mp4"
    b.write_bytes(a.read_bytes())
    mid_a = _register(c, a)["MediaId"]
    mid_b = _register(c, b)["MediaId"]
    job = c.call("SubmitAIJob", MediaId=mid_b, Types="AIMediaDNA")["AIJobList"]["AIJob"][0]

    def done() -> dict[str, Any] | None:
        j = c.call("ListAIJob", JobIds=job["JobId"])["AIJobList"]["AIJob"][0]
        return j if j["Status"] in ("success", "fail") else None

    assert wait_for(done)["Status"] == "success"
    dna = c.call("GetMediaDNAResult", MediaId=mid_b)["DNAResult"]["VideoDNA"]
    assert [x["PrimaryKey"] for x in dna] == [mid_a]
    assert dna[0]["Similarity"] == "1" and isinstance(dna[0]["Detail"][0]["Input"]["Start"], str)


def test_templates(c: OldClient) -> None:
    tid = c.call("AddAITemplate", TemplateName="old gif", TemplateType="AIImage",
                 TemplateConfig='{"Format":"gif","SetDefaultCover":false}')["TemplateId"]
    info = c.call("GetAITemplate", TemplateId=tid)["TemplateInfo"]
    assert info["TemplateId"] == tid and info["TemplateName"] == "old gif"
    assert info["TemplateType"] == "AIImage" and info["IsDefault"] == "NotDefault" and info["Source"] == "Custom"
    assert json.loads(info["TemplateConfig"]) == {"Format": "gif", "SetDefaultCover": "false"}
    assert info["CreationTime"].endswith("Z") and info["ModifyTime"].endswith("Z")

    assert c.call("UpdateAITemplate", TemplateId=tid, TemplateName="old png",
                  TemplateConfig='{"Format":"png","SetDefaultCover":"true"}')["TemplateId"] == tid
    assert c.call("SetDefaultAITemplate", TemplateId=tid)["TemplateId"] == tid
    d = c.call("GetDefaultAITemplate", TemplateType="AIImage")["TemplateInfo"]
    assert d["TemplateId"] == tid and d["IsDefault"] == "Default" and d["TemplateName"] == "old png"
    assert json.loads(d["TemplateConfig"]) == {"Format": "png", "SetDefaultCover": "true"}

    listed = c.call("ListAITemplate", TemplateType="AIImage")["TemplateInfoList"]
    assert isinstance(listed, list) and tid in [t["TemplateId"] for t in listed]
    assert [t["TemplateId"] for t in listed if t["IsDefault"] == "Default"] == [tid]

    # a second template becomes the default: the first one loses it
    tid2 = c.call("AddAITemplate", TemplateName="old gif 2", TemplateType="AIImage",
                  TemplateConfig='{"Format":"gif","SetDefaultCover":"false"}')["TemplateId"]
    c.call("SetDefaultAITemplate", TemplateId=tid2)
    assert c.call("GetAITemplate", TemplateId=tid)["TemplateInfo"]["IsDefault"] == "NotDefault"
    assert c.call("GetDefaultAITemplate", TemplateType="AIImage")["TemplateInfo"]["TemplateId"] == tid2

    audit = c.call("AddAITemplate", TemplateName="old audit", TemplateType="AIMediaAudit",
                   TemplateConfig='{"AuditItem":["terrorism","porn"],"AuditRange":["video"],'
                                  '"AuditContent":["screen"],"AuditAutoBlock":"yes"}')["TemplateId"]
    audits = c.call("ListAITemplate", TemplateType="AIMediaAudit")["TemplateInfoList"]
    assert audit in [t["TemplateId"] for t in audits] and tid not in [t["TemplateId"] for t in audits]

    assert c.call("DeleteAITemplate", TemplateId=audit)["TemplateId"] == audit
    assert c.call("DeleteAITemplate", TemplateId=tid)["TemplateId"] == tid
    e = _server_error(c.call, "GetAITemplate", TemplateId=tid)
    assert e.get_error_code() == "InvalidAITemplate.NotFound" and e.get_http_status() == 404


def test_ai_image_job(c: OldClient, media_dir: Path) -> None:
    path = make_video(media_dir / "old-sdk-image.mp4", seconds=1.0, seed=303)
    mid = _register(c, path)["MediaId"]
    tid = c.call("AddAITemplate", TemplateName="old cover", TemplateType="AIImage",
                 TemplateConfig='{"Format":"png","SetDefaultCover":"true"}')["TemplateId"]
    ud = '{"Extend":{"k":"old"}}'
    job_id = c.call("SubmitAIImageJob", VideoId=mid, AITemplateId=tid, UserData=ud)["JobId"]
    assert len(job_id) == 32

    def done() -> dict[str, Any] | None:
        lst = c.call("GetAIImageJobs", JobIds=f"{job_id},ghost")["AIImageJobList"]
        return lst[0] if lst and lst[0]["Status"] in ("success", "fail") else None

    job = wait_for(done)
    assert job["Status"] == "success" and job["Code"] == "Success" and job["Message"] == "success"
    assert job["VideoId"] == mid and job["TemplateId"] == tid and job["UserData"] == ud
    assert json.loads(job["TemplateConfig"]) == {"Format": "png", "SetDefaultCover": "true"}
    result = json.loads(job["AIImageResult"])
    assert result and isinstance(result[0]["Score"], float) and "auth_key" not in result[0]["Url"]

    infos = c.call("ListAIImageInfo", VideoId=mid)["AIImageInfoList"]
    mine = [i for i in infos if i["JobId"] == job_id]
    assert len(mine) == len(result)
    assert all(i["Format"] == "png" and isinstance(i["Score"], str) and i["VideoId"] == mid for i in mine)
    img = Image.open(io.BytesIO(httpx.get(mine[0]["FileURL"], timeout=30).content))
    assert img.format == "PNG" and img.size == (320, 240)
    cover = c.call("GetVideoInfo", VideoId=mid)["Video"]["CoverURL"]
    assert "/blobs/aiimage/" in cover and httpx.get(cover, timeout=30).status_code == 200

    c.call("DeleteAIImageInfos", AIImageInfoIds=mine[0]["AIImageInfoId"])
    left = c.call("ListAIImageInfo", VideoId=mid)["AIImageInfoList"]
    assert mine[0]["AIImageInfoId"] not in [i["AIImageInfoId"] for i in left]
    assert httpx.get(mine[0]["FileURL"], timeout=30).status_code == 404


def test_message_callback_settings(c: OldClient) -> None:
    app = "app-old-sdk"
    c.call("SetMessageCallback", CallbackType="HTTP", CallbackURL="http://127.0.0.1:9/old-cb",
           EventTypeList="AIComplete", AuthSwitch="on", AuthKey="Old123", AppId=app)
    mc = c.call("GetMessageCallback", AppId=app)["MessageCallback"]
    assert mc["CallbackURL"] == "http://127.0.0.1:9/old-cb" and mc["EventTypeList"] == "AIComplete"
    assert mc["AuthSwitch"] == "on" and mc["AuthKey"] == "Old123" and mc["CallbackType"] == "HTTP"
    assert mc["AppId"] == app
    c.call("SetMessageCallback", CallbackType="HTTP", EventTypeList="", AuthSwitch="off", AppId=app)
    mc = c.call("GetMessageCallback", AppId=app)["MessageCallback"]
    assert mc["AuthSwitch"] == "off" and mc["EventTypeList"] == ""
    assert mc["CallbackURL"] == "http://127.0.0.1:9/old-cb"  # kept when not given
    e = _server_error(c.call, "SetMessageCallback", CallbackType="HTTP", AuthSwitch="maybe", AppId=app)
    assert e.get_error_code() == "InvalidParameter" and e.get_http_status() == 400


def test_delete_video(c: OldClient, server: Server, media_dir: Path) -> None:
    path = make_video(media_dir / "old-sdk-del.mp4", seconds=1.0, seed=304)
    mid = _register(c, path)["MediaId"]
    job = c.call("SubmitAIJob", MediaId=mid, Types="AIVideoTag")["AIJobList"]["AIJob"][0]["JobId"]
    r = c.call("DeleteVideo", VideoIds=f"{mid},ghost")
    assert r["NonExistVideoIds"] == ["ghost"] and r["ForbiddenVideoIds"] == []
    e = _server_error(c.call, "GetVideoInfo", VideoId=mid)
    assert e.get_error_code() == "InvalidVideo.NotFound" and e.get_http_status() == 404
    assert c.call("ListAIJob", JobIds=job)["NonExistAIJobIds"] == {"String": [job]}
    assert not list((server.data_dir / "blobs" / "media").glob(f"*/{mid}"))
    # the file can be registered again afterwards, as a new video
    again = _register(c, path)
    assert again["NewRegister"] is True and again["MediaId"] != mid


def test_errors(c: OldClient, server: Server) -> None:
    e = _server_error(c.call, "GetVideoInfo", VideoId=uuid.uuid4().hex)
    assert e.get_error_code() == "InvalidVideo.NotFound"
    assert e.get_http_status() == 404
    assert e.get_error_msg() == "The video does not exist."
    assert len(e.get_request_id()) == 36

    e = _server_error(c.call, "ListAIJob")
    assert e.get_error_code() == "MissingParameter" and e.get_http_status() == 400
    assert e.get_error_msg() == (
        'The input parameter "JobIds" that is mandatory for processing this request is not supplied.'
    )
    e = _server_error(c.call, "ListAIJob", JobIds=",".join(str(i) for i in range(11)))
    assert e.get_error_code() == "InvalidParameter" and e.get_http_status() == 400
    e = _server_error(c.call, "SubmitAIJob", MediaId="x", Types="AIVideoTag", Config='{"Nope":1}')
    assert e.get_error_code() == "InvalidParameter"

    bad = OldClient(server.endpoint, Key(c.client.get_access_key(), "wrong-secret"))
    e = _server_error(bad.call, "ListAIJob", JobIds="x")
    # The old core compares the server's "server string to sign is:" with its own; when they are equal the
    # secret must be wrong, and it rewrites SignatureDoesNotMatch into InvalidAccessKeySecret (spec §2).
    assert e.get_error_code() == "InvalidAccessKeySecret" and e.get_http_status() == 400

    ghost = OldClient(server.endpoint, Key("LTAI" + "Q" * 20, "secret"))
    e = _server_error(ghost.call, "ListAIJob", JobIds="x")
    assert e.get_error_code() == "InvalidAccessKeyId.NotFound" and e.get_http_status() == 404


def test_common_request_form_body(c: OldClient, server: Server) -> None:
    """The old core's CommonRequest with parameters in a form body (signed with the query parameters)."""
    from aliyunsdkcore.request import CommonRequest

    req = CommonRequest(domain=server.endpoint, version="2017-03-21", action_name="ListAIJob")
    req.set_method("POST")
    req.set_protocol_type("http")
    req.add_body_params("JobIds", "form-a,form b")
    body = json.loads(c.client.do_action_with_exception(req))
    assert body["NonExistAIJobIds"] == {"String": ["form-a", "form b"]}
