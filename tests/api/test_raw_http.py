"""The wire, byte for byte: hand-signed V1/V3 requests against the session server (spec §1-§3, §6, §12).

Covers response formats and content types, the error envelope, every authentication failure, parameter
checks, tolerated extra parameters, account isolation, blob URL signatures, throttling and RegisterMedia
with unreadable files. No response may ever be a 5xx.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from openvod.api import signing
from openvod.services.accounts import AccountService
from openvod.storage.urls import UrlSigner
from openvod.store.db import make_engine
from tests.conftest import Key, Server, db_url, free_port, run_cli, wait_for
from tests.media import make_bad_files, make_video
from tests.sdk import utc_now, v1_params, v1_request, v3_request

ENVELOPE_KEYS = ["RequestId", "HostId", "Code", "Message", "Recommend"]
JSON_CT = "application/json;charset=utf-8"
XML_CT = "text/xml;charset=utf-8"


# ---------------------------------------------------------------------------------------------- helpers
def ok(r: httpx.Response) -> dict[str, Any]:
    """A 200 JSON response; its RequestId matches the x-acs-request-id header."""
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == JSON_CT
    body = r.json()
    assert r.headers["x-acs-request-id"] == body["RequestId"]
    return body


def err(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """A JSON error envelope with the given status and code."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == JSON_CT
    body = r.json()
    assert list(body) == ENVELOPE_KEYS, body
    assert body["Code"] == code, body
    assert body["RequestId"] == r.headers["x-acs-request-id"]
    assert f"q={code}" in body["Recommend"] and body["RequestId"] in body["Recommend"]
    assert body["HostId"] and body["Message"]
    return body


def call(server: Server, key: Any, action: str, params: dict[str, str] | None = None, **kw: Any) -> httpx.Response:
    kw.setdefault("method", "POST")
    r = v1_request(server.url, key, action, params, **kw)
    assert r.status_code < 500, r.text
    return r


def v3_raw(
    server: Server,
    key: Any,
    action: str,
    params: dict[str, str] | None = None,
    *,
    unsigned: dict[str, str] | None = None,
    extra_signed: dict[str, str] | None = None,
    authorization: str | None = None,
) -> httpx.Response:
    """A V3 request with control over which headers are signed."""
    query = sorted((params or {}).items())
    headers = {
        "host": server.endpoint,
        "x-acs-action": action,
        "x-acs-version": "2017-03-21",
        "x-acs-date": utc_now(),
        "x-acs-signature-nonce": uuid.uuid4().hex,
        "x-acs-content-sha256": hashlib.sha256(b"").hexdigest(),
        "accept": "application/json",
        **(extra_signed or {}),
    }
    signed = sorted(headers)
    creq = signing.v3_canonical_request(
        "POST", query, {k: [v] for k, v in headers.items()}, signed, signing.EMPTY_SHA256
    )
    sig = signing.v3_sign(key.secret, signing.v3_string_to_sign(creq))
    headers["authorization"] = authorization or (
        f"ACS3-HMAC-SHA256 Credential={key.id},SignedHeaders={';'.join(signed)},Signature={sig}"
    )
    headers.update(unsigned or {})
    qs = "&".join(f"{signing.percent_encode(k)}={signing.percent_encode(v)}" for k, v in query)
    r = httpx.post(server.url + "/" + (("?" + qs) if qs else ""), headers=headers, timeout=30)
    assert r.status_code < 500, r.text
    return r


def register(server: Server, key: Any, *paths: str | Path) -> dict[str, Any]:
    metas = [{"FileURL": str(p), "Title": f"t{i}"} for i, p in enumerate(paths)]
    return ok(call(server, key, "RegisterMedia", {"RegisterMetadatas": json.dumps(metas)}))


def same_as_nonexistent(a: httpx.Response, b: httpx.Response) -> None:
    """Two error responses are indistinguishable apart from their RequestIds."""
    assert a.status_code == b.status_code
    ja, jb = a.json(), b.json()
    assert ja["Code"] == jb["Code"] and ja["Message"] == jb["Message"]


# ---------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module", autouse=True)
def no_unhandled_errors(server: Server) -> Iterator[None]:
    """No request of this module makes the server fail (checked in its log, beside each response's status)."""
    assert server.log_path is not None
    start = server.log_path.stat().st_size
    yield
    with open(server.log_path, "rb") as fh:
        fh.seek(start)
        new = fh.read()
    # "unhandled error": a handler raised (InternalError envelope); the other: an exception escaped the RPC
    # layer itself (uvicorn answers a bare 500).
    for marker in (b"unhandled error", b"Exception in ASGI application"):
        assert marker not in new, new[-4000:].decode(errors="replace")


