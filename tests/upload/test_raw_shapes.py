"""The wire of every upload / library Action, byte for byte: JSON key sets and scalar types, the list style
of each list (wrapper objects vs plain arrays, spec §1.6), the XML rendering of both, error envelopes,
the unsigned ReportUploadProgress, and the object endpoint's XML bodies and headers."""

from __future__ import annotations

import base64
import json
import time
import xml.etree.ElementTree as ET
from email.utils import formatdate
from typing import Any

import httpx
import pytest

from openvod.oss import auth as oss_auth
from tests.conftest import Key, Server
from tests.media import make_video
from tests.sdk import v1_request

JSON_CT = "application/json;charset=utf-8"


def call(server: Server, key: Key, action: str, params: dict[str, str] | None = None, fmt: str = "JSON") -> Any:
    r = v1_request(server.url, key, action, params or {}, fmt=fmt)
    assert r.status_code < 500, r.text
    if fmt == "XML":
        return r
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == JSON_CT
    return r.json()


def err(server: Server, key: Key, action: str, params: dict[str, str], status: int, code: str) -> None:
    r = v1_request(server.url, key, action, params)
    assert r.status_code == status, r.text
    body = r.json()
    assert list(body) == ["RequestId", "HostId", "Code", "Message", "Recommend"] and body["Code"] == code


def oss_put(addr: dict[str, Any], auth: dict[str, Any], data: bytes) -> httpx.Response:
    headers = {"date": formatdate(usegmt=True), "x-oss-security-token": auth["SecurityToken"],
               "content-type": "video/mp4"}
    sts = oss_auth.string_to_sign("PUT", {k: [v] for k, v in headers.items()}, addr["Bucket"], addr["FileName"], [])
    headers["authorization"] = f"OSS {auth['AccessKeyId']}:{oss_auth.sign(auth['AccessKeySecret'], sts)}"
    return httpx.put(f"{addr['Endpoint']}/{addr['Bucket']}/{addr['FileName']}", headers=headers, content=data)


@pytest.fixture(scope="module")
def key(up_server: Server) -> Key:
    return up_server.key("shapes")


@pytest.fixture(scope="module")
def uploaded(up_server: Server, key: Key) -> dict[str, Any]:
    src = make_video(up_server.data_dir.parent / "shape.mp4", seconds=1.0)
    body = call(up_server, key, "CreateUploadVideo", {"Title": "shape", "FileName": "shape.mp4",
                                                      "ReferenceId": "shape-ref-1", "FileSize": str(src.stat().st_size)})
    addr = json.loads(base64.b64decode(body["UploadAddress"]))
    auth = json.loads(base64.b64decode(body["UploadAuth"]))
    r = oss_put(addr, auth, src.read_bytes())
    assert r.status_code == 200, r.text
    return {"id": body["VideoId"], "addr": addr, "auth": auth, "create": body, "put": r}


def test_create_upload_shapes(up_server: Server, key: Key, uploaded: dict[str, Any]) -> None:
    assert list(uploaded["create"]) == ["RequestId", "VideoId", "UploadAddress", "UploadAuth"]
    r = call(up_server, key, "RefreshUploadVideo", {"VideoId": uploaded["id"]})
    assert list(r) == ["RequestId", "VideoId", "UploadAddress", "UploadAuth"]
    r = call(up_server, key, "RefreshUploadVideo", {"ReferenceId": "shape-ref-1"})
    assert r["VideoId"] == uploaded["id"]
    r = call(up_server, key, "CreateUploadImage", {"ImageType": "default"})
    assert list(r) == ["RequestId", "ImageId", "ImageURL", "FileURL", "UploadAddress", "UploadAuth"]
    assert json.loads(base64.b64decode(r["UploadAddress"]))["FileName"].endswith(".png")
    r = call(up_server, key, "CreateUploadAttachedMedia", {"BusinessType": "subtitle", "MediaExt": "vtt",
                                                            "FileSize": "120"})
    assert list(r) == ["RequestId", "MediaId", "MediaURL", "FileURL", "UploadAddress", "UploadAuth"]
    xml = call(up_server, key, "CreateUploadVideo", {"Title": "x", "FileName": "x.mov"}, fmt="XML")
    root = ET.fromstring(xml.content)
    assert root.tag == "CreateUploadVideoResponse" and [c.tag for c in root] == [
        "RequestId", "VideoId", "UploadAddress", "UploadAuth"]
    # refusals
    err(up_server, key, "CreateUploadVideo", {"Title": "x"}, 400, "MissingParameter")
    err(up_server, key, "CreateUploadVideo", {"Title": "x", "FileName": "x.exe"}, 400, "InvalidFileName.Extension")
    err(up_server, key, "CreateUploadVideo", {"Title": "x", "FileName": "x.mp4", "ReferenceId": "bad"}, 400,
        "InvalidParameter")
    err(up_server, key, "CreateUploadVideo", {"Title": "x", "FileName": "x.mp4", "ReferenceId": "shape-ref-1"},
        400, "InvalidReferenceId.Duplicate")
    err(up_server, key, "CreateUploadImage", {"ImageType": "banner"}, 400, "InvalidParameter")
    err(up_server, key, "CreateUploadAttachedMedia", {"BusinessType": "subtitle", "MediaExt": "exe"}, 400,
        "InvalidParameter")
    err(up_server, key, "RefreshUploadVideo", {"VideoId": "0" * 32}, 404, "InvalidVideo.NotFound")


