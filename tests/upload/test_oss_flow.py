"""The official upload flow: CreateUploadVideo (Tea SDK and old core SDK), then ``oss2`` with ``StsAuth`` on
the returned endpoint (PutObject; resumable multipart interrupted and resumed), then SubmitAIJob and
GetPlayInfo whose URL downloads the identical bytes. Refusals: another object, an expired token, a
tampered signature, oversize bodies and bad parts each get their OSS error code, and nothing partial
becomes media."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import oss2
import pytest
from alibabacloud_vod20170321 import models as m

from tests.conftest import Key, Server, wait_for
from tests.media import VideoWriter
from tests.receiver import CallbackReceiver
from tests.sdk import OldClient, new_client
from tests.upload.conftest import MAX_PART, MAX_PUT, bucket_for, decode, expire_credential, write_random


def make_noise_video(path: Path, target_bytes: int, seed: int = 0) -> Path:
    """An H.264 MP4 of about ``target_bytes`` (lossless noise barely compresses)."""
    rng = np.random.default_rng(seed)
    w, h = 320, 240
    n = max(2, target_bytes // 140_000 + 1)
    with VideoWriter(path, (w, h), 25, crf=0) as out:
        for _ in range(n):
            out.write(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
    return path


@pytest.fixture(scope="module")
def client(up_server: Server, up_key: Key) -> Any:
    return new_client(up_server.endpoint, up_key)


def events(rx: CallbackReceiver, video_id: str) -> list[str]:
    return [b["EventType"] for b in rx.bodies if b.get("VideoId") == video_id]


@pytest.fixture(scope="module")
def receiver(client: Any) -> CallbackReceiver:
    r = CallbackReceiver()
    client.set_message_callback(m.SetMessageCallbackRequest(callback_type="HTTP", callback_url=r.url,
                                                            event_type_list="ALL"))
    return r


@pytest.fixture(scope="module")
def media_root(up_server: Server) -> Path:
    d = up_server.data_dir.parent / "media"
    d.mkdir(exist_ok=True)
    return d


def create(client: Any, name: str = "clip.mp4", **kw: Any) -> tuple[str, dict[str, Any], dict[str, Any]]:
    body = client.create_upload_video(m.CreateUploadVideoRequest(title=kw.pop("title", "t"), file_name=name,
                                                                 **kw)).body
    return body.video_id, decode(body.upload_address), decode(body.upload_auth)


def status(client: Any, vid: str) -> str:
    return str(client.get_video_info(m.GetVideoInfoRequest(video_id=vid)).body.video.status)


def oss_code(fn: Any) -> str:
    with pytest.raises(oss2.exceptions.OssError) as ei:
        fn()
    return str(ei.value.code)


def test_address_and_auth_shape(client: Any, up_server: Server) -> None:
    vid, addr, auth = create(client, "a.mp4")
    assert set(addr) == {"Endpoint", "Bucket", "FileName"}
    assert addr["Endpoint"] == up_server.url and addr["FileName"].endswith(".mp4")
    assert set(auth) == {"AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration", "ExpireUTCTime", "Region"}
    assert auth["Expiration"] == "3000" and auth["ExpireUTCTime"].endswith("Z")
    assert status(client, vid) == "Uploading"
    # m3u8: slices go under ObjectPrefix, the playlist itself is FileName inside it.
    _, addr2, _ = create(client, "index.m3u8")
    assert addr2["FileName"].startswith(addr2["ObjectPrefix"]) and addr2["FileName"].endswith(".m3u8")


def test_put_object_5mb_then_ai_job_and_play(client: Any, receiver: CallbackReceiver, media_root: Path) -> None:
    src = make_noise_video(media_root / "five.mp4", 5 * 1024 * 1024)
    assert 5 * 1024 * 1024 <= src.stat().st_size < MAX_PUT
    vid, addr, auth = create(client, "five.mp4", reference_id="ref-five-mb")
    bucket = bucket_for(addr, auth)
    res = bucket.put_object_from_file(addr["FileName"], str(src))  # oss2 checks x-oss-hash-crc64ecma itself
    data = src.read_bytes()
    assert res.etag == hashlib.md5(data).hexdigest().upper()
    crc = oss2.utils.Crc64(0)
    crc.update(data)
    assert res.crc == crc.crc
    head = bucket.head_object(addr["FileName"])
    assert head.content_length == len(data) and head.etag == res.etag
    assert bucket.get_object(addr["FileName"], byte_range=(10, 19)).read() == data[10:20]
    assert status(client, vid) == "Normal"
    info = client.get_video_info(m.GetVideoInfoRequest(video_id=vid)).body.video
    assert info.size == len(data) and info.duration > 0
    # events through the callback outbox
    wait_for(lambda: {"FileUploadComplete", "VideoAnalysisComplete"} <= set(events(receiver, vid)), timeout=30)
    ev = {b["EventType"]: b for b in receiver.bodies if b.get("VideoId") == vid}
    assert ev["FileUploadComplete"]["Size"] == len(data) and ev["VideoAnalysisComplete"]["Status"] == "success"
    # upload details
    d = client.get_upload_details(m.GetUploadDetailsRequest(media_ids=vid + ",nope")).body
    assert d.non_exist_media_ids == ["nope"]
    det = d.upload_details[0]
    assert (det.media_id, det.upload_size, det.upload_ratio, det.status) == (vid, len(data), 1.0, "Normal")
    # an AI job on the uploaded video
    job = client.submit_aijob(m.SubmitAIJobRequest(media_id=vid, types="AIVideoTag")).body.aijob_list.aijob[0]
    done = wait_for(lambda: next((j for j in client.list_aijob(m.ListAIJobRequest(job_ids=job.job_id))
                                  .body.aijob_list.aijob if j.status in ("success", "fail")), None), timeout=60)
    assert done.status == "success", done.message
    # play info: one OD stream whose URL downloads the identical bytes
    play = client.get_play_info(m.GetPlayInfoRequest(video_id=vid)).body
    p = play.play_info_list.play_info[0]
    assert (p.definition, p.format, p.width, p.height, p.size) == ("OD", "mp4", 320, 240, len(data))
    assert float(p.duration) > 0 and float(p.bitrate) > 0 and play.video_base.media_type == "video"
    assert httpx.get(p.play_url, timeout=30).content == data
    by_ref = client.get_play_info(m.GetPlayInfoRequest(reference_id="ref-five-mb")).body
    assert by_ref.video_base.video_id == vid


def test_reference_id_unique_per_account(client: Any, up_server: Server, up_other_key: Key) -> None:
    create(client, "r.mp4", reference_id="dup-ref-01")
    with pytest.raises(Exception) as ei:
        create(client, "r.mp4", reference_id="dup-ref-01")
    assert "InvalidReferenceId.Duplicate" in str(ei.value)
    other = new_client(up_server.endpoint, up_other_key)
    create(other, "r.mp4", reference_id="dup-ref-01")  # another account may use the same one


@pytest.mark.parametrize("mb,part_kb", [
    pytest.param(24, 1024, id="24MB"),
    pytest.param(120, 4096, id="120MB", marks=pytest.mark.slow),
])
def test_resumable_multipart_interrupted_and_resumed(client: Any, media_root: Path, tmp_path: Path, mb: int,
                                                     part_kb: int) -> None:
    src = make_noise_video(media_root / f"multi{mb}.mp4", mb * 1024 * 1024, seed=1)
    size = src.stat().st_size
    vid, addr, auth = create(client, src.name, file_size=size)
    bucket = bucket_for(addr, auth)
    store = oss2.ResumableStore(root=str(tmp_path))
    part = part_kb * 1024
    n_parts = (size + part - 1) // part

    class Stop(Exception):
        pass

    def interrupt(consumed: int, total: int | None) -> None:
        if consumed > size // 3:
            raise Stop()

    with pytest.raises(Stop):
        oss2.resumable_upload(bucket, addr["FileName"], str(src), store=store, multipart_threshold=part,
                              part_size=part, num_threads=1, progress_callback=interrupt)
    record = next(iter(store.get(k) for k in [*_store_keys(tmp_path)]))
    done_before = list(oss2.PartIterator(bucket, addr["FileName"], record["upload_id"]))
    assert 0 < len(done_before) < n_parts
    assert status(client, vid) == "Uploading"
    det = client.get_upload_details(m.GetUploadDetailsRequest(media_ids=vid)).body.upload_details[0]
    assert 0 < det.upload_size < size and 0 < det.upload_ratio < 1
    # The credential expires meanwhile: the upload began with a valid token, so it may finish.
    expire_credential_for(client, auth)
    sent: list[int] = []
    oss2.resumable_upload(bucket, addr["FileName"], str(src), store=store, multipart_threshold=part,
                          part_size=part, num_threads=2, progress_callback=lambda c, t: sent.append(c))
    # (reading it back needs a valid credential: RefreshUploadVideo gives one for the same address)
    fresh = client.refresh_upload_video(m.RefreshUploadVideoRequest(video_id=vid)).body
    head = bucket_for(decode(fresh.upload_address), decode(fresh.upload_auth)).head_object(addr["FileName"])
    assert head.etag.endswith(f"-{n_parts}") and head.content_length == size
    assert status(client, vid) == "Normal"
    play = client.get_play_info(m.GetPlayInfoRequest(video_id=vid)).body.play_info_list.play_info[0]
    assert httpx.get(play.play_url, timeout=60).content == src.read_bytes()
    # ... but a new upload with the expired credential is refused.
    assert oss_code(lambda: bucket.put_object(addr["FileName"], b"x")) == "SecurityTokenExpired"


def _store_keys(root: Path) -> list[str]:
    return [p.name for p in root.rglob("*") if p.is_file()]


_SERVER: dict[str, Server] = {}


@pytest.fixture(autouse=True, scope="module")
def _remember_server(up_server: Server) -> None:
    _SERVER["s"] = up_server


def expire_credential_for(client: Any, auth: dict[str, Any]) -> None:
    expire_credential(_SERVER["s"], auth["AccessKeyId"])


def test_refusals(client: Any, up_server: Server, media_root: Path) -> None:
    vid_a, addr_a, auth_a = create(client, "a.mp4")
    vid_b, addr_b, _ = create(client, "b.mp4")
    bucket_a = bucket_for(addr_a, auth_a)
    # another object
    assert oss_code(lambda: bucket_a.put_object(addr_b["FileName"], b"data")) == "AccessDenied"
    assert oss_code(lambda: bucket_a.put_object("sv/elsewhere.mp4", b"data")) == "AccessDenied"
    # tampered signature: a wrong secret, and a flipped character in a correctly signed request
    bad = oss2.Bucket(oss2.StsAuth(auth_a["AccessKeyId"], auth_a["AccessKeySecret"] + "x", auth_a["SecurityToken"]),
                      addr_a["Endpoint"], addr_a["Bucket"])
    assert oss_code(lambda: bad.put_object(addr_a["FileName"], b"data")) == "SignatureDoesNotMatch"
    req = _signed_put(addr_a, auth_a, b"data")
    ak, sig = req.headers["authorization"][4:].split(":")
    req.headers["authorization"] = f"OSS {ak}:{'A' if sig[0] != 'A' else 'B'}{sig[1:]}"
    r = httpx.Client().send(req)
    assert r.status_code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in r.content
    assert r.headers["x-oss-request-id"] and r.headers["content-type"] == "application/xml"
    # a wrong token
    wrong = oss2.Bucket(oss2.StsAuth(auth_a["AccessKeyId"], auth_a["AccessKeySecret"], "CAISnot-it"),
                        addr_a["Endpoint"], addr_a["Bucket"])
    assert oss_code(lambda: wrong.put_object(addr_a["FileName"], b"data")) == "InvalidSecurityToken"
    # oversize PutObject and UploadPart
    big = write_random(media_root / "big.bin", MAX_PUT + 1)
    assert oss_code(lambda: bucket_a.put_object_from_file(addr_a["FileName"], str(big))) == "EntityTooLarge"
    upload_id = bucket_a.init_multipart_upload(addr_a["FileName"]).upload_id
    assert oss_code(lambda: bucket_a.upload_part(addr_a["FileName"], upload_id, 1, b"\0" * (MAX_PART + 1))) \
        == "EntityTooLarge"
    # a part that does not exist / a wrong ETag
    p1 = bucket_a.upload_part(addr_a["FileName"], upload_id, 1, b"\1" * 200_000)
    assert oss_code(lambda: bucket_a.complete_multipart_upload(
        addr_a["FileName"], upload_id, [oss2.models.PartInfo(1, p1.etag), oss2.models.PartInfo(2, p1.etag)]
    )) == "InvalidPart"
    assert oss_code(lambda: bucket_a.complete_multipart_upload(
        addr_a["FileName"], upload_id, [oss2.models.PartInfo(1, "0" * 32)])) == "InvalidPart"
    # nothing partial became media
    assert status(client, vid_a) == "Uploading"
    assert not (up_server.data_dir / "blobs" / "media").exists() or not any(
        p for p in (up_server.data_dir / "blobs" / "media").rglob("*") if vid_a in str(p) and p.is_file())
    assert oss_code(lambda: bucket_a.get_object(addr_a["FileName"])) == "NoSuchKey"
    with pytest.raises(oss2.exceptions.NotFound):
        bucket_a.head_object(addr_a["FileName"])
    # DeleteMultipartUpload drops the parts
    client.delete_multipart_upload(m.DeleteMultipartUploadRequest(media_id=vid_a, media_type="video"))
    assert not (up_server.data_dir / "oss-parts" / upload_id).exists()
    assert oss_code(lambda: bucket_a.list_parts(addr_a["FileName"], upload_id)) == "NoSuchUpload"
    # an expired token
    expire_credential(up_server, auth_a["AccessKeyId"])
    assert oss_code(lambda: bucket_a.put_object(addr_a["FileName"], b"data")) == "SecurityTokenExpired"
    assert oss_code(lambda: bucket_a.init_multipart_upload(addr_a["FileName"])) == "SecurityTokenExpired"
    assert status(client, vid_a) == "Uploading"
    assert not any((up_server.data_dir / "oss-tmp").glob("*")) if (up_server.data_dir / "oss-tmp").exists() else True


def _signed_put(addr: dict[str, Any], auth: dict[str, Any], data: bytes, host: str | None = None) -> httpx.Request:
    from email.utils import formatdate

    from openvod.oss import auth as oss_auth

    headers = {"date": formatdate(usegmt=True), "x-oss-security-token": auth["SecurityToken"],
               "content-type": "application/octet-stream"}
    sts = oss_auth.string_to_sign("PUT", {k: [v] for k, v in headers.items()}, addr["Bucket"], addr["FileName"], [])
    headers["authorization"] = f"OSS {auth['AccessKeyId']}:{oss_auth.sign(auth['AccessKeySecret'], sts)}"
    if host:
        headers["host"] = host
        url = f"{addr['Endpoint']}/{addr['FileName']}"
    else:
        url = f"{addr['Endpoint']}/{addr['Bucket']}/{addr['FileName']}"
    return httpx.Client().build_request("PUT", url, headers=headers, content=data)


def test_virtual_host_style(client: Any, up_server: Server) -> None:
    vid, addr, auth = create(client, "vh.mp4")
    req = _signed_put(addr, auth, b"virtual host bytes", host=f"{addr['Bucket']}.localhost:{up_server.port}")
    r = httpx.Client().send(req)
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"' + hashlib.md5(b"virtual host bytes").hexdigest().upper() + '"'
    c = oss2.utils.Crc64(0)
    c.update(b"virtual host bytes")
    assert int(r.headers["x-oss-hash-crc64ecma"]) == c.crc
    # not a video: stored, then the probe marks the upload failed (and says why in the event)
    assert status(client, vid) == "UploadFail"


def test_old_core_sdk_flow(up_server: Server, up_key: Key, media_root: Path) -> None:
    from tests.media import make_video

    old = OldClient(up_server.endpoint, up_key)
    r = old.call("CreateUploadVideo", Title="old sdk", FileName="old.mp4")
    addr, auth = decode(r["UploadAddress"]), decode(r["UploadAuth"])
    src = make_video(media_root / "old.mp4", seconds=1.0)
    bucket_for(addr, auth).put_object_from_file(addr["FileName"], str(src))
    assert old.call("GetVideoInfo", VideoId=r["VideoId"])["Video"]["Status"] == "Normal"
    refreshed = old.call("RefreshUploadVideo", VideoId=r["VideoId"])
    assert decode(refreshed["UploadAddress"]) == addr
    assert decode(refreshed["UploadAuth"])["AccessKeyId"] != auth["AccessKeyId"]
    play = old.call("GetPlayInfo", VideoId=r["VideoId"])
    url = play["PlayInfoList"]["PlayInfo"][0]["PlayURL"]
    assert httpx.get(url, timeout=30).content == src.read_bytes()
    job = old.call("SubmitAIJob", MediaId=r["VideoId"], Types="AIMediaDNA")
    assert job["AIJobList"]["AIJob"][0]["MediaId"] == r["VideoId"]


def test_post_object_image(client: Any, up_server: Server) -> None:
    import base64
    import io

    from PIL import Image

    from openvod.oss import auth as oss_auth

    body = client.create_upload_image(m.CreateUploadImageRequest(image_type="default", image_ext="png",
                                                                 title="pic")).body
    addr, auth = decode(body.upload_address), decode(body.upload_auth)
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 10, 10)).save(buf, format="PNG")
    png = buf.getvalue()
    exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 600))
    policy = base64.b64encode(json.dumps({"expiration": exp, "conditions": [
        ["content-length-range", 1, 1024 * 1024], ["eq", "$key", addr["FileName"]]]}).encode()).decode()
    fields = {"key": addr["FileName"], "OSSAccessKeyId": auth["AccessKeyId"], "policy": policy,
              "Signature": oss_auth.sign(auth["AccessKeySecret"], policy),
              "x-oss-security-token": auth["SecurityToken"], "success_action_status": "201"}
    url = f"{addr['Endpoint']}/{addr['Bucket']}"
    r = httpx.post(url, data=fields, files={"file": ("pic.png", png, "image/png")}, timeout=30)
    assert r.status_code == 201, r.text
    assert b"<PostResponse>" in r.content and f"<Key>{addr['FileName']}</Key>".encode() in r.content
    # a policy that does not allow this size is refused before anything is stored
    small = base64.b64encode(json.dumps({"expiration": exp, "conditions": [
        ["content-length-range", 1, 10]]}).encode()).decode()
    fields2 = {**fields, "policy": small, "Signature": oss_auth.sign(auth["AccessKeySecret"], small)}
    r2 = httpx.post(url, data=fields2, files={"file": ("pic.png", png, "image/png")}, timeout=30)
    assert r2.status_code == 400 and b"<Code>EntityTooLarge</Code>" in r2.content
    fields3 = {**fields, "Signature": oss_auth.sign("wrong", policy)}
    r3 = httpx.post(url, data=fields3, files={"file": ("pic.png", png, "image/png")}, timeout=30)
    assert r3.status_code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in r3.content


@pytest.mark.parametrize("conditions", [
    [["content-length-range", "a", "b"]], [["content-length-range", 1, "1e3"]], [["content-length-range", None, 5]],
    5, None, "conditions", {"key": "x"}, [["in", "$key", "x"]], [["lt", "$key", "x"]]])
def test_post_object_signed_malformed_policy_is_a_400(client: Any, conditions: Any) -> None:
    """A policy signed with the upload credential's own secret (the holder can sign anything) but not a
    well-formed one: InvalidArgument / InvalidPolicyDocument, never a 500, and nothing stored."""
    import base64

    from openvod.oss import auth as oss_auth

    vid, addr, auth = create(client, "pol.mp4")
    exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 600))
    policy = base64.b64encode(json.dumps({"expiration": exp, "conditions": conditions}).encode()).decode()
    fields = {"key": addr["FileName"], "OSSAccessKeyId": auth["AccessKeyId"], "policy": policy,
              "Signature": oss_auth.sign(auth["AccessKeySecret"], policy),
              "x-oss-security-token": auth["SecurityToken"], "success_action_status": "200"}
    r = httpx.post(f"{addr['Endpoint']}/{addr['Bucket']}", data=fields, files={"file": ("a.mp4", b"x" * 100)},
                   timeout=30)
    assert r.status_code == 400, r.text
    assert b"<Code>InvalidArgument</Code>" in r.content and b"<RequestId>" in r.content
    assert status(client, vid) == "Uploading"


def test_post_object_in_and_not_in_conditions(client: Any) -> None:
    """OSS's ``in`` / ``not-in`` policy conditions are checked (they were ignored)."""
    import base64

    from openvod.oss import auth as oss_auth

    vid, addr, auth = create(client, "in.mp4")
    exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 600))

    def post(conditions: list[Any], ctype: str) -> httpx.Response:
        policy = base64.b64encode(json.dumps({"expiration": exp, "conditions": conditions}).encode()).decode()
        fields = {"key": addr["FileName"], "OSSAccessKeyId": auth["AccessKeyId"], "policy": policy,
                  "Signature": oss_auth.sign(auth["AccessKeySecret"], policy), "Content-Type": ctype,
                  "x-oss-security-token": auth["SecurityToken"], "success_action_status": "200"}
        return httpx.post(f"{addr['Endpoint']}/{addr['Bucket']}", data=fields,
                          files={"file": ("a.mp4", b"x" * 100)}, timeout=30)

    r = post([["in", "$content-type", ["image/png", "image/jpeg"]]], "video/mp4")
    assert r.status_code == 403 and b"<Code>AccessDenied</Code>" in r.content, r.text
    r = post([["not-in", "$content-type", ["video/mp4"]]], "video/mp4")
    assert r.status_code == 403 and b"<Code>AccessDenied</Code>" in r.content, r.text
    assert status(client, vid) == "Uploading"
    r = post([["in", "$content-type", ["video/mp4"]], ["not-in", "$content-type", ["image/png"]]], "video/mp4")
    assert r.status_code == 200, r.text