@pytest.fixture(scope="module")
def alice(server: Server, key: Key, media_dir: Path) -> SimpleNamespace:
    """A video, a finished AI job, an AIImage template and a finished AI image job of account alice."""
    path = make_video(media_dir / "raw-http-alice.mp4", seconds=1.0, seed=201)
    mid = register(server, key, path)["RegisteredMediaList"][0]["MediaId"]
    job = ok(call(server, key, "SubmitAIJob", {"MediaId": mid, "Types": "AIVideoTag"}))["AIJobList"]["AIJob"][0]
    tid = ok(call(server, key, "AddAITemplate", {"TemplateName": "raw", "TemplateType": "AIImage",
                                                 "TemplateConfig": '{"Format":"png","SetDefaultCover":"false"}'}))[
        "TemplateId"]
    img_job = ok(call(server, key, "SubmitAIImageJob", {"VideoId": mid, "AITemplateId": tid}))["JobId"]

    def done() -> bool:
        jobs = ok(call(server, key, "ListAIJob", {"JobIds": job["JobId"]}))["AIJobList"]["AIJob"]
        imgs = ok(call(server, key, "GetAIImageJobs", {"JobIds": img_job}))["AIImageJobList"]
        return jobs[0]["Status"] == "success" and bool(imgs) and imgs[0]["Status"] == "success"

    wait_for(done, timeout=60, interval=0.3)
    # openvod's extra Progress key (0-100) is 100 once a job succeeded.
    assert ok(call(server, key, "ListAIJob", {"JobIds": job["JobId"]}))["AIJobList"]["AIJob"][0]["Progress"] == "100"
    assert ok(call(server, key, "GetAIImageJobs", {"JobIds": img_job}))["AIImageJobList"][0]["Progress"] == "100"
    infos = ok(call(server, key, "ListAIImageInfo", {"VideoId": mid}))["AIImageInfoList"]
    assert infos
    return SimpleNamespace(path=path, media_id=mid, job_id=job["JobId"], template_id=tid, image_job_id=img_job,
                           image_info_id=infos[0]["AIImageInfoId"])


# ---------------------------------------------------------------------------------------------- formats
def test_v1_xml_output(server: Server, key: Key, alice: SimpleNamespace) -> None:
    r = call(server, key, "ListAIJob", {"JobIds": alice.job_id}, fmt="XML")
    assert r.status_code == 200
    assert r.headers["content-type"] == XML_CT
    assert r.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?><ListAIJobResponse>')
    assert b"<NonExistAIJobIds></NonExistAIJobIds>" in r.content
    root = ET.fromstring(r.content)
    assert root.tag == "ListAIJobResponse"
    assert root.findtext("RequestId") == r.headers["x-acs-request-id"]
    jobs = root.findall("AIJobList/AIJob")
    assert len(jobs) == 1 and jobs[0].findtext("JobId") == alice.job_id
    assert jobs[0].findtext("Status") == "success" and jobs[0].findtext("Type") == "AIVideoTag"


def test_v1_xml_format_case_insensitive_and_default(server: Server, key: Key) -> None:
    r = call(server, key, "ListAIJob", {"JobIds": "a,b"}, fmt="xml")
    assert r.headers["content-type"] == XML_CT
    root = ET.fromstring(r.content)
    assert [s.text for s in root.findall("NonExistAIJobIds/String")] == ["a", "b"]
    # no Format and no JSON Accept: XML is the documented default
    r = call(server, key, "ListAIJob", {"JobIds": "a"}, fmt="")
    assert r.headers["content-type"] == XML_CT and ET.fromstring(r.content).tag == "ListAIJobResponse"
    r = call(server, key, "ListAIJob", {"JobIds": "a"}, fmt="json")
    assert ok(r)["NonExistAIJobIds"] == {"String": ["a"]}


def test_v3_xml_output(server: Server, key: Key, alice: SimpleNamespace) -> None:
    r = v3_request(server.url, key, "ListAIJob", {"JobIds": f"{alice.job_id},ghost"}, accept="application/xml")
    assert r.status_code == 200 and r.headers["content-type"] == XML_CT
    root = ET.fromstring(r.content)
    assert root.tag == "ListAIJobResponse"
    assert [s.text for s in root.findall("NonExistAIJobIds/String")] == ["ghost"]
    assert root.find("AIJobList/AIJob/Data") is not None


def test_v3_json_output(server: Server, key: Key, alice: SimpleNamespace) -> None:
    body = ok(v3_request(server.url, key, "ListAIJob", {"JobIds": alice.job_id}))
    assert body["AIJobList"]["AIJob"][0]["JobId"] == alice.job_id
    assert body["NonExistAIJobIds"] == {"String": []}
    assert isinstance(body["AIJobList"]["AIJob"][0]["Data"], str)


def test_xml_error_envelope(server: Server, key: Key) -> None:
    r = call(server, key, "ListAIJob", {"JobIds": "x"}, fmt="XML", secret="wrong-secret")
    assert r.status_code == 400 and r.headers["content-type"] == XML_CT
    root = ET.fromstring(r.content)
    assert root.tag == "Error"
    assert [c.tag for c in root] == ENVELOPE_KEYS
    assert root.findtext("Code") == "SignatureDoesNotMatch"
    assert root.findtext("RequestId") == r.headers["x-acs-request-id"]
    assert root.findtext("HostId") == server.endpoint
    assert "q=SignatureDoesNotMatch" in (root.findtext("Recommend") or "")
    r = v3_request(server.url, key, "NoSuchAction", accept="application/xml")
    assert r.status_code == 404 and r.headers["content-type"] == XML_CT
    root = ET.fromstring(r.content)
    assert root.tag == "Error" and root.findtext("Code") == "InvalidAction.NotFound"


