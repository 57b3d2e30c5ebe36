"""Cross-account isolation of the surfaces added with uploads (issue 10: 0 cross-account reads):
the upload Actions, the OSS-compatible object endpoint, the library Actions and URL uploads.

Account A uploads a video (oss2, PutObject) and opens a multipart upload; account B then names A's
ids, ReferenceId, object keys, UploadId, blob keys and signed-URL paths everywhere it can, with its own
valid credentials. Every attempt must behave as for an id that does not exist, and A's video must be
unchanged afterwards."""

from __future__ import annotations

import base64
import json
import time
from email.utils import formatdate
from typing import Any

import httpx
import pytest

from openvod.oss import auth as oss_auth
from openvod.util import utc_iso
from tests.conftest import Key, Server, wait_for
from tests.media import make_video
from tests.security.test_fuzz import send


def call(srv: Server, key: Key, action: str, **params: str) -> httpx.Response:
    return send(srv, key, action, params, "post")


def ok(srv: Server, key: Key, action: str, **params: str) -> dict[str, Any]:
    r = call(srv, key, action, **params)
    assert r.status_code == 200, (action, r.text)
    return dict(r.json())


def decode(b64: str) -> dict[str, Any]:
    return dict(json.loads(base64.b64decode(b64)))


def oss_request(srv: Server, auth: dict[str, Any], method: str, bucket: str, key: str,
                query: list[tuple[str, str]] | None = None, body: bytes = b"") -> httpx.Response:
    query = query or []
    headers = {"Date": formatdate(usegmt=True), "x-oss-security-token": auth["SecurityToken"]}
    sts = oss_auth.string_to_sign(method, {k.lower(): [v] for k, v in headers.items()}, bucket, key, query)
    headers["Authorization"] = f"OSS {auth['AccessKeyId']}:{oss_auth.sign(auth['AccessKeySecret'], sts)}"
    qs = "&".join(f"{k}={v}" if v else k for k, v in query)
    return httpx.request(method, f"{srv.url}/{bucket}/{key}" + (f"?{qs}" if qs else ""), headers=headers,
                         content=body, timeout=60)


