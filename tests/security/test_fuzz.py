"""Fuzzing every Action through raw signed HTTP against the session server: no 5xx, ever, and every
error is a well-formed Alibaba envelope.

Seeded (``derandomize``) and bounded for the default run (``OPENVOD_FUZZ_EXAMPLES`` examples per
Action, 40 by default: about a thousand requests); ``-m slow`` runs ``test_fuzz_long`` with 1,000 per
Action (26,000+ requests). Every registered Action is fuzzed: those listed in PARAMS get tailored
strategies, any other (a new Action) gets the generic one.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openvod.api import signing
import openvod.api.actions  # noqa: F401  (registers every Action)
from openvod.api.rpc import ACTIONS
from tests.conftest import Key, Server
from tests.sdk import utc_now, v1_params

ENVELOPE_KEYS = ["RequestId", "HostId", "Code", "Message", "Recommend"]
EXAMPLES = int(os.environ.get("OPENVOD_FUZZ_EXAMPLES", "40"))

# ---------------------------------------------------------------------------------------------- values
DEEP = ["[" * n + "]" * n for n in (33, 200, 2000)] + ['{"a":' * 300 + "1" + "}" * 300]
NASTY = [
    "", " ", "0", "-1", "1", "10", "101", "1e400", "-1e400", "NaN", "Infinity", "9223372036854775808", "-9223372036854775809",
    "18446744073709551616", "1.5", "0x10", "²", "٣", "１", "true", "false", "null", "[]", "{}", '""', "\x00", "%00", "\t",
    "\u202e", "\ufeff", "a" * 20_000, "😀" * 300, "../../../../etc/passwd", "/etc/passwd", "file:///etc/passwd",
    "blob:media/0/0/source.mp4", "blob:aiimage/x/y/z.png", "/blobs/media/x", "http://[::1", "http://[::1]:99999/",
    "http://127.0.0.1:99999/x", "http://h:abc/x", "http://h:-1/x", "http://h:0/x", "http://a..b/x", "http://.x/",
    "http://" + "a" * 64 + ".com/", "http://xn--/", "https://bücher.example/x", "http:///x", "http://u:p@[::1]:1/",
    "javascript:alert(1)", "ftp://h/x", "\\\\host\\share", "http://169.254.169.254/latest/meta-data/",
    "AIVideoTag", "AIMediaDNA", "AIImage", "AIMediaAudit", "aivideotag,AIMEDIADNA", ",,,", "Face,ASR,OCR",
    "AIComplete", "ALL", "on", "off", "HTTP", "MNS", "xml", "json", "srt", "vtt", "video,audio", "oss", "cdn",
    "ai", "VOD_NO_TRANSCODE", "0" * 32, "f" * 32, ",".join(["0" * 32] * 30), *DEEP,
]
text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=80)
number_text = st.one_of(st.integers(-(2**70), 2**70).map(str), st.floats(allow_nan=True).map(repr))
scalar = st.one_of(st.sampled_from(NASTY), text, number_text)
json_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), text, st.sampled_from(NASTY[:60])),
    lambda kids: st.one_of(st.lists(kids, max_size=4), st.dictionaries(st.one_of(text, st.sampled_from(
        ["FileURL", "Title", "CateId", "CoverURL", "Tags", "Description", "AIVideoTag", "AIMediaDNA", "AnalyseTypes",
         "DNADBId", "SearchOnly", "OrigASRData", "Format", "SetDefaultCover", "Count", "AuditItem", "AuditRange",
         "AuditContent", "AuditAutoBlock", "MessageCallback", "CallbackURL", "CallbackType", "Extend"])), kids, max_size=5)),
    max_leaves=12,
)


def dumps(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False, allow_nan=True)


any_json = st.one_of(json_value.map(dumps), scalar)
meta_entry = st.fixed_dictionaries(
    {"FileURL": scalar, "Title": st.one_of(text, scalar)},
    optional={"CateId": st.one_of(st.integers(-(2**70), 2**70), st.floats(), scalar, json_value),
              "CoverURL": scalar, "Tags": st.one_of(scalar, json_value), "Description": st.one_of(scalar, json_value)},
)
register_metadatas = st.one_of(st.lists(meta_entry, min_size=1, max_size=3).map(dumps), any_json)
callback_obj = st.fixed_dictionaries({"CallbackURL": st.one_of(scalar, json_value)},
                                     optional={"CallbackType": st.one_of(scalar, json_value)})
user_data = st.one_of(
    st.fixed_dictionaries({}, optional={
        "MessageCallback": st.one_of(callback_obj, callback_obj.map(dumps), json_value),
        "Extend": st.one_of(json_value, scalar)}).map(dumps),
    any_json,
)
job_config = st.one_of(
    st.fixed_dictionaries({}, optional={
        "AIVideoTag": st.one_of(st.fixed_dictionaries({}, optional={
            "AnalyseTypes": st.one_of(scalar, json_value), "OrigASRData": st.one_of(scalar, json_value)}), json_value),
        "AIMediaDNA": st.one_of(st.fixed_dictionaries({}, optional={
            "DNADBId": st.one_of(scalar, json_value), "SearchOnly": st.one_of(scalar, json_value)}), json_value),
        "DNADBId": st.one_of(scalar, json_value)}).map(dumps),
    any_json,
)
template_config = st.one_of(
    st.fixed_dictionaries({"Format": st.one_of(st.sampled_from(["png", "gif"]), scalar)}, optional={
        "SetDefaultCover": st.one_of(st.sampled_from(["true", "false"]), st.booleans(), scalar),
        "Count": st.one_of(st.integers(-5, 2**70), scalar, json_value)}).map(dumps),
    st.fixed_dictionaries({"AuditAutoBlock": st.one_of(st.sampled_from(["yes", "no"]), scalar)}, optional={
        "AuditItem": json_value, "AuditRange": json_value, "AuditContent": json_value}).map(dumps),
    any_json,
)
ids = st.one_of(scalar, st.lists(st.one_of(scalar, st.just("0" * 32)), max_size=25).map(",".join))

PARAMS: dict[str, dict[str, st.SearchStrategy[str]]] = {
    "RegisterMedia": {"RegisterMetadatas": register_metadatas, "TemplateGroupId": scalar, "UserData": user_data},
    "GetVideoInfo": {"VideoId": scalar, "ReferenceId": scalar},
    "GetVideoInfos": {"VideoIds": ids, "ReferenceIds": ids},
    "DeleteVideo": {"VideoIds": ids, "ReferenceIds": ids},
    "GetMezzanineInfo": {"VideoId": scalar, "OutputType": scalar, "AuthTimeout": scalar, "AdditionType": scalar},
    "SubmitAIJob": {"MediaId": scalar, "Types": scalar, "Config": job_config, "UserData": user_data},
    "ListAIJob": {"JobIds": ids},
    "GetAIVideoTagResult": {"MediaId": scalar},
    "GetMediaDNAResult": {"MediaId": scalar},
    "SubmitMediaDNADeleteJob": {"MediaId": scalar, "FpDBId": scalar},
    "GetJobDetail": {"JobId": scalar, "JobType": scalar},
    "AddAITemplate": {"TemplateName": scalar, "TemplateType": scalar, "TemplateConfig": template_config},
    "GetAITemplate": {"TemplateId": scalar},
    "ListAITemplate": {"TemplateType": scalar, "PageNo": scalar, "PageSize": scalar},
    "UpdateAITemplate": {"TemplateId": scalar, "TemplateName": scalar, "TemplateConfig": template_config},
    "DeleteAITemplate": {"TemplateId": scalar},
    "SetDefaultAITemplate": {"TemplateId": scalar},
    "GetDefaultAITemplate": {"TemplateType": scalar},
    "SubmitAIImageJob": {"VideoId": scalar, "AITemplateId": scalar, "UserData": user_data},
    "GetAIImageJobs": {"JobIds": ids},
    "ListAIImageInfo": {"VideoId": scalar},
    "DeleteAIImageInfos": {"AIImageInfoIds": ids},
    "SetMessageCallback": {"AppId": scalar, "CallbackType": scalar, "CallbackURL": scalar, "EventTypeList": scalar,
                           "AuthSwitch": scalar, "AuthKey": scalar},
    "GetMessageCallback": {"AppId": scalar},
    "GetAIVideoTagDetail": {"MediaId": scalar, "JobId": scalar, "Format": scalar},
    "ListFaceLibrary": {},
}
# Names any Action might read (for Actions not in PARAMS, and as stray extras for every Action).
ALL_NAMES = sorted({n for p in PARAMS.values() for n in p} | {"PageNo", "PageSize", "SortBy", "Title", "CateId"})
COMMON = ["Format", "SignatureType", "RegionId", "ResourceOwnerId", "Action"]


def params_for(action: str) -> st.SearchStrategy[dict[str, str]]:
    tailored = PARAMS.get(action)
    if tailored is None:
        tailored = {n: scalar for n in ALL_NAMES}
    base = st.fixed_dictionaries({}, optional=tailored)
    extras = st.dictionaries(st.sampled_from(ALL_NAMES + COMMON), scalar, max_size=2)
    return st.tuples(base, extras).map(lambda t: {**t[1], **t[0]})


def _clean(v: str) -> str:
    # Query strings carry text; a NUL is fine (percent-encoded) but lone surrogates cannot be encoded.
    return v.encode("utf-8", "replace").decode("utf-8")


def send(server: Server, key: Key, action: str, params: dict[str, str], transport: str) -> httpx.Response:
    params = {k: _clean(v) for k, v in params.items() if k not in ("Action",)}
    if transport != "post" and sum(len(k) + len(v.encode()) * 3 for k, v in params.items()) > 6000:
        transport = "post"  # too long for a URL (clients cap it): send it in the form body
    if transport == "v3":
        host = server.url.split("://", 1)[1]
        query = sorted(params.items())
        body = b""
        headers = {"host": host, "x-acs-action": action, "x-acs-version": "2017-03-21", "x-acs-date": utc_now(),
                   "x-acs-signature-nonce": uuid.uuid4().hex, "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
                   "accept": "application/json"}
        signed = sorted(headers)
        creq = signing.v3_canonical_request("POST", query, {k: [v] for k, v in headers.items()}, signed,
                                            headers["x-acs-content-sha256"])
        sig = signing.v3_sign(key.secret, signing.v3_string_to_sign(creq))
        headers["authorization"] = (
            f"ACS3-HMAC-SHA256 Credential={key.id},SignedHeaders={';'.join(signed)},Signature={sig}")
        qs = "&".join(f"{signing.percent_encode(k)}={signing.percent_encode(v)}" for k, v in query)
        return httpx.post(server.url + "/" + (("?" + qs) if qs else ""), headers=headers, timeout=60)
    method = "GET" if transport == "get" else "POST"
    p = v1_params(key, action, {k: v for k, v in params.items() if k != "Format"})
    if "Format" in params:
        p["Format"] = params["Format"]
    p["Signature"] = signing.v1_sign(key.secret, signing.v1_string_to_sign(method, p))
    if method == "GET":
        return httpx.get(server.url + "/?" + urlencode(p), timeout=60)
    return httpx.post(server.url + "/", content=urlencode(p).encode(),
                      headers={"content-type": "application/x-www-form-urlencoded"}, timeout=60)


def check(r: httpx.Response, action: str, params: dict[str, str]) -> None:
    where = f"{action} {json.dumps(params, ensure_ascii=True)[:600]}"
    assert r.status_code < 500, f"{r.status_code} for {where}: {r.text[:300]}"
    if r.status_code == 413:  # the body limit, answered before any parsing
        return
    assert r.headers.get("x-acs-request-id"), where
    ctype = r.headers.get("content-type", "")
    if "xml" in ctype:
        assert r.text.startswith("<?xml"), where
        if r.status_code >= 400:
            assert "<Code>" in r.text and "<RequestId>" in r.text, where
        return
    body = r.json()
    assert body["RequestId"] == r.headers["x-acs-request-id"], where
    if r.status_code >= 400:
        assert list(body) == ENVELOPE_KEYS, f"{where}: {body}"
        assert isinstance(body["Code"], str) and body["Code"] and body["Message"], where
    else:
        assert "Code" not in body or action == "GetJobDetail", where


@pytest.fixture(scope="module")
def fuzz_key(server: Server) -> Key:
    return server.key("fuzzer")


def _fuzz(server: Server, key: Key, action: str, examples: int) -> None:
    @settings(max_examples=examples, derandomize=True, deadline=None, database=None, print_blob=True,
              suppress_health_check=list(HealthCheck))
    @given(params=params_for(action), transport=st.sampled_from(["post", "get", "v3"]))
    def run(params: dict[str, str], transport: str) -> None:
        check(send(server, key, action, params, transport), action, params)

    run()


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_fuzz(server: Server, fuzz_key: Key, action: str) -> None:
    _fuzz(server, fuzz_key, action, EXAMPLES)


@pytest.mark.slow
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_fuzz_long(server: Server, fuzz_key: Key, action: str) -> None:
    _fuzz(server, fuzz_key, action, int(os.environ.get("OPENVOD_FUZZ_LONG_EXAMPLES", "1000")))


def test_every_action_has_tailored_strategies() -> None:
    """New Actions are fuzzed generically; this names the ones that deserve their own strategies."""
    missing = sorted(set(ACTIONS) - set(PARAMS))
    if missing:
        pytest.skip(f"fuzzed with the generic strategy only: {', '.join(missing)}")