def test_json_envelope(server: Server, key: Key) -> None:
    r = call(server, key, "ListAIJob", {"JobIds": "nope"})
    body = ok(r)
    assert list(body) == ["RequestId", "AIJobList", "NonExistAIJobIds"]
    assert body["AIJobList"] == {"AIJob": []}
    rid = body["RequestId"]
    assert len(rid) == 36 and rid == rid.upper() and rid.count("-") == 4
    assert b": " not in r.content  # compact


# ---------------------------------------------------------------------------------------------- V1 transports
@pytest.mark.parametrize(("method", "in_body"), [("GET", False), ("POST", False), ("POST", True)],
                         ids=["get", "post-query", "post-form"])
def test_v1_transports(server: Server, key: Key, alice: SimpleNamespace, method: str, in_body: bool) -> None:
    ids = f"{alice.job_id},x y,视频,a*b~c+d"
    body = ok(call(server, key, "ListAIJob", {"JobIds": ids}, method=method, in_body=in_body))
    assert [j["JobId"] for j in body["AIJobList"]["AIJob"]] == [alice.job_id]
    assert body["NonExistAIJobIds"]["String"] == ["x y", "视频", "a*b~c+d"]


def test_v1_form_body_signed_with_post(server: Server, key: Key) -> None:
    """The string to sign of a form POST uses POST; signing it as GET does not match."""
    p = {"Action": "ListAIJob", "Version": "2017-03-21", "Format": "JSON", "AccessKeyId": key.id,
         "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureNonce": uuid.uuid4().hex,
         "Timestamp": utc_now(), "JobIds": "a"}
    p["Signature"] = signing.v1_sign(key.secret, signing.v1_string_to_sign("GET", p))
    r = httpx.post(server.url + "/", data=p, timeout=30)
    body = err(r, 400, "SignatureDoesNotMatch")
    assert body["Message"].endswith("server string to sign is:" + signing.v1_string_to_sign("POST", p))


# ---------------------------------------------------------------------------------------------- authentication
def test_bad_signature(server: Server, key: Key) -> None:
    r = call(server, key, "ListAIJob", {"JobIds": "x"}, secret="not-the-secret", method="GET")
    body = err(r, 400, "SignatureDoesNotMatch")
    assert "server string to sign is:" in body["Message"]
    server_sts = body["Message"].split("server string to sign is:", 1)[1]
    assert server_sts.startswith("GET&%2F&AccessKeyId%3D" + key.id)
    assert "JobIds%3Dx" in server_sts and "Signature%3D" not in server_sts


def test_v3_bad_signature(server: Server, key: Key) -> None:
    r = v3_request(server.url, key, "ListAIJob", {"JobIds": "x"}, secret="not-the-secret")
    body = err(r, 400, "SignatureDoesNotMatch")
    assert "server string to sign is:ACS3-HMAC-SHA256\n" in body["Message"]


def test_stale_timestamp(server: Server, key: Key) -> None:
    err(call(server, key, "ListAIJob", {"JobIds": "x"}, ts_offset=-20 * 60), 400, "InvalidTimeStamp.Expired")
    err(call(server, key, "ListAIJob", {"JobIds": "x"}, ts_offset=20 * 60), 400, "InvalidTimeStamp.Expired")
    err(v3_request(server.url, key, "ListAIJob", {"JobIds": "x"}, date=utc_now(-20 * 60)), 400,
        "InvalidTimeStamp.Expired")
    # inside the 15-minute window is fine
    ok(call(server, key, "ListAIJob", {"JobIds": "x"}, ts_offset=-10 * 60))


@pytest.mark.parametrize("ts", ["2024/01/01 00:00:00", "yesterday", "2024-01-01T00:00:00", "1700000000"])
def test_malformed_timestamp(server: Server, key: Key, ts: str) -> None:
    err(call(server, key, "ListAIJob", {"JobIds": "x", "Timestamp": ts}), 400, "InvalidTimeStamp.Format")


def test_v3_malformed_date(server: Server, key: Key) -> None:
    err(v3_request(server.url, key, "ListAIJob", {"JobIds": "x"}, date="Mon, 01 Jan 2024"), 400,
        "InvalidTimeStamp.Format")


def test_nonce_reuse_v1(server: Server, key: Key) -> None:
    nonce = uuid.uuid4().hex
    ok(call(server, key, "ListAIJob", {"JobIds": "x"}, nonce=nonce))
    err(call(server, key, "ListAIJob", {"JobIds": "x"}, nonce=nonce), 400, "SignatureNonceUsed")
    err(call(server, key, "ListAIJob", {"JobIds": "y"}, nonce=nonce, method="GET"), 400, "SignatureNonceUsed")


def test_nonce_reuse_v3(server: Server, key: Key) -> None:
    nonce = uuid.uuid4().hex
    ok(v3_request(server.url, key, "ListAIJob", {"JobIds": "x"}, nonce=nonce))
    err(v3_request(server.url, key, "ListAIJob", {"JobIds": "x"}, nonce=nonce), 400, "SignatureNonceUsed")


def test_nonce_not_burnt_by_bad_signature(server: Server, key: Key) -> None:
    nonce = uuid.uuid4().hex
    err(call(server, key, "ListAIJob", {"JobIds": "x"}, nonce=nonce, secret="bad"), 400, "SignatureDoesNotMatch")
    ok(call(server, key, "ListAIJob", {"JobIds": "x"}, nonce=nonce))