def test_upload_details_and_progress_shapes(up_server: Server, key: Key, uploaded: dict[str, Any]) -> None:
    r = call(up_server, key, "GetUploadDetails", {"MediaIds": f"{uploaded['id']},nope"})
    assert list(r) == ["RequestId", "UploadDetails", "NonExistMediaIds", "ForbiddenMediaIds"]
    d = r["UploadDetails"][0]
    assert list(d) == ["MediaId", "Title", "FileSize", "Status", "UploadStatus", "UploadSize", "UploadRatio",
                       "UploadIP", "UploadSource", "DeviceModel", "CreationTime", "ModificationTime",
                       "CompletionTime"]
    assert isinstance(d["FileSize"], int) and isinstance(d["UploadSize"], int) and d["UploadRatio"] == 1.0
    assert r["NonExistMediaIds"] == ["nope"] and r["ForbiddenMediaIds"] == []
    xml = ET.fromstring(call(up_server, key, "GetUploadDetails", {"MediaIds": "a,b"}, fmt="XML").content)
    assert [e.text for e in xml.findall("NonExistMediaIds")] == ["a", "b"]  # plain array: repeated element
    # ReportUploadProgress: unsigned, answers a RequestId, moves the counters of an unfinished upload only
    fresh = call(up_server, key, "CreateUploadVideo", {"Title": "p", "FileName": "p.mp4", "FileSize": "1000"})
    form = {"Action": "ReportUploadProgress", "Version": "2017-03-21", "Source": "PythonSDK", "ClientId": "x",
            "VideoId": fresh["VideoId"], "FileSize": "1000", "PartSize": "300", "DonePartsCount": "2",
            "UploadId": "u", "AuthTimestamp": str(int(time.time())), "AuthInfo": "0" * 32}
    pr = httpx.post(up_server.url + "/", data=form)
    assert pr.status_code == 200 and list(pr.json()) == ["RequestId"]
    d = call(up_server, key, "GetUploadDetails", {"MediaIds": fresh["VideoId"]})["UploadDetails"][0]
    assert (d["UploadSize"], d["UploadRatio"], d["UploadSource"], d["Status"]) == (600, 0.6, "PythonSDK", "Uploading")
    httpx.post(up_server.url + "/", data={**form, "VideoId": uploaded["id"], "DonePartsCount": "0"})
    d = call(up_server, key, "GetUploadDetails", {"MediaIds": uploaded["id"]})["UploadDetails"][0]
    assert d["UploadRatio"] == 1.0  # a finished upload is not moved back
    r = call(up_server, key, "DeleteMultipartUpload", {"MediaId": fresh["VideoId"], "MediaType": "video"})
    assert list(r) == ["RequestId"]
    err(up_server, key, "DeleteMultipartUpload", {"MediaId": fresh["VideoId"]}, 400, "MissingParameter")