@pytest.fixture(scope="module")
def world(server: Server, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    a, b = server.key("xacct-a"), server.key("xacct-b")
    clip = make_video(tmp_path_factory.mktemp("xacct") / "a.mp4", seconds=1.0)
    up = ok(server, a, "CreateUploadVideo", Title="A secret", FileName="a.mp4", ReferenceId="a-secret-ref-1",
            Description="only A")
    addr, auth = decode(up["UploadAddress"]), decode(up["UploadAuth"])
    r = oss_request(server, auth, "PUT", addr["Bucket"], addr["FileName"], body=clip.read_bytes())
    assert r.status_code == 200, r.text
    vid = up["VideoId"]
    wait_for(lambda: ok(server, a, "GetVideoInfo", VideoId=vid)["Video"]["Status"] == "Normal", timeout=120)
    # A second upload of A's left open as a multipart upload.
    up2 = ok(server, a, "CreateUploadVideo", Title="A pending", FileName="b.mp4")
    addr2, auth2 = decode(up2["UploadAddress"]), decode(up2["UploadAuth"])
    r = oss_request(server, auth2, "POST", addr2["Bucket"], addr2["FileName"], [("uploads", "")])
    assert r.status_code == 200, r.text
    upload_id = r.text.split("<UploadId>")[1].split("</UploadId>")[0]
    img = ok(server, a, "CreateUploadImage", ImageType="default", ImageExt="png", Title="A image")
    url_job = ok(server, a, "UploadMediaByURL", UploadURLs="https://example.invalid/a.mp4")["UploadJobs"][0]
    play = ok(server, a, "GetPlayInfo", VideoId=vid)
    play_url = play["PlayInfoList"]["PlayInfo"][0]["PlayURL"]
    return {"a": a, "b": b, "vid": vid, "addr": addr, "auth": auth, "vid2": up2["VideoId"], "addr2": addr2,
            "upload_id": upload_id, "image": img["ImageId"], "job": url_job["JobId"], "play_url": play_url,
            "source": clip.read_bytes()}


def test_actions_with_another_accounts_ids(server: Server, world: dict[str, Any]) -> None:
    b, vid, vid2 = world["b"], world["vid"], world["vid2"]
    not_found = {"InvalidVideo.NotFound", "InvalidParameter", "Forbidden.IllegalStatus", "InvalidMedia.NotFound",
                 "InvalidImage.NotFound", "MediaNotExist", "InvalidParameter.MediaId", "NotFound"}
    for action, params in [
        ("GetVideoInfo", {"VideoId": vid}), ("GetVideoInfo", {"ReferenceId": "a-secret-ref-1"}),
        ("GetPlayInfo", {"VideoId": vid}), ("GetPlayInfo", {"ReferenceId": "a-secret-ref-1"}),
        ("GetMezzanineInfo", {"VideoId": vid}), ("RefreshUploadVideo", {"VideoId": vid2}),
        ("RefreshUploadVideo", {"ReferenceId": "a-secret-ref-1"}), ("UpdateVideoInfo", {"VideoId": vid, "Title": "B"}),
        ("DeleteMultipartUpload", {"MediaId": vid2, "MediaType": "video"}), ("GetImageInfo", {"ImageId": world["image"]}),
        ("SubmitAIJob", {"MediaId": vid, "Types": "AIVideoTag"}), ("ListJobInfo", {"JobType": "ai", "MediaId": vid}),
    ]:
        r = call(server, b, action, **params)
        body = r.json()
        assert r.status_code in (400, 403, 404), (action, params, r.status_code, body)
        assert vid not in r.text and "A secret" not in r.text, (action, r.text)
        assert body["Code"] in not_found or body["Code"].startswith(("Invalid", "Forbidden")), (action, body)
    # Batch reads list A's ids as nonexistent and answer nothing of A's.
    for action, params, field in [
        ("GetVideoInfos", {"VideoIds": f"{vid},{vid2}"}, "NonExistVideoIds"),
        ("GetUploadDetails", {"MediaIds": f"{vid},{vid2}"}, "NonExistMediaIds"),
        ("GetImageInfos", {"ImageIds": world["image"]}, "NonExistImageIds"),
        ("GetURLUploadInfos", {"JobIds": world["job"]}, "NonExists"),
        ("CancelUrlUploadJobs", {"JobIds": world["job"]}, "NonExists"),
        ("UpdateVideoInfos", {"UpdateContent": json.dumps([{"VideoId": vid, "Title": "B was here"}])},
         "NonExistVideoIds"),
    ]:
        body = ok(server, b, action, **params)
        assert "A secret" not in json.dumps(body) and "A image" not in json.dumps(body), (action, body)
        assert body.get(field), (action, body)
    for action, params in [("GetVideoList", {}), ("SearchMedia", {"Match": f"VideoId = '{vid}'"}),
                           ("SearchMedia", {"Match": "Title = 'A secret'"}), ("SearchMedia", {"SearchType": "image"}),
                           ("DescribeVodAIData", {"StartTime": utc_iso(time.time() - 86400),
                                                  "EndTime": utc_iso(time.time() + 3600)})]:
        body = ok(server, b, action, **params)
        assert vid not in json.dumps(body) and "A secret" not in json.dumps(body), (action, body)
    body = ok(server, b, "DeleteVideo", VideoIds=vid)
    # A's video is untouched by all of it.
    a_view = ok(server, world["a"], "GetVideoInfo", VideoId=vid)["Video"]
    assert a_view["Title"] == "A secret" and a_view["Status"] == "Normal"
    assert ok(server, world["a"], "GetURLUploadInfos", JobIds=world["job"])["URLUploadInfoList"]


def test_object_endpoint_with_another_accounts_credential(server: Server, world: dict[str, Any]) -> None:
    """B's valid upload credential on A's object, A's multipart upload and A's m3u8 prefix: refused."""
    b = world["b"]
    mine = ok(server, b, "CreateUploadVideo", Title="B", FileName="mine.mp4")
    baddr, bauth = decode(mine["UploadAddress"]), decode(mine["UploadAuth"])
    bucket, a_key, a_key2 = world["addr"]["Bucket"], world["addr"]["FileName"], world["addr2"]["FileName"]
    uid = world["upload_id"]
    attempts = [
        ("GET", a_key, []), ("HEAD", a_key, []), ("PUT", a_key, []), ("PUT", a_key2, []),
        ("POST", a_key2, [("uploads", "")]), ("PUT", a_key2, [("partNumber", "1"), ("uploadId", uid)]),
        ("GET", a_key2, [("uploadId", uid)]), ("POST", a_key2, [("uploadId", uid)]),
        ("DELETE", a_key2, [("uploadId", uid)]),
        # A's UploadId under B's own object: the upload belongs to another object and credential.
        ("PUT", baddr["FileName"], [("partNumber", "1"), ("uploadId", uid)]),
        ("GET", baddr["FileName"], [("uploadId", uid)]), ("POST", baddr["FileName"], [("uploadId", uid)]),
        ("DELETE", baddr["FileName"], [("uploadId", uid)]),
        # Keys that walk out of B's scope.
        ("GET", baddr["FileName"] + "/../../" + a_key, []), ("GET", f"media/{a_key}", []),
    ]
    for method, key, query in attempts:
        r = oss_request(server, bauth, method, bucket, key, query, body=b"x" * 10 if method == "PUT" else b"")
        assert r.status_code in (400, 403, 404), (method, key, query, r.status_code, r.text)
        assert world["source"][:64] not in r.content
    # A's multipart upload is still open and A's object still reads back whole with A's credential.
    r = oss_request(server, world["auth"], "GET", bucket, a_key)
    assert r.status_code == 200 and r.content == world["source"]
    ok(server, world["a"], "GetUploadDetails", MediaIds=world["vid2"])


def test_urls_and_covers_naming_another_accounts_files(server: Server, world: dict[str, Any]) -> None:
    """CoverURL / FileURL / URL uploads that name A's blob key, A's files on disk or A's signed-URL path
    without the signature: refused, or stored but never signed for B."""
    b, vid = world["b"], world["vid"]
    a_blob = world["play_url"].split("/blobs/", 1)[1].split("?", 1)[0]
    data_blob = server.data_dir / "blobs" / a_blob
    assert data_blob.is_file()
    mine = ok(server, b, "CreateUploadVideo", Title="B", FileName="c.mp4", CoverURL=f"blob:{a_blob}")
    for cover in (f"blob:{a_blob}", f"blob:aiimage/../{a_blob}", str(data_blob), f"file://{data_blob}",
                  f"/blobs/{a_blob}"):
        call(server, b, "UpdateVideoInfo", VideoId=mine["VideoId"], CoverURL=cover)
        info = ok(server, b, "GetVideoInfo", VideoId=mine["VideoId"])
        assert a_blob not in json.dumps(info) and "auth_key" not in info["Video"].get("CoverURL", ""), info
    # URL uploads only take http(s) and go through the SSRF guard; local paths and file: URLs are refused.
    for url in (str(data_blob), f"file://{data_blob}", f"blob:{a_blob}"):
        r = call(server, b, "UploadMediaByURL", UploadURLs=url)
        assert r.status_code == 400, (url, r.text)
    # The blob path without A's signature serves nothing.
    r = httpx.get(f"{server.url}/blobs/{a_blob}", timeout=30)
    assert r.status_code == 403
    r = httpx.get(f"{server.url}/blobs/{a_blob}?auth_key=0-0-0-{'0' * 32}", timeout=30)
    assert r.status_code == 403
    # RegisterMedia of A's blob by path: refused whatever the roots (defect 2).
    r = call(server, b, "RegisterMedia", RegisterMetadatas=json.dumps([{"FileURL": str(data_blob), "Title": "x"}]))
    assert r.status_code in (200, 400), r.text
    if r.status_code == 200:
        assert not r.json().get("RegisteredMediaList") and r.json()["FailedFileURLs"] == [str(data_blob)], r.text
    assert vid not in json.dumps(ok(server, b, "GetVideoList"))  # nothing of A's was registered for B