def test_unknown_access_key(server: Server) -> None:
    ghost = Key("LTAI" + "Z" * 20, "secret")
    body = err(call(server, ghost, "ListAIJob", {"JobIds": "x"}), 404, "InvalidAccessKeyId.NotFound")
    assert body["Message"] == "Specified access key is not found."
    err(v3_request(server.url, ghost, "ListAIJob", {"JobIds": "x"}), 404, "InvalidAccessKeyId.NotFound")


def test_disabled_key(server: Server) -> None:
    k = server.key("raw-http-disabled")
    ok(call(server, k, "ListAIJob", {"JobIds": "x"}))
    r = run_cli(server.data_dir, "keys", "disable", k.id)
    assert r.returncode == 0, r.stderr

    def inactive() -> httpx.Response | None:
        resp = call(server, k, "ListAIJob", {"JobIds": "x"})
        return resp if resp.status_code != 200 else None

    r2 = wait_for(inactive, timeout=15, interval=0.3)
    err(r2, 400, "InvalidAccessKeyId.Inactive")
    err(v3_request(server.url, k, "ListAIJob", {"JobIds": "x"}), 400, "InvalidAccessKeyId.Inactive")


def test_v3_unsigned_acs_header(server: Server, key: Key) -> None:
    r = v3_raw(server, key, "ListAIJob", {"JobIds": "x"}, unsigned={"x-acs-extra": "1"})
    body = err(r, 400, "IncompleteSignature")
    assert "x-acs-extra" in body["Message"]
    # the same header, signed, is fine; unsigned non-acs headers are fine too
    ok(v3_raw(server, key, "ListAIJob", {"JobIds": "x"}, extra_signed={"x-acs-extra": "1"},
              unsigned={"user-agent": "whatever/1.0", "x-custom": "y"}))


@pytest.mark.parametrize(
    "authorization",
    [
        "ACS3-HMAC-SHA256",
        "ACS3-HMAC-SHA256 Credential=LTAIx",
        "ACS3-HMAC-SHA256 Credential=LTAIx,SignedHeaders=host,Signature=00",
    ],
)
def test_v3_incomplete_authorization(server: Server, key: Key, authorization: str) -> None:
    err(v3_raw(server, key, "ListAIJob", {"JobIds": "x"}, authorization=authorization), 400, "IncompleteSignature")


def test_v3_changed_signed_header(server: Server, key: Key) -> None:
    """A signed header changed after signing (here: the action) breaks the signature."""
    query = [("JobIds", "x")]
    headers = {"host": server.endpoint, "x-acs-action": "ListAIJob", "x-acs-version": "2017-03-21",
               "x-acs-date": utc_now(), "x-acs-signature-nonce": uuid.uuid4().hex,
               "x-acs-content-sha256": signing.EMPTY_SHA256}
    signed = sorted(headers)
    creq = signing.v3_canonical_request("POST", query, {k: [v] for k, v in headers.items()}, signed,
                                        signing.EMPTY_SHA256)
    sig = signing.v3_sign(key.secret, signing.v3_string_to_sign(creq))
    headers["authorization"] = f"ACS3-HMAC-SHA256 Credential={key.id},SignedHeaders={';'.join(signed)},Signature={sig}"
    headers["x-acs-action"] = "GetVideoInfo"
    r = httpx.post(server.url + "/?JobIds=x", headers=headers, timeout=30)
    err(r, 400, "SignatureDoesNotMatch")


def test_v3_body_hash_mismatch(server: Server, key: Key) -> None:
    r = v3_raw(server, key, "ListAIJob", {"JobIds": "x"}, extra_signed={"x-acs-content-sha256": "0" * 64})
    err(r, 400, "SignatureDoesNotMatch")


# ---------------------------------------------------------------------------------------------- dispatch, params
def test_unknown_action(server: Server, key: Key) -> None:
    body = err(call(server, key, "DescribeEverything"), 404, "InvalidAction.NotFound")
    assert body["Message"] == "Specified api is not found, please check your url and method."
    err(v3_request(server.url, key, "DescribeEverything"), 404, "InvalidAction.NotFound")


def test_wrong_version(server: Server, key: Key) -> None:
    body = err(call(server, key, "ListAIJob", {"JobIds": "x", "Version": "2014-06-18"}), 400, "InvalidVersion")
    assert body["Message"] == "Specified parameter Version is not valid."


def test_missing_required_param(server: Server, key: Key) -> None:
    body = err(call(server, key, "ListAIJob"), 400, "MissingParameter")
    assert body["Message"] == 'The input parameter "JobIds" that is mandatory for processing this request is not supplied.'
    body = err(v3_request(server.url, key, "SubmitAIJob", {"Types": "AIVideoTag"}), 400, "MissingParameter")
    assert body["Message"] == 'The input parameter "MediaId" that is mandatory for processing this request is not supplied.'
    body = err(call(server, key, "GetAITemplate", {"TemplateId": ""}), 400, "MissingParameter")
    assert '"TemplateId"' in body["Message"]