def test_play_and_list_shapes(up_server: Server, key: Key, uploaded: dict[str, Any]) -> None:
    r = call(up_server, key, "GetPlayInfo", {"VideoId": uploaded["id"]})
    assert list(r) == ["RequestId", "VideoBase", "PlayInfoList"]
    p = r["PlayInfoList"]["PlayInfo"][0]  # wrapper list
    assert isinstance(p["Width"], int) and isinstance(p["Size"], int) and isinstance(p["Duration"], str)
    assert isinstance(p["Bitrate"], str) and p["Definition"] == "OD" and isinstance(r["VideoBase"]["Duration"], str)
    xml = ET.fromstring(call(up_server, key, "GetPlayInfo", {"VideoId": uploaded["id"]}, fmt="XML").content)
    assert xml.find("PlayInfoList/PlayInfo/PlayURL") is not None
    err(up_server, key, "GetPlayInfo", {"VideoId": uploaded["id"], "Formats": "m3u8"}, 404, "InvalidVideo.NoneStream")
    err(up_server, key, "GetPlayInfo", {"VideoId": uploaded["id"], "Definition": "XX"}, 400, "InvalidParameter")
    r = call(up_server, key, "GetVideoList", {"PageSize": "2"})
    assert list(r) == ["RequestId", "Total", "VideoList"] and isinstance(r["Total"], int)
    v = r["VideoList"]["Video"][0]
    assert v["Snapshots"] == {"Snapshot": []} and isinstance(v["Duration"], float) and isinstance(v["Size"], int)
    xml = ET.fromstring(call(up_server, key, "GetVideoList", {"PageSize": "2"}, fmt="XML").content)
    assert len(xml.findall("VideoList/Video")) == 2
    r = call(up_server, key, "SearchMedia", {"Match": f"VideoId = '{uploaded['id']}'", "Fields": "AiData"})
    assert list(r) == ["RequestId", "Total", "ScrollToken", "MediaList"]
    item = r["MediaList"][0]  # plain array
    assert list(item)[:3] == ["MediaId", "MediaType", "CreationTime"]
    assert item["Video"]["Snapshots"] == [] and item["AiData"] == {"AiLabelInfo": [], "OcrInfo": []}
    xml = ET.fromstring(call(up_server, key, "SearchMedia", {"Match": "Title = 'shape'"}, fmt="XML").content)
    assert xml.find("MediaList/Video/VideoId") is not None
    err(up_server, key, "SearchMedia", {"Match": "Title ~ 'x'"}, 400, "InvalidParameter")
    r = call(up_server, key, "ListJobInfo", {"JobType": "ai", "MediaId": uploaded["id"]})
    assert list(r) == ["RequestId", "JobType", "MediaId", "JobInfoList"] and r["JobInfoList"] == []
    r = call(up_server, key, "DescribeVodAIData", {"StartTime": "2026-01-01T00:00:00Z",
                                                   "EndTime": "2026-01-03T00:00:00Z"})
    assert r["DataInterval"] == "day" and len(r["AIData"]["AIDataItem"]) == 2
    assert r["AIData"]["AIDataItem"][0] == {"TimeStamp": "2026-01-01T00:00:00Z", "Data": {"DataItem": []}}
    err(up_server, key, "DescribeVodAIData", {"StartTime": "x", "EndTime": "y"}, 400, "InvalidParameter")


def test_update_and_image_shapes(up_server: Server, key: Key, uploaded: dict[str, Any]) -> None:
    assert list(call(up_server, key, "UpdateVideoInfo", {"VideoId": uploaded["id"], "Title": "t2"})) == ["RequestId"]
    r = call(up_server, key, "UpdateVideoInfos", {"UpdateContent": json.dumps([{"VideoId": "nope", "Title": "x"}])})
    assert list(r) == ["RequestId", "NonExistVideoIds", "ForbiddenVideoIds", "NonExistReferenceIds"]
    assert r["NonExistVideoIds"] == ["nope"]
    err(up_server, key, "UpdateVideoInfos", {"UpdateContent": "{"}, 400, "InvalidParameter")
    img = call(up_server, key, "CreateUploadImage", {"ImageType": "cover", "ImageExt": "jpg"})
    r = call(up_server, key, "GetImageInfo", {"ImageId": img["ImageId"]})
    assert list(r["ImageInfo"]) == ["ImageId", "Title", "Tags", "ImageType", "URL", "Status", "Description",
                                    "StorageLocation", "AppId", "CreationTime", "Mezzanine"]
    assert list(r["ImageInfo"]["Mezzanine"]) == ["FileURL", "OriginalFileName", "FileSize", "Width", "Height"]
    assert isinstance(r["ImageInfo"]["Mezzanine"]["FileSize"], str)
    r = call(up_server, key, "GetImageInfos", {"ImageIds": f"{img['ImageId']},nope"})
    assert list(r) == ["RequestId", "ImageInfo", "NonExistImageIds"] and isinstance(r["ImageInfo"], list)
    err(up_server, key, "GetImageInfo", {"ImageId": "nope"}, 404, "InvalidImage.NotFound")


