"""Fuzzing the OSS-compatible object endpoint (docs/upload.md) through raw HTTP: PutObject, multipart
(initiate, parts, list, complete, abort), Get/Head with ranges, presigned URLs and PostObject forms, with
bad and good signatures, tokens, dates, digests, content types, ranges, query sub-resources, paths
(other objects, traversal, other buckets, virtual-host style) and XML/form bodies.

The requests are often *validly signed* with a real upload credential (CreateUploadVideo / the m3u8
prefix of one), so the fuzz reaches the parsers behind the signature check, not only the refusal.
Asserts: never a 5xx, and every error is OSS's XML error body with ``x-oss-request-id``.

Seeded and bounded like tests/security/test_fuzz.py (``OPENVOD_FUZZ_EXAMPLES`` per operation family);
``-m slow`` runs ``test_oss_fuzz_long`` with ``OPENVOD_FUZZ_LONG_EXAMPLES`` (1,000) per family.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openvod.oss import auth as oss_auth
from tests.conftest import Key, Server
from tests.security.test_fuzz import DEEP, NASTY, _client, json_value, send, text

EXAMPLES = int(os.environ.get("OPENVOD_FUZZ_EXAMPLES", "40"))


@dataclass
class Cred:
    bucket: str
    key: str  # the object (FileName) or the m3u8 prefix + a slice name
    ak: str
    secret: str
    token: str
    upload_id: str = ""


def create_upload(server: Server, key: Key, action: str, params: dict[str, str]) -> Cred:
    r = send(server, key, action, params, "post")
    assert r.status_code == 200, r.text
    body = r.json()
    addr = json.loads(base64.b64decode(body["UploadAddress"]))
    auth = json.loads(base64.b64decode(body["UploadAuth"]))
    obj = addr["FileName"] if "ObjectPrefix" not in addr else addr["ObjectPrefix"] + "slice-0.ts"
    return Cred(addr["Bucket"], obj, auth["AccessKeyId"], auth["AccessKeySecret"], auth["SecurityToken"])


def oss_headers_signed(cred: Cred, method: str, bucket: str, key: str, query: list[tuple[str, str]],
                       headers: dict[str, str]) -> dict[str, str]:
    """Add ``Authorization`` the way oss2 signs (OSS V1), over exactly the headers that will be sent."""
    lower = {k.lower(): [v] for k, v in headers.items()}
    sts = oss_auth.string_to_sign(method, lower, bucket, key, query)
    return {**headers, "Authorization": f"OSS {cred.ak}:{oss_auth.sign(cred.secret, sts)}"}


@pytest.fixture(scope="module")
def creds(server: Server) -> dict[str, Cred]:
    k = server.key("oss-fuzzer")
    video = create_upload(server, k, "CreateUploadVideo", {"Title": "fuzz", "FileName": "fuzz.mp4"})
    m3u8 = create_upload(server, k, "CreateUploadVideo", {"Title": "fuzz", "FileName": "fuzz.m3u8"})
    image = create_upload(server, k, "CreateUploadImage", {"ImageType": "default", "ImageExt": "png"})
    # A multipart upload that stays open, so UploadPart / ListParts / Complete / Abort get a real UploadId.
    c = _client(server)
    path = f"/{video.bucket}/{video.key}"
    h = oss_headers_signed(video, "POST", video.bucket, video.key, [("uploads", "")],
                           {"Date": formatdate(usegmt=True), "x-oss-security-token": video.token})
    r = c.post(server.url + path + "?uploads", headers=h)
    assert r.status_code == 200, r.text
    video.upload_id = r.text.split("<UploadId>")[1].split("</UploadId>")[0]
    return {"video": video, "m3u8": m3u8, "image": image}


# ---------------------------------------------------------------------------------------------- values
header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
                      max_size=60).map(str.strip)
hval = st.one_of(header_text, st.sampled_from(
    ["", "0", "-1", "99999999999999999999", "bytes=0-0", "bytes=-1", "bytes=5-1", "bytes=0-", "bytes=a-b",
     "bytes=0-1,2-3", "bytes=99999999999999999999-", "bytes=", "multipart/form-data",
     "multipart/form-data; boundary=", "multipart/form-data; boundary=\"x\"", "multipart/form-data; boundary=" + "b" * 80,
     "application/xml", "yes", "no", "OSS ", "OSS :", "OSS a:", "OSS :b", "OSS a:b", "AWS a:b", "Bearer x",
     "Thu, 01 Jan 1970 00:00:00 GMT", "Mon, 32 Foo 2024 99:99:99 GMT", "1rB2M2Y8AsgTpgAmY7PhCfg==", "AAAA", "!!",
     "/other/object", "/oss-fuzz/../../x"]))
sub_resources = st.dictionaries(
    st.sampled_from(["uploads", "uploadId", "partNumber", "max-parts", "part-number-marker", "acl", "tagging",
                     "symlink", "objectMeta", "x-oss-process", "response-content-type", "append", "position",
                     "security-token", "OSSAccessKeyId", "Signature", "Expires", "delete", "comp", "restore",
                     "versionId", "callback"]),
    st.one_of(st.sampled_from(["", "1", "0", "10001", "-1", "1e400", "²", "abc", "99999999999999999999"]),
              header_text, st.sampled_from(NASTY[:40])), max_size=4)
complete_xml = st.one_of(
    st.lists(st.tuples(st.one_of(st.integers(-3, 10_002).map(str), st.sampled_from(["", "x", "1e400", "²"])),
                       st.one_of(st.sampled_from(['"d41d8cd98f00b204e9800998ecf8427e"', "", "x"]), header_text)),
             max_size=5).map(lambda parts: (
                 "<CompleteMultipartUpload>" + "".join(
                     f"<Part><PartNumber>{n}</PartNumber><ETag>{e}</ETag></Part>" for n, e in parts)
                 + "</CompleteMultipartUpload>").encode("utf-8", "replace")),
    st.sampled_from([b"", b"<", b"<CompleteMultipartUpload>", b"<?xml version='1.0'?><a/>",
                     b"<!DOCTYPE x [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;'>]><x>&b;</x>",
                     b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>",
                     ("<a>" * 2000 + "</a>" * 2000).encode(), b"\xff\xfe<\x00a\x00>\x00"]),
    st.binary(max_size=200))
body_bytes = st.one_of(st.binary(max_size=300), complete_xml, st.sampled_from([b"", b"x" * 70_000]))


def policy_doc(draw_value: Any) -> st.SearchStrategy[str]:
    conds = st.lists(st.one_of(
        st.lists(st.one_of(st.sampled_from(["eq", "starts-with", "content-length-range", "in", "not-in", "EQ", "x"]),
                           st.sampled_from(["$key", "$bucket", "$x-oss-meta-a", "$content-type", "$success_action_status",
                                            "key", "$"]),
                           st.integers(-2**70, 2**70), draw_value), max_size=4),
        st.dictionaries(st.sampled_from(["bucket", "key", "x-oss-meta-a", "success_action_status"]), draw_value,
                        max_size=2),
        draw_value), max_size=4)
    exp = st.one_of(st.sampled_from(["2099-01-01T00:00:00.000Z", "2000-01-01T00:00:00Z", "", "x", "9999-99-99T99:99:99Z"]),
                    draw_value)
    doc = st.one_of(st.fixed_dictionaries({"expiration": exp, "conditions": st.one_of(conds, draw_value)}), draw_value)
    return st.one_of(doc.map(lambda d: json.dumps(d, allow_nan=True)), st.sampled_from(DEEP + ["{", "[]", "null"]),
                     text)


def post_form(boundary: str, fields: list[tuple[str, str]], file_name: str | None, data: bytes,
              tail: bool = True) -> bytes:
    out = []
    for k, v in fields:
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode("utf-8", "replace"))
    if file_name is not None:
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
                   f"Content-Type: application/octet-stream\r\n\r\n".encode("utf-8", "replace") + data + b"\r\n")
    if tail:
        out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out)


# ---------------------------------------------------------------------------------------------- requests
@st.composite
def object_request(draw: Any, creds: dict[str, Cred]) -> tuple[str, str, list[tuple[str, str]], dict[str, str], bytes]:
    cred = creds[draw(st.sampled_from(["video", "m3u8", "image"]))]
    method = draw(st.sampled_from(["PUT", "PUT", "POST", "GET", "HEAD", "DELETE", "OPTIONS", "PATCH"]))
    bucket = draw(st.one_of(st.just(cred.bucket), st.sampled_from(["", "other", cred.bucket.upper(), "blobs"])))
    key = draw(st.one_of(st.just(cred.key), st.sampled_from(
        [cred.key + "/x", cred.key.rsplit("/", 1)[0] + "/other.ts", "../" + cred.key, cred.key + "/../../x",
         "%2e%2e/%2e%2e/etc/passwd", "", "media/x/y/source.mp4", creds["video"].key, creds["m3u8"].key]),
        header_text.map(lambda t: quote(t, safe="/"))))
    query = list(draw(sub_resources).items())
    if draw(st.booleans()):
        query.append(("uploadId", draw(st.one_of(st.just(creds["video"].upload_id), header_text))))
    if draw(st.booleans()):
        query.append(("partNumber", draw(st.one_of(st.integers(-2, 10_002).map(str), header_text))))
    headers: dict[str, str] = {}
    for name in draw(st.lists(st.sampled_from(
            ["Content-MD5", "Content-Type", "Range", "x-oss-complete-all", "x-oss-copy-source", "x-oss-date",
             "x-oss-meta-a", "x-oss-forbid-overwrite", "x-oss-object-acl", "x-oss-storage-class", "If-Match",
             "Content-Disposition", "x-oss-server-side-encryption"]), max_size=4, unique=True)):
        headers[name] = draw(hval)
    headers.setdefault("Date", draw(st.one_of(st.just(formatdate(usegmt=True)), hval)))
    token = draw(st.one_of(st.just(cred.token), hval))
    if token:
        headers["x-oss-security-token"] = token
    body = draw(body_bytes) if method in ("PUT", "POST") else b""
    if draw(st.booleans()) and body and method == "PUT":
        headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
    how = draw(st.sampled_from(["signed", "signed", "signed", "presigned", "garbage", "none"]))
    if how == "signed":
        headers = oss_headers_signed(cred, method, bucket, key, query, headers)
    elif how == "presigned":
        expires = draw(st.one_of(st.just(str(int(time.time()) + 600)), st.sampled_from(["0", "-1", "x", "1e400", ""])))
        q = [(k, v) for k, v in query if k not in ("OSSAccessKeyId", "Signature", "Expires")]
        lower = {k.lower(): [v] for k, v in headers.items()}
        sts = oss_auth.string_to_sign(method, lower, bucket, key, q, expires)
        query = q + [("OSSAccessKeyId", cred.ak), ("Expires", expires), ("Signature", oss_auth.sign(cred.secret, sts))]
    elif how == "garbage":
        headers["Authorization"] = draw(hval)
    return method, f"/{bucket}/{key}" if bucket else f"/{key}", query, headers, body


@st.composite
def post_object_request(draw: Any, creds: dict[str, Cred]) -> tuple[str, str, list[tuple[str, str]], dict[str, str], bytes]:
    cred = creds[draw(st.sampled_from(["video", "m3u8", "image"]))]
    value = st.one_of(json_value, st.sampled_from(NASTY[:50]))
    policy = base64.b64encode(draw(policy_doc(value)).encode("utf-8", "replace")).decode()
    if draw(st.integers(0, 4)) == 0:
        policy = draw(st.one_of(header_text, st.sampled_from(["", "!!!", "e30", "e30=" * 3])))
    sig = oss_auth.sign(cred.secret, policy) if draw(st.booleans()) else draw(header_text)
    fields = [("key", draw(st.one_of(st.just(cred.key), st.just("${filename}"), header_text))),
              ("policy", policy), ("OSSAccessKeyId", draw(st.one_of(st.just(cred.ak), header_text))),
              ("Signature", sig), ("x-oss-security-token", draw(st.one_of(st.just(cred.token), header_text)))]
    for name in draw(st.lists(st.sampled_from(["success_action_status", "success_action_redirect", "Content-Type",
                                               "x-oss-meta-a", "callback", "Cache-Control"]), max_size=3, unique=True)):
        fields.append((name, draw(st.one_of(st.sampled_from(["200", "201", "204", "999", "-1", "1e400", ""]),
                                            header_text))))
    fields = draw(st.permutations(fields)) if draw(st.booleans()) else fields
    if draw(st.integers(0, 3)) == 0:
        fields = fields[: draw(st.integers(0, len(fields)))]
    boundary = draw(st.sampled_from(["fuzzboundary", "x", "-" * 70, "a b"]))
    ctype = draw(st.one_of(st.just(f"multipart/form-data; boundary={boundary}"), hval.map(
        lambda v: "multipart/form-data; " + v)))
    file_name = draw(st.one_of(st.just("a.mp4"), st.none(), header_text))
    body = post_form(boundary, fields, file_name, draw(st.binary(max_size=200)), tail=draw(st.booleans()))
    if draw(st.integers(0, 5)) == 0:  # truncated anywhere
        body = body[: draw(st.integers(0, len(body)))]
    bucket = draw(st.one_of(st.just(cred.bucket), st.just("other")))
    return "POST", f"/{bucket}", [], {"Content-Type": ctype}, body


def send_raw(server: Server, method: str, path: str, query: list[tuple[str, str]], headers: dict[str, str],
             body: bytes, vhost: bool = False) -> httpx.Response:
    qs = urlencode(query, quote_via=quote, safe="")
    url = server.url + path + ("?" + qs if qs else "")
    h = {k: v.strip(" \t").encode("latin-1") for k, v in headers.items()}  # h11 refuses edge whitespace
    if vhost:  # virtual-host style: Host <bucket>.<endpoint host>, path /<key>
        bucket, _, key = path[1:].partition("/")
        url = server.url + "/" + key + ("?" + qs if qs else "")
        h["Host"] = f"{bucket}.{server.url.split('://', 1)[1]}".encode("latin-1", "replace")
    return _client(server).request(method, url, headers=h, content=body)


def check_oss(r: httpx.Response, where: str) -> None:
    assert r.status_code < 500, f"{r.status_code} for {where}: {r.text[:400]}"
    if r.status_code >= 300 and r.request.method != "HEAD" and r.status_code != 413:
        # Refused by the object endpoint: OSS's XML error. (A path that is not the bucket's is the RPC
        # side's 404 text or an RPC envelope: a virtual-host request whose bucket is not ours.)
        if r.headers.get("x-oss-request-id"):
            assert r.text.startswith("<?xml") and "<Code>" in r.text and "<RequestId>" in r.text, where


def _fuzz_oss(server: Server, creds: dict[str, Cred], family: str, examples: int) -> None:
    strategy = object_request(creds) if family == "object" else post_object_request(creds)

    @settings(max_examples=examples, derandomize=True, deadline=None, database=None, print_blob=True,
              suppress_health_check=list(HealthCheck))
    @given(req=strategy, vhost=st.booleans())
    def run(req: Any, vhost: bool) -> None:
        method, path, query, headers, body = req
        where = f"{method} {path} {query!r} {headers!r} body={body[:200]!r}"
        check_oss(send_raw(server, method, path, query, headers, body, vhost), where)

    run()


@pytest.mark.parametrize("family", ["object", "post"])
def test_oss_fuzz(server: Server, creds: dict[str, Cred], family: str) -> None:
    _fuzz_oss(server, creds, family, EXAMPLES * 4)


@pytest.mark.slow
@pytest.mark.parametrize("family", ["object", "post"])
def test_oss_fuzz_long(server: Server, creds: dict[str, Cred], family: str) -> None:
    _fuzz_oss(server, creds, family, int(os.environ.get("OPENVOD_FUZZ_LONG_EXAMPLES", "1000")))


def test_unsupported_object_operations_are_refused_not_5xx(server: Server, creds: dict[str, Cred]) -> None:
    """DeleteObject, CopyObject, PutObjectACL with a valid upload credential: 403 AccessDenied, as OSS
    answers a VOD upload token (found by the fuzz: they were 501 NotImplemented)."""
    v = creds["video"]
    date = {"Date": formatdate(usegmt=True), "x-oss-security-token": v.token}
    cases = [("DELETE", [], {}), ("PUT", [], {"x-oss-copy-source": f"/{v.bucket}/{creds['image'].key}"}),
             ("PUT", [("acl", "")], {"x-oss-object-acl": "public-read"}), ("POST", [("restore", "")], {})]
    for method, query, extra in cases:
        h = oss_headers_signed(v, method, v.bucket, v.key, query, {**date, **extra})
        r = send_raw(server, method, f"/{v.bucket}/{v.key}", query, h, b"")
        assert r.status_code == 403, (method, query, r.status_code, r.text)
        assert "<Code>AccessDenied</Code>" in r.text