def test_missing_common_params(server: Server, key: Key) -> None:
    r = httpx.get(server.url + "/?Action=ListAIJob&Format=JSON", timeout=30)
    err(r, 400, "MissingParameter")
    r = httpx.get(server.url + "/?Format=JSON", timeout=30)
    body = err(r, 400, "MissingParameter")
    assert '"Action"' in body["Message"]


def test_too_many_job_ids(server: Server, key: Key) -> None:
    ids = ",".join(f"job{i}" for i in range(11))
    body = err(call(server, key, "ListAIJob", {"JobIds": ids}), 400, "InvalidParameter")
    assert '"JobIds"' in body["Message"]
    err(call(server, key, "GetAIImageJobs", {"JobIds": ids}), 400, "InvalidParameter")
    ten = ",".join(f"job{i}" for i in range(10))
    assert len(ok(call(server, key, "ListAIJob", {"JobIds": ten}))["NonExistAIJobIds"]["String"]) == 10


def test_extra_params_tolerated(server: Server, key: Key, alice: SimpleNamespace) -> None:
    extra = {"OwnerId": "1234567890", "RegionId": "cn-shanghai", "ResourceOwnerId": "42", "OwnerAccount": "",
             "ResourceOwnerAccount": "acc", "SignatureType": "", "JobIds": alice.job_id}
    body = ok(call(server, key, "ListAIJob", extra))
    assert body["AIJobList"]["AIJob"][0]["JobId"] == alice.job_id
    ok(call(server, key, "GetVideoInfo", {"VideoId": alice.media_id, "OwnerId": "1", "RegionId": "cn-beijing"},
            in_body=True))
    ok(v3_request(server.url, key, "GetVideoInfo", {"VideoId": alice.media_id, "OwnerId": "1",
                                                     "ResourceOwnerId": "2", "RegionId": "cn-shanghai"}))


def test_bad_submit_params(server: Server, key: Key, alice: SimpleNamespace) -> None:
    err(call(server, key, "SubmitAIJob", {"MediaId": alice.media_id, "Types": "AIFaceSwap"}), 400, "InvalidParameter")
    err(call(server, key, "SubmitAIJob", {"MediaId": alice.media_id, "Types": "AIVideoTag", "Config": "{bad"}),
        400, "InvalidParameter")
    err(call(server, key, "SubmitAIJob", {"MediaId": alice.media_id, "Types": "AIVideoTag",
                                          "UserData": "x" * 600}), 400, "InvalidParameter")
    err(call(server, key, "GetMezzanineInfo", {"VideoId": alice.media_id, "AuthTimeout": "soon"}), 400,
        "InvalidParameter")


# ---------------------------------------------------------------------------------------------- account isolation
def test_cross_account_video(server: Server, other_key: Key, key: Key, alice: SimpleNamespace) -> None:
    fake = uuid.uuid4().hex
    for action, p in [
        ("GetVideoInfo", "VideoId"),
        ("GetMezzanineInfo", "VideoId"),
        ("ListAIImageInfo", "VideoId"),
        ("GetAIVideoTagResult", "MediaId"),
        ("GetMediaDNAResult", "MediaId"),
        ("SubmitMediaDNADeleteJob", "MediaId"),
    ]:
        theirs = call(server, other_key, action, {p: alice.media_id})
        err(theirs, 404, "InvalidVideo.NotFound")
        same_as_nonexistent(theirs, call(server, other_key, action, {p: fake}))
    theirs = call(server, other_key, "SubmitAIJob", {"MediaId": alice.media_id, "Types": "AIVideoTag"})
    err(theirs, 404, "InvalidVideo.NotFound")
    same_as_nonexistent(theirs, call(server, other_key, "SubmitAIJob", {"MediaId": fake, "Types": "AIVideoTag"}))
    infos = ok(call(server, other_key, "GetVideoInfos", {"VideoIds": f"{alice.media_id},{fake}"}))
    assert infos["VideoList"] == [] and infos["NonExistVideoIds"] == [alice.media_id, fake]
    deleted = ok(call(server, other_key, "DeleteVideo", {"VideoIds": alice.media_id}))
    assert deleted["NonExistVideoIds"] == [alice.media_id] and deleted["ForbiddenVideoIds"] == []
    # still there for its owner
    assert ok(call(server, key, "GetVideoInfo", {"VideoId": alice.media_id}))["Video"]["VideoId"] == alice.media_id


def test_cross_account_jobs(server: Server, other_key: Key, key: Key, alice: SimpleNamespace) -> None:
    body = ok(call(server, other_key, "ListAIJob", {"JobIds": alice.job_id}))
    assert body["AIJobList"] == {"AIJob": []} and body["NonExistAIJobIds"] == {"String": [alice.job_id]}
    body = ok(call(server, other_key, "GetAIImageJobs", {"JobIds": alice.image_job_id}))
    assert body["AIImageJobList"] == []
    # an AI image job id is not an AI job either, even for its owner
    body = ok(call(server, key, "ListAIJob", {"JobIds": alice.image_job_id}))
    assert body["NonExistAIJobIds"]["String"] == [alice.image_job_id]