def test_object_endpoint_wire(up_server: Server, key: Key, uploaded: dict[str, Any]) -> None:
    put = uploaded["put"]
    assert put.headers["etag"].startswith('"') and put.headers["x-oss-hash-crc64ecma"].isdigit()
    assert len(put.headers["x-oss-request-id"]) == 24 and put.headers["date"]
    # an unsigned request and an unknown bucket get OSS XML errors
    r = httpx.get(f"{up_server.url}/openvod/{uploaded['addr']['FileName']}")
    root = ET.fromstring(r.content)
    assert r.status_code == 403 and root.tag == "Error"
    assert [c.tag for c in root][:4] == ["Code", "Message", "RequestId", "HostId"]
    assert root.findtext("Code") == "AccessDenied" and root.findtext("RequestId") == r.headers["x-oss-request-id"]
    # a presigned GET URL (oss2.Bucket.sign_url) works until it expires
    import oss2

    a = uploaded["auth"]
    fresh = call(up_server, key, "RefreshUploadVideo", {"VideoId": uploaded["id"]})
    a = json.loads(base64.b64decode(fresh["UploadAuth"]))
    bucket = oss2.Bucket(oss2.StsAuth(a["AccessKeyId"], a["AccessKeySecret"], a["SecurityToken"]),
                         uploaded["addr"]["Endpoint"], uploaded["addr"]["Bucket"])
    url = bucket.sign_url("GET", uploaded["addr"]["FileName"], 60)
    got = httpx.get(url)
    assert got.status_code == 200 and got.headers["x-oss-hash-crc64ecma"] == put.headers["x-oss-hash-crc64ecma"]


def test_api_on_a_host_named_like_the_bucket(up_server: Server, key: Key) -> None:
    """An API deployed as openvod.example.com keeps its RPC, health and blob routes."""
    from tests.sdk import v1_params
    from openvod.api import signing

    host = {"host": f"openvod.example.com:{up_server.port}"}
    assert httpx.get(up_server.url + "/healthz", headers=host).status_code == 200
    p = v1_params(key, "GetVideoList", {})
    p["Signature"] = signing.v1_sign(key.secret, signing.v1_string_to_sign("GET", p))
    r = httpx.get(up_server.url + "/", params=p, headers=host)
    assert r.status_code == 200 and "VideoList" in r.json()


def test_url_upload_shapes(up_server: Server, key: Key) -> None:
    from urllib.parse import quote

    url = "http://127.0.0.1:9/never.mp4"  # nothing listens on the discard port: the job ends DOWNLOAD_FAIL
    r = call(up_server, key, "UploadMediaByURL", {"UploadURLs": quote(url, safe="")})
    assert list(r) == ["RequestId", "UploadJobs"] and list(r["UploadJobs"][0]) == ["JobId", "SourceURL"]
    job = r["UploadJobs"][0]["JobId"]
    info = call(up_server, key, "GetURLUploadInfos", {"JobIds": f"{job},nope"})
    assert list(info) == ["RequestId", "URLUploadInfoList", "NonExists"] and info["NonExists"] == ["nope"]
    assert list(info["URLUploadInfoList"][0]) == ["JobId", "UploadURL", "MediaId", "Status", "ErrorCode",
                                                  "ErrorMessage", "FileSize", "CreationTime", "CompleteTime",
                                                  "UserData"]
    assert isinstance(info["URLUploadInfoList"][0]["FileSize"], str)
    xml = ET.fromstring(call(up_server, key, "GetURLUploadInfos", {"JobIds": "a,b"}, fmt="XML").content)
    assert [e.text for e in xml.findall("NonExists")] == ["a", "b"]
    c = call(up_server, key, "CancelUrlUploadJobs", {"JobIds": "nope"})
    assert list(c) == ["RequestId", "CanceledJobs", "NonExists"] and c["NonExists"] == ["nope"]
    err(up_server, key, "UploadMediaByURL", {"UploadURLs": quote("file:///etc/passwd.mp4", safe="")}, 400,
        "InvalidParameter.UploadURLs")
    err(up_server, key, "GetURLUploadInfos", {}, 400, "MissingParameter")
    err(up_server, key, "UploadMediaByURL", {"UploadURLs": quote(url, safe=""), "UploadMetadatas": "{"}, 400,
        "InvalidParameter")
