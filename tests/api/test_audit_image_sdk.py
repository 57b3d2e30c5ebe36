"""SubmitAIImageAuditJob through both official SDKs: images uploaded with CreateUploadImage (OSS
upload with the returned credential), audited by the real analyzer, read back with
GetAIMediaAuditJob and GetMediaAuditResult (MediaId = ImageId). OCR is off here (``run_ocr``
false), so the text-based part of the ad scene is honestly ``review``; templates that do not ask for
ad show the clean pass."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_vod20170321 import models as m
from PIL import Image

from bench.audit.media import qr_image
from tests.conftest import Server, free_port, wait_for
from tests.sdk import OldClient, new_client
from tests.upload.conftest import bucket_for, decode

pytest.importorskip("nudenet", reason="the porn scene's model ships in the nudenet wheel")
pytest.importorskip("oss2")

PORN_LIVE = '{"AuditItem":["porn","live"],"AuditRange":["video","text-title"],"AuditContent":["screen"],"AuditAutoBlock":"no"}'
WITH_AD = '{"AuditItem":["porn","ad","live","terrorism"],"AuditRange":["video"],"AuditContent":["screen"],"AuditAutoBlock":"no"}'


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = Server(tmp_path_factory.mktemp("auditimg") / "data", free_port(), env={
        "OPENVOD_ENGINE__WORKERS": "1", "OPENVOD_AUDIT__RUN_OCR": "false", "OPENVOD_AUDIT__RUN_ASR": "false"}).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def key(srv: Server) -> Any:
    return srv.key("imgauditor")


@pytest.fixture(scope="module")
def client(srv: Server, key: Any) -> Any:
    return new_client(srv.endpoint, key)


def _upload(client: Any, rgb: np.ndarray, title: str = "photo", image_type: str = "default") -> str:
    body = client.create_upload_image(m.CreateUploadImageRequest(image_type=image_type, image_ext="jpg",
                                                                 title=title)).body
    addr = decode(body.upload_address)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=92)
    bucket_for(addr, decode(body.upload_auth)).put_object(addr["FileName"], buf.getvalue())
    return str(body.image_id)


def _scene() -> np.ndarray:
    """A textured, non-flat picture (gradient plus noise): nothing to find in it."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:360, 0:480]
    img = np.stack([x * 255 // 480, y * 255 // 360, (x + y) * 255 // 840], axis=-1).astype(np.int16)
    return np.clip(img + rng.integers(-20, 20, img.shape), 0, 255).astype(np.uint8)


def _template(client: Any, cfg: str) -> str:
    return str(client.add_aitemplate(m.AddAITemplateRequest(template_name="img", template_type="AIMediaAudit",
                                                          template_config=cfg)).body.template_id)


def _run(client: Any, image_id: str, tid: str) -> Any:
    jid = client.submit_aiimage_audit_job(m.SubmitAIImageAuditJobRequest(
        media_id=image_id, template_id=tid, media_audit_configuration='{"ResourceType":"test_image"}')).body.job_id
    assert jid

    def done() -> Any:
        j = client.get_aimedia_audit_job(m.GetAIMediaAuditJobRequest(job_id=jid)).body.media_audit_job
        return j if j.status in ("success", "fail") else None

    job = wait_for(done, timeout=90, interval=0.3)
    assert job.status == "success", (job.code, job.message)
    assert job.media_id == image_id and job.type == "AIMediaAudit"
    return job


def test_clean_image_passes_and_reads_back(client: Any) -> None:
    iid = _upload(client, _scene(), title="A quiet street")
    data = _run(client, iid, _template(client, PORN_LIVE)).data
    assert data.suggestion == "pass" and data.label == "normal" and data.abnormal_modules == "", data.to_map()
    img = data.image_result[0]
    assert img.type == "image" and img.suggestion == "pass" and {r.scene for r in img.result} == {"porn", "live"}
    assert all(r.suggestion == "pass" and r.label == "normal" for r in img.result)
    assert data.text_result[0].type == "title" and data.text_result[0].suggestion == "pass"
    r = httpx.get(img.url, timeout=10)  # the audited image itself, signed
    assert r.status_code == 200 and r.content[:3] == b"\xff\xd8\xff"
    res = client.get_media_audit_result(m.GetMediaAuditResultRequest(media_id=iid)).body.media_audit_result
    assert res.suggestion == "pass" and res.image_result[0].url.startswith("http")
    # an image has no frames, timeline or speech: empty answers, not errors
    det = client.get_media_audit_result_detail(m.GetMediaAuditResultDetailRequest(media_id=iid, page_no=1)).body
    assert det.media_audit_result_detail.total == 0 and det.media_audit_result_detail.list == []
    tl = client.get_media_audit_result_timeline(m.GetMediaAuditResultTimelineRequest(media_id=iid)).body
    assert tl.media_audit_result_timeline.porn == [] and tl.media_audit_result_timeline.ad == []


def test_qr_code_image_blocks_and_unchecked_scenes_review(client: Any, key: Any, srv: Server) -> None:
    pic = _scene()
    code = qr_image("https://promo.example.com/win", 200)
    pic[80:280, 140:340] = code if code.ndim == 3 else np.repeat(code[..., None], 3, axis=2)
    iid = _upload(client, pic, image_type="cover")
    old = OldClient(srv.endpoint, key)
    jid = old.call("SubmitAIImageAuditJob", MediaId=iid, TemplateId=_template(client, WITH_AD))["JobId"]
    job = wait_for(lambda: (j := old.call("GetAIMediaAuditJob", JobId=jid)["MediaAuditJob"])["Status"] == "success" and j,
                   timeout=90, interval=0.3)
    data = job["Data"]
    img = data["ImageResult"][0]
    assert data["Suggestion"] == "block" and "ad" in data["Label"].split(",") and img["Type"] == "cover"
    by = {r["Scene"]: r for r in img["Result"]}
    assert by["ad"]["Label"] == "qrcode" and by["ad"]["Suggestion"] == "block", by
    # terrorism has no picture model: never a silent pass
    assert by["terrorism"]["Suggestion"] == "review" and by["terrorism"]["Reason"], by
    assert "image-cover" in data["AbnormalModules"].split(",")
    res = old.call("GetMediaAuditResult", MediaId=iid)["MediaAuditResult"]
    assert res["Suggestion"] == "block"


def test_bad_ids_and_other_accounts(client: Any, srv: Server) -> None:
    tid = _template(client, PORN_LIVE)
    with pytest.raises(ClientException) as ei:
        client.submit_aiimage_audit_job(m.SubmitAIImageAuditJobRequest(media_id="nope", template_id=tid))
    assert ei.value.code == "InvalidImage.NotFound"
    body = client.create_upload_image(m.CreateUploadImageRequest(image_type="default", image_ext="png")).body
    with pytest.raises(ClientException) as ei:  # no bytes yet
        client.submit_aiimage_audit_job(m.SubmitAIImageAuditJobRequest(media_id=body.image_id, template_id=tid))
    assert ei.value.code == "Forbidden.IllegalStatus"
    iid = _upload(client, _scene())
    other = new_client(srv.endpoint, srv.key("someone-else"))
    with pytest.raises(ClientException) as ei:  # another account's image
        other.submit_aiimage_audit_job(m.SubmitAIImageAuditJobRequest(media_id=iid))
    assert ei.value.code == "InvalidImage.NotFound"
    with pytest.raises(ClientException) as ei:  # another account's template
        other_img = _upload(other, _scene())
        other.submit_aiimage_audit_job(m.SubmitAIImageAuditJobRequest(media_id=other_img, template_id=tid))
    assert ei.value.status_code == 404
    with pytest.raises(ClientException) as ei:
        client.submit_aiimage_audit_job(m.SubmitAIImageAuditJobRequest(
            media_id=iid, template_id=tid, media_audit_configuration="{bad"))
    assert ei.value.code == "InvalidParameter"
    with pytest.raises(ClientException) as ei:
        other.get_media_audit_result(m.GetMediaAuditResultRequest(media_id=iid))
    assert ei.value.status_code == 404


def test_image_audit_callback(client: Any, key: Any, srv: Server) -> None:
    """AIMediaAuditComplete for an image (UserData's callback URL, raw RPC: the SDKs' image request has no
    UserData field), with MediaId = the ImageId and Data as an object."""
    from tests.receiver import CallbackReceiver
    from tests.sdk import v1_request

    rx = CallbackReceiver()
    try:
        iid = _upload(client, _scene())
        ud = json.dumps({"MessageCallback": {"CallbackURL": rx.url}, "Extend": {"k": "v"}})
        r = v1_request(srv.url, key, "SubmitAIImageAuditJob",
                       {"MediaId": iid, "TemplateId": _template(client, PORN_LIVE), "UserData": ud})
        assert r.status_code == 200, r.text
        jid = r.json()["JobId"]
        body = wait_for(lambda: next((b for b in rx.bodies if b.get("JobId") == jid), None), timeout=90, interval=0.3)
        assert body["EventType"] == "AIMediaAuditComplete" and body["MediaId"] == iid and body["Status"] == "success"
        assert body["Data"]["ImageResult"][0]["Suggestion"] == "pass" and json.loads(body["Extend"]) == {"k": "v"}
    finally:
        rx.close()