def test_cross_account_templates(server: Server, other_key: Key, key: Key, alice: SimpleNamespace) -> None:
    fake = uuid.uuid4().hex
    tcfg = '{"Format":"gif","SetDefaultCover":"false"}'
    for action, extra in [
        ("GetAITemplate", {}),
        ("UpdateAITemplate", {"TemplateName": "hijack", "TemplateConfig": tcfg}),
        ("SetDefaultAITemplate", {}),
        ("DeleteAITemplate", {}),
    ]:
        theirs = call(server, other_key, action, {"TemplateId": alice.template_id, **extra})
        err(theirs, 404, "InvalidAITemplate.NotFound")
        same_as_nonexistent(theirs, call(server, other_key, action, {"TemplateId": fake, **extra}))
    listed = ok(call(server, other_key, "ListAITemplate", {"TemplateType": "AIImage"}))["TemplateInfoList"]
    assert alice.template_id not in [t["TemplateId"] for t in listed]
    # bob cannot run alice's template on his own video either
    bob_video = make_video(alice.path.parent / "raw-http-bob.mp4", seconds=1.0, seed=202)
    bob_mid = register(server, other_key, bob_video)["RegisteredMediaList"][0]["MediaId"]
    theirs = call(server, other_key, "SubmitAIImageJob", {"VideoId": bob_mid, "AITemplateId": alice.template_id})
    err(theirs, 404, "InvalidAITemplate.NotFound")
    same_as_nonexistent(theirs, call(server, other_key, "SubmitAIImageJob", {"VideoId": bob_mid, "AITemplateId": fake}))
    info = ok(call(server, key, "GetAITemplate", {"TemplateId": alice.template_id}))["TemplateInfo"]
    assert info["TemplateName"] == "raw"


def test_cross_account_images(server: Server, other_key: Key, key: Key, alice: SimpleNamespace) -> None:
    ok(call(server, other_key, "DeleteAIImageInfos", {"AIImageInfoIds": alice.image_info_id}))
    infos = ok(call(server, key, "ListAIImageInfo", {"VideoId": alice.media_id}))["AIImageInfoList"]
    assert alice.image_info_id in [i["AIImageInfoId"] for i in infos]


def test_same_file_two_accounts(server: Server, other_key: Key, alice: SimpleNamespace) -> None:
    """RegisterMedia dedupes per account: bob registering alice's file gets his own MediaId."""
    reg = register(server, other_key, alice.path)["RegisteredMediaList"][0]
    assert reg["MediaId"] != alice.media_id and reg["NewRegister"] is True
    ok(call(server, other_key, "DeleteVideo", {"VideoIds": reg["MediaId"]}))


# ---------------------------------------------------------------------------------------------- blob URLs
def test_blob_url_auth(server: Server, key: Key, alice: SimpleNamespace) -> None:
    mz = ok(call(server, key, "GetMezzanineInfo", {"VideoId": alice.media_id, "AuthTimeout": "600"}))["Mezzanine"]
    url = mz["FileURL"]
    good = httpx.get(url, timeout=30)
    assert good.status_code == 200 and good.content == alice.path.read_bytes()
    parts = urlsplit(url)
    auth = parse_qs(parts.query)["auth_key"][0]
    exp, rand, uid, digest = auth.split("-")
    assert int(exp) - time.time() == pytest.approx(600, abs=30)

    def with_auth(a: str | None, path: str = parts.path) -> int:
        q = "" if a is None else f"auth_key={a}"
        return httpx.get(urlunsplit((parts.scheme, parts.netloc, path, q, "")), timeout=30).status_code

    flipped = digest[:-1] + ("0" if digest[-1] != "0" else "1")
    assert with_auth(f"{exp}-{rand}-{uid}-{flipped}") == 403
    assert with_auth(f"{int(exp) + 3600}-{rand}-{uid}-{digest}") == 403
    assert with_auth(f"{exp}-{rand}-{uid}") == 403
    assert with_auth("") == 403
    assert with_auth(None) == 403
    assert with_auth(auth, parts.path.replace("source", "other")) == 403
    assert with_auth(auth, parts.path + "x") == 403
    # correctly signed but expired
    signer = UrlSigner((server.data_dir / "url-signing.key").read_text().strip())
    blob_key = unquote(parts.path[len("/blobs/"):])
    expired = signer.sign(server.url, blob_key, ttl_s=10, now=time.time() - 60)
    assert httpx.get(expired, timeout=30).status_code == 403
    fresh = signer.sign(server.url, blob_key, ttl_s=10)
    assert httpx.get(fresh, timeout=30).status_code == 200
    # a correctly signed URL whose (percent-encoded, so not normalised by the client) path climbs out of the
    # blob root towards the signing key itself is refused by the blob store's key check
    raw = "/blobs/media/%2e%2e/%2e%2e/url-signing.key"
    exp = int(time.time()) + 60
    digest = hashlib.md5(f"{raw}-{exp}-0-0-{signer.key}".encode()).hexdigest()
    assert signer.verify(raw, f"{exp}-0-0-{digest}")
    sneaky = httpx.get(f"{server.url}{raw}?auth_key={exp}-0-0-{digest}", timeout=30)
    assert sneaky.status_code == 404 and signer.key.encode() not in sneaky.content


def test_ai_image_url_from_list_serves_png(server: Server, key: Key, alice: SimpleNamespace) -> None:
    infos = ok(call(server, key, "ListAIImageInfo", {"VideoId": alice.media_id}))["AIImageInfoList"]
    r = httpx.get(infos[0]["FileURL"], timeout=30)
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
    assert isinstance(infos[0]["Score"], str)


# ---------------------------------------------------------------------------------------------- RegisterMedia
def test_register_bad_files(server: Server, key: Key, media_dir: Path) -> None:
    good = make_video(media_dir / "raw-http-good.mp4", seconds=1.0, seed=203)
    bad = make_bad_files(media_dir / "raw-http-bad", good)
    urls = [str(p) for p in bad.values()]
    body = register(server, key, *bad.values())
    assert body["RegisteredMediaList"] == []
    assert body["FailedFileURLs"] == urls
    # nothing was registered: the same files fail again (no dedupe entry), and no blob was kept
    again = register(server, key, *bad.values())
    assert again["RegisteredMediaList"] == [] and again["FailedFileURLs"] == urls
    # one good file among bad ones still registers; the bad ones are listed as failed
    mixed = register(server, key, bad["empty"], good, bad["image"])
    assert [m["FileURL"] for m in mixed["RegisteredMediaList"]] == [str(good)]
    assert mixed["RegisteredMediaList"][0]["NewRegister"] is True
    assert mixed["FailedFileURLs"] == [str(bad["empty"]), str(bad["image"])]
    mid = mixed["RegisteredMediaList"][0]["MediaId"]
    assert ok(call(server, key, "GetVideoInfo", {"VideoId": mid}))["Video"]["Size"] == good.stat().st_size


def test_register_bad_files_xml(server: Server, key: Key, media_dir: Path) -> None:
    missing = [str(media_dir / "raw-http-nope-1.mp4"), str(media_dir / "raw-http-nope-2.mp4")]
    metas = json.dumps([{"FileURL": u, "Title": "t"} for u in missing])
    r = call(server, key, "RegisterMedia", {"RegisterMetadatas": metas}, fmt="XML")
    assert r.status_code == 200 and r.headers["content-type"] == XML_CT
    root = ET.fromstring(r.content)
    assert root.tag == "RegisterMediaResponse"
    assert [e.text for e in root.findall("FailedFileURLs")] == missing
    assert root.find("RegisteredMediaList") is None


@pytest.mark.parametrize("url", ["/etc/hostname", "file:///etc/hostname", "/etc/../etc/hostname",
                                 "ftp://127.0.0.1/x.mp4", "gopher://x/y", "relative/none.mp4"])
def test_register_outside_roots(server: Server, key: Key, url: str) -> None:
    body = register(server, key, url)
    assert body["RegisteredMediaList"] == [] and body["FailedFileURLs"] == [url]


def test_register_symlink_escaping_roots(server: Server, key: Key, media_dir: Path) -> None:
    link = media_dir / "raw-http-link.mp4"
    if not link.exists():
        link.symlink_to("/etc/hostname")
    body = register(server, key, link)
    assert body["RegisteredMediaList"] == [] and body["FailedFileURLs"] == [str(link)]


@pytest.mark.parametrize(
    "metas",
    [
        "not json",
        "{}",
        "[]",
        '{"FileURL":"/x","Title":"t"}',
        '[{"Title":"t"}]',
        '[{"FileURL":"/x"}]',
        '[{"FileURL":"/x","Title":""}]',
        '["just a string"]',
        '[{"FileURL":"/x","Title":"t","CateId":"abc"}]',
        json.dumps([{"FileURL": f"/x{i}", "Title": "t"} for i in range(11)]),
        json.dumps([{"FileURL": "/x", "Title": "t" * 129}]),
    ],
)
def test_register_invalid_metadatas(server: Server, key: Key, metas: str) -> None:
    body = err(call(server, key, "RegisterMedia", {"RegisterMetadatas": metas}), 400, "InvalidParameter")
    assert '"RegisterMetadatas"' in body["Message"]


# ---------------------------------------------------------------------------------------------- throttling
def test_throttling(tmp_path: Path) -> None:
    srv = Server(tmp_path / "data", free_port(),
                 env={"OPENVOD_API__RATE_LIMIT_QPS": "1", "OPENVOD_API__RATE_LIMIT_BURST": "2",
                      "OPENVOD_ENGINE__WORKERS": "1"})
    srv.start()
    try:
        k = srv.key("throttled")
        responses = [call(srv, k, "ListAIJob", {"JobIds": "x"}) for _ in range(5)]
        statuses = [r.status_code for r in responses]
        assert statuses[0] == 200
        throttled = [r for r in responses if r.status_code != 200]
        assert throttled, statuses
        for r in throttled:
            body = err(r, 400, "Throttling.User")
            assert body["Message"] == "Request was denied due to user flow control."
        # the limit is per AccessKey: another key is not affected (created in-process: cheaper than the CLI)
        accounts = AccountService(make_engine(db_url(srv.data_dir)))
        created = accounts.create_key("other")
        k2 = Key(created.access_key_id, created.secret)
        accounts.engine.dispose()
        ok(call(srv, k2, "ListAIJob", {"JobIds": "x"}))
        # and tokens come back with time
        wait_for(lambda: call(srv, k, "ListAIJob", {"JobIds": "x"}).status_code == 200, timeout=10, interval=0.5)
    finally:
        srv.stop()


# ---------------------------------------------------------------------------------------------- duplicates
def _signed_v1(key: Key, params: dict[str, str], method: str) -> dict[str, str]:
    p = v1_params(key, "ListAIJob", params)
    p["Signature"] = signing.v1_sign(key.secret, signing.v1_string_to_sign(method, p))
    return p


def test_v1_duplicate_param_cannot_override_signed_value(server: Server, key: Key) -> None:
    """A parameter added in front of a signed one must not replace the signed value (no smuggling)."""
    p = _signed_v1(key, {"JobIds": "signed-id"}, "GET")
    r = httpx.get(server.url + "/?JobIds=evil-id&" + urlencode(p), timeout=30)
    assert r.status_code < 500
    if r.status_code == 200:
        assert r.json()["NonExistAIJobIds"]["String"] == ["signed-id"]
    else:
        err(r, 400, "SignatureDoesNotMatch")
    # form-body parameters signed by the client; a query parameter of the same name is added in transit
    p = _signed_v1(key, {"JobIds": "signed-id"}, "POST")
    r = httpx.post(server.url + "/?JobIds=evil-id", content=urlencode(p).encode(),
                   headers={"content-type": "application/x-www-form-urlencoded"}, timeout=30)
    assert r.status_code < 500
    if r.status_code == 200:
        assert r.json()["NonExistAIJobIds"]["String"] == ["signed-id"]
    else:
        err(r, 400, "SignatureDoesNotMatch")


# ---------------------------------------------------------------------------------------------- hostile input
@pytest.mark.parametrize("url", ["/tmp/a\x00b.mp4", "file:///tmp/%00x", "~nobody/x.mp4", "http://127.0.0.1:1/x.mp4"])
def test_register_unreadable_urls(server: Server, key: Key, url: str) -> None:
    body = register(server, key, url)
    assert body["RegisteredMediaList"] == [] and body["FailedFileURLs"] == [url]


@pytest.mark.parametrize("url", ["http://[::1", "http://a b/x.mp4", "http://h:99999/x.mp4", "http://h:abc/x.mp4",
                                 "http://h:-1/x.mp4", "https://a..b/x.mp4", "http://[zz]/x.mp4"])
def test_register_malformed_http_urls_refused(server: Server, key: Key, url: str) -> None:
    """A FileURL that claims http(s) but is not a valid URL is a 400 (it used to be a 500 for ports)."""
    metas = [{"FileURL": url, "Title": "t"}]
    r = call(server, key, "RegisterMedia", {"RegisterMetadatas": json.dumps(metas)})
    assert err(r, 400, "InvalidParameter")["Message"].find("FileURL") > 0


@pytest.mark.parametrize(
    ("action", "params"),
    [
        ("RegisterMedia", {"RegisterMetadatas": '[{"FileURL":"/x.mp4","Title":"\\ud800"}]'}),
        ("SubmitAIJob", {"Types": "AIVideoTag", "Config": '{"AIVideoTag":{"AnalyseTypes":"\\ud800"}}'}),
        ("SubmitAIJob", {"Types": "AIMediaDNA", "Config": '{"DNADBId":"\\udfff"}'}),
        ("SubmitAIJob", {"Types": "AIVideoTag", "UserData": '{"Extend":"\\ud800"}'}),
        ("SubmitAIJob", {"Types": "AIVideoTag",
                         "UserData": '{"MessageCallback":"{\\"CallbackURL\\":\\"http://\\\\ud800/\\"}"}'}),
        ("AddAITemplate", {"TemplateName": "t", "TemplateType": "AIImage", "TemplateConfig": '{"\\ud800":1}'}),
    ],
)
@pytest.mark.parametrize("fmt", ["JSON", "XML"])
def test_lone_surrogates_refused(server: Server, key: Key, alice: SimpleNamespace, action: str,
                                 params: dict[str, str], fmt: str) -> None:
    """JSON parameters with \\uD800-style escapes that are not valid Unicode: a clean 400, never a 500."""
    if action == "SubmitAIJob":
        params = {"MediaId": alice.media_id, **params}
    r = call(server, key, action, params, fmt=fmt)
    assert r.status_code == 400
    if fmt == "JSON":
        err(r, 400, "InvalidParameter")
    else:
        root = ET.fromstring(r.content)
        assert root.tag == "Error" and root.findtext("Code") == "InvalidParameter"


def test_replay_refused_across_api_processes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """With api.processes=2 (SO_REUSEPORT), a nonce used on one process is refused by the other."""
    import httpx as _httpx

    from tests.conftest import Server, free_port
    from tests.sdk import v1_params

    srv = Server(tmp_path / "data", free_port(), env={"OPENVOD_API__PROCESSES": "2"}).start()
    try:
        k = srv.key("acme")
        codes = []
        for _ in range(20):
            p = v1_params(k, "ListAIJob", {"JobIds": "x"})
            from openvod.api import signing as _s

            p["Signature"] = _s.v1_sign(k.secret, _s.v1_string_to_sign("GET", p))
            for _attempt in range(2):  # a fresh connection each time: the kernel may pick either process
                with _httpx.Client() as cl:
                    r = cl.get(srv.url + "/", params=p)
                codes.append((r.status_code, r.json().get("Code", "")))
        assert codes[0::2] == [(200, "")] * 20
        assert codes[1::2] == [(400, "SignatureNonceUsed")] * 20
    finally:
        srv.stop()
