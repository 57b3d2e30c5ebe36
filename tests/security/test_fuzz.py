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
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import openvod.api.actions  # noqa: F401  (registers every Action)
from openvod.api import signing
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
number_like = st.one_of(st.integers(-(2**70), 2**70).map(str), scalar)
title = st.one_of(text, scalar, st.text(min_size=120, max_size=140))
file_name = st.one_of(
    st.sampled_from(["a.mp4", "a.MP4", "a.m3u8", "a", ".mp4", "a.exe", "a.mp4.exe", "../../a.mp4", "/etc/a.mp4",
                     "C:\\a.mp4", "a\x00.mp4", "sv/x/a.mp4", "a." + "x" * 40, "%2e%2e/a.mp4", "a b.flv"]),
    st.tuples(text, st.sampled_from([".mp4", ".mov", ".m3u8", ".png", ".mp3", ""])).map("".join), scalar)
tags = st.one_of(st.lists(st.one_of(text, scalar), max_size=20).map(",".join), scalar)
reference_id = st.one_of(st.from_regex(r"[A-Za-z0-9_-]{4,70}", fullmatch=True), scalar)
cover_url = st.one_of(st.sampled_from(["https://example.com/c.png", "blob:aiimage/0/0/x.png",
                                       "blob:aiimage/x/../../media/y/z/source.mp4", "0" * 32, "/blobs/x"]), scalar)
time_text = st.one_of(st.sampled_from(["2024-01-01T00:00:00Z", "2024-13-01T00:00:00Z", "2024-01-01", "0",
                                       "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2024-01-01T00:00:00.5Z",
                                       "2024-02-30T00:00:00Z", "2024-01-01T24:00:00Z"]), scalar)
sort_by = st.one_of(st.sampled_from(["CreationTime:Desc", "CreationTime:Asc", "Title:Asc", "CreationTime",
                                     ":", "CreationTime:"]), scalar)
_match_field = st.sampled_from(["Title", "Description", "Tags", "Status", "MediaId", "VideoId", "CateId",
                                "StorageLocation", "AppId", "CreationTime", "ModificationTime", "Foo", ""])
_match_value = st.one_of(
    scalar.map(lambda v: "'" + v + "'"), scalar,
    st.lists(st.one_of(scalar, text), max_size=4).map(lambda vs: "(" + ",".join("'" + v + "'" for v in vs) + ")"),
    st.sampled_from(["('2024-01-01T00:00:00Z','')", "('', '')", "('a','b','c')", "(", ")", "'", "'" * 4, "1e400",
                     "9223372036854775808"]))
_match_cond = st.tuples(_match_field, st.sampled_from([" = ", " in ", "=", " == ", " like ", " "]),
                        _match_value).map("".join)
match_text = st.one_of(st.lists(_match_cond, min_size=1, max_size=4).map(" and ".join),
                       st.lists(_match_cond, min_size=1, max_size=3).map(" or ".join), scalar)
upload_urls = st.one_of(
    st.lists(st.one_of(st.sampled_from(NASTY), st.just("https://example.com/v.mp4"),
                       text.map(lambda t: "https://example.com/" + quote(t))), min_size=1, max_size=22)
    .map(lambda us: ",".join(quote(u, safe="") if i % 2 else u for i, u in enumerate(us))), scalar)
upload_metadatas = st.one_of(
    st.lists(st.fixed_dictionaries({"SourceURL": st.one_of(st.just("https://example.com/v.mp4"), scalar)}, optional={
        "Title": st.one_of(title, json_value), "CateId": st.one_of(st.integers(-(2**70), 2**70), st.floats(), scalar),
        "Tags": st.one_of(tags, json_value), "CoverURL": st.one_of(cover_url, json_value),
        "Description": st.one_of(scalar, json_value), "FileSize": st.one_of(number_like, json_value),
        "FileExtension": scalar}), max_size=3).map(dumps), any_json)
update_content = st.one_of(
    st.lists(st.fixed_dictionaries({"VideoId": st.one_of(scalar, st.just("0" * 32), json_value)}, optional={
        "Title": st.one_of(title, json_value), "CateId": st.one_of(st.integers(-(2**70), 2**70), st.floats(), scalar,
                                                                   json_value),
        "Tags": st.one_of(tags, json_value), "CoverURL": st.one_of(cover_url, json_value),
        "Description": st.one_of(scalar, json_value), "UserData": st.one_of(user_data, json_value),
        "ReferenceId": st.one_of(reference_id, json_value)}), max_size=22).map(dumps), any_json)

# ---- AIMediaAudit (docs/audit.md)
# ``{OTHER_VIDEO}`` / ``{OWN_VIDEO}`` are replaced before sending by real VideoIds of another account and of the
# fuzzing account (made by the ``real_ids`` fixture): another account's ids must read as not found, never leak.
REAL_IDS: dict[str, str] = {}
audit_id = st.one_of(st.just("{OWN_VIDEO}"), st.just("{OTHER_VIDEO}"),
                     st.sampled_from(["{OTHER_VIDEO},{OWN_VIDEO}", "0" * 32, "f" * 32, "0" * 31, "0" * 33, "x" * 128,
                                      "x" * 129]), st.from_regex(r"[0-9a-f]{32}", fullmatch=True), scalar)
audit_status = st.one_of(st.sampled_from(["Normal", "Blocked"]),
                         st.sampled_from(["normal", "BLOCKED", "Checking", "Uploading", ""]), scalar, json_value)
audit_entry = st.fixed_dictionaries({"VideoId": st.one_of(audit_id, json_value), "Status": audit_status}, optional={
    "Reason": st.one_of(text, scalar, json_value, st.text(min_size=200, max_size=600)),
    "Comment": st.one_of(text, scalar, json_value, st.text(min_size=300, max_size=1200))})
audit_content = st.one_of(
    st.lists(audit_entry, max_size=4).map(dumps),
    st.lists(audit_entry, min_size=99, max_size=102).map(dumps),
    audit_entry.map(dumps),  # an object, not an array
    any_json)
audit_config = st.one_of(
    st.fixed_dictionaries({}, optional={
        "ResourceType": st.one_of(st.sampled_from(["default", "bad-type", "a b", "x" * 200, "风险"]), scalar,
                                  json_value)}).map(dumps),
    any_json)
page_no = st.one_of(st.sampled_from(["1", "2", "0", "-1", "100000", "100001", "1.0", " 1"]), number_like)
page_size = st.one_of(st.sampled_from(["1", "10", "100", "101", "0", "-5"]), number_like)
ip_text = st.sampled_from(["10.0.0.1", "192.168.0.0/16", "::1", "2001:db8::/32", "0.0.0.0/0", "256.1.1.1",
                           "10.0.0.1/33", "10.0.0.1/-1", "1.2.3", "10.0.0.1/abc", "fe80::1%eth0", "::ffff:1.2.3.4",
                           "1.2.3.4/24", "*", "localhost", "١٢٣.1.1.1"])
audit_ips = st.one_of(st.lists(st.one_of(ip_text, scalar), min_size=1, max_size=8).map(",".join),
                      st.lists(ip_text, min_size=95, max_size=110).map(",".join), scalar)
security_group = st.one_of(st.sampled_from(["Default", "g1", "g2", "x" * 64, "x" * 65, "组", "a b", ""]), scalar)
operate_mode = st.one_of(st.sampled_from(["Append", "Cover", "Delete", "append", "Replace"]), scalar)

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
    # ---- upload (docs/upload.md)
    "CreateUploadVideo": {"Title": title, "FileName": file_name, "FileSize": number_like, "Description": scalar,
                          "CoverURL": cover_url, "CateId": number_like, "Tags": tags, "TemplateGroupId": scalar,
                          "AppId": scalar, "UserData": user_data, "ReferenceId": reference_id,
                          "StorageLocation": scalar},
    "RefreshUploadVideo": {"VideoId": scalar, "ReferenceId": reference_id},
    "CreateUploadImage": {"ImageType": st.one_of(st.sampled_from(["default", "cover", "watermark", "COVER"]), scalar),
                          "ImageExt": st.one_of(st.sampled_from(["png", "jpg", "jpeg", "gif", "heic", "webp", "PNG",
                                                                 "exe", ".png"]), scalar),
                          "OriginalFileName": file_name, "Title": title, "Tags": tags, "Description": scalar,
                          "StorageLocation": scalar, "UserData": user_data, "AppId": scalar, "CateId": number_like},
    "CreateUploadAttachedMedia": {
        "BusinessType": st.one_of(st.sampled_from(["watermark", "subtitle", "material", "Watermark"]), scalar),
        "MediaExt": st.one_of(st.sampled_from(["png", "srt", "vtt", "ass", "mp4", "gif", "jpg", "zip", "exe"]),
                              scalar),
        "FileName": file_name, "FileSize": number_like, "Title": title, "CateIds": ids, "Tags": tags,
        "Description": scalar, "StorageLocation": scalar, "UserData": user_data, "AppId": scalar},
    "GetUploadDetails": {"MediaIds": ids, "MediaType": st.one_of(st.sampled_from(["video", "image", "attached"]),
                                                                  scalar)},
    "DeleteMultipartUpload": {"MediaId": scalar, "MediaType": st.one_of(st.just("video"), scalar)},
    "UploadMediaByURL": {"UploadURLs": upload_urls, "UploadMetadatas": upload_metadatas, "TemplateGroupId": scalar,
                         "StorageLocation": scalar, "Description": scalar, "UserData": user_data, "Tags": tags,
                         "AppId": scalar},
    "GetURLUploadInfos": {"JobIds": ids, "UploadURLs": upload_urls},
    "CancelUrlUploadJobs": {"JobIds": ids, "UploadURLs": upload_urls},
    # ---- library
    "GetPlayInfo": {"VideoId": scalar, "ReferenceId": reference_id, "AuthTimeout": number_like,
                    "OutputType": scalar, "ResultType": st.one_of(st.sampled_from(["Single", "Multiple"]), scalar),
                    "Formats": st.one_of(st.sampled_from(["mp4", "m3u8,mp4", "mp3", "flv"]), scalar),
                    "Definition": st.one_of(st.sampled_from(["OD", "FD,LD,SD", "AUTO"]), scalar),
                    "StreamType": st.one_of(st.sampled_from(["video", "audio"]), scalar)},
    "UpdateVideoInfo": {"VideoId": scalar, "Title": title, "Description": scalar, "Tags": tags,
                        "CoverURL": cover_url, "CateId": number_like, "UserData": user_data,
                        "ReferenceId": reference_id},
    "UpdateVideoInfos": {"UpdateContent": update_content},
    "GetVideoList": {"PageNo": number_like, "PageSize": number_like, "StartTime": time_text, "EndTime": time_text,
                     "CateId": number_like, "Status": st.one_of(
                         st.sampled_from(["Normal", "Uploading,UploadSucc", "UploadFail,Blocked", "x"]), scalar),
                     "SortBy": sort_by},
    "SearchMedia": {"Match": match_text, "PageNo": number_like, "PageSize": number_like, "ScrollToken": scalar,
                    "SearchType": st.one_of(st.sampled_from(["video", "audio", "image", "attached", "VIDEO"]), scalar),
                    "Fields": st.one_of(st.sampled_from(["Title,AiData", "AiData", "CoverURL,Tags,Duration"]), scalar),
                    "SortBy": sort_by},
    "GetImageInfo": {"ImageId": scalar, "AuthTimeout": number_like},
    "GetImageInfos": {"ImageIds": ids, "AuthTimeout": number_like},
    "ListJobInfo": {"JobType": st.one_of(st.sampled_from(["ai", "AI", "transcode", "snapshot"]), scalar),
                    "MediaId": scalar},
    "DescribeVodAIData": {"StartTime": time_text, "EndTime": time_text,
                          "AIType": st.one_of(st.sampled_from(["AIVideoTag", "AIMediaDNA,AIImage", "x"]), scalar),
                          "Region": scalar},
    # ---- AIMediaAudit
    "SubmitAIMediaAuditJob": {"MediaId": audit_id, "TemplateId": audit_id,
                              "MediaType": st.one_of(st.sampled_from(["video", "image", "VIDEO", "audio"]), scalar),
                              "MediaAuditConfiguration": audit_config, "UserData": user_data,
                              "CensorProvider": scalar, "VideoService": scalar, "VoiceService": scalar,
                              "ServiceParameters": any_json},
    "SubmitAIImageAuditJob": {"MediaId": audit_id, "TemplateId": audit_id, "MediaAuditConfiguration": audit_config,
                              "UserData": user_data, "CensorProvider": scalar, "ImageService": scalar,
                              "ServiceParameters": any_json},
    "GetAIMediaAuditJob": {"JobId": audit_id},
    "GetMediaAuditResult": {"MediaId": audit_id},
    "GetMediaAuditResultDetail": {"MediaId": audit_id, "PageNo": page_no},
    "GetMediaAuditResultTimeline": {"MediaId": audit_id},
    "GetMediaAuditAudioResultDetail": {"MediaId": audit_id, "PageNo": page_no},
    "CreateAudit": {"AuditContent": audit_content},
    "GetAuditHistory": {"VideoId": audit_id, "PageNo": page_no, "PageSize": page_size,
                        "SortBy": st.one_of(st.sampled_from(["CreationTime:Desc", "CreationTime:Asc"]), sort_by)},
    "SetAuditSecurityIp": {"Ips": audit_ips, "SecurityGroupName": security_group, "OperateMode": operate_mode},
    "ListAuditSecurityIp": {},
}
# Names any Action might read (for Actions not in PARAMS, and as stray extras for every Action).
ALL_NAMES = sorted({n for p in PARAMS.values() for n in p} | {"PageNo", "PageSize", "SortBy", "Title", "CateId"})
COMMON = ["Format", "SignatureType", "RegionId", "ResourceOwnerId", "Action"]


# Required parameters: present in most examples (rather than half of them), so that more requests get past
# MissingParameter to the code behind it.
REQUIRED: dict[str, set[str]] = {
    "SubmitAIMediaAuditJob": {"MediaId"}, "SubmitAIImageAuditJob": {"MediaId"}, "GetAIMediaAuditJob": {"JobId"},
    "GetMediaAuditResult": {"MediaId"},
    "GetMediaAuditResultDetail": {"MediaId", "PageNo"}, "GetMediaAuditResultTimeline": {"MediaId"},
    "GetMediaAuditAudioResultDetail": {"MediaId"}, "CreateAudit": {"AuditContent"}, "GetAuditHistory": {"VideoId"},
    "SetAuditSecurityIp": {"Ips"},
}


def params_for(action: str) -> st.SearchStrategy[dict[str, str]]:
    tailored = PARAMS.get(action)
    if tailored is None:
        tailored = {n: scalar for n in ALL_NAMES}
    base = st.fixed_dictionaries({}, optional=tailored)
    required = REQUIRED.get(action)
    if required:
        base = st.one_of(base, *[st.fixed_dictionaries(
            {k: v for k, v in tailored.items() if k in required},
            optional={k: v for k, v in tailored.items() if k not in required})] * 3)
    extras = st.dictionaries(st.sampled_from(ALL_NAMES + COMMON), scalar, max_size=2)
    return st.tuples(base, extras).map(lambda t: {**t[1], **t[0]})


def _clean(v: str) -> str:
    # Query strings carry text; a NUL is fine (percent-encoded) but lone surrogates cannot be encoded.
    for name, real in REAL_IDS.items():
        v = v.replace("{" + name + "}", real)
    return v.encode("utf-8", "replace").decode("utf-8")


_CLIENTS: dict[str, httpx.Client] = {}


def _client(server: Server) -> httpx.Client:
    """One keep-alive client per server (a new client per request costs more CPU than the request)."""
    c = _CLIENTS.get(server.url)
    if c is None:
        c = _CLIENTS[server.url] = httpx.Client(timeout=60)
    return c


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
        return _client(server).post(server.url + "/" + (("?" + qs) if qs else ""), headers=headers)
    method = "GET" if transport == "get" else "POST"
    p = v1_params(key, action, {k: v for k, v in params.items() if k != "Format"})
    if "Format" in params:
        p["Format"] = params["Format"]
    p["Signature"] = signing.v1_sign(key.secret, signing.v1_string_to_sign(method, p))
    if method == "GET":
        return _client(server).get(server.url + "/?" + urlencode(p))
    return _client(server).post(server.url + "/", content=urlencode(p).encode(),
                                headers={"content-type": "application/x-www-form-urlencoded"})


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


def _new_video(server: Server, key: Key) -> str:
    r = send(server, key, "CreateUploadVideo", {"Title": "fuzz target", "FileName": "a.mp4"}, "post")
    assert r.status_code == 200, r.text
    return str(r.json()["VideoId"])


@pytest.fixture(scope="module")
def real_ids(server: Server, fuzz_key: Key) -> Iterator[dict[str, str]]:
    """Real VideoIds for the ``{OTHER_VIDEO}`` / ``{OWN_VIDEO}`` placeholders of the strategies."""
    other = server.key("fuzz-victim")
    REAL_IDS.update(OTHER_VIDEO=_new_video(server, other), OWN_VIDEO=_new_video(server, fuzz_key))
    yield REAL_IDS
    REAL_IDS.clear()


def _fuzz(server: Server, key: Key, action: str, examples: int) -> None:
    @settings(max_examples=examples, derandomize=True, deadline=None, database=None, print_blob=True,
              suppress_health_check=list(HealthCheck))
    @given(params=params_for(action), transport=st.sampled_from(["post", "get", "v3"]))
    def run(params: dict[str, str], transport: str) -> None:
        check(send(server, key, action, params, transport), action, params)

    run()


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_fuzz(server: Server, fuzz_key: Key, real_ids: dict[str, str], action: str) -> None:
    _fuzz(server, fuzz_key, action, EXAMPLES)


@pytest.mark.slow
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_fuzz_long(server: Server, fuzz_key: Key, real_ids: dict[str, str], action: str) -> None:
    _fuzz(server, fuzz_key, action, int(os.environ.get("OPENVOD_FUZZ_LONG_EXAMPLES", "1000")))


def test_every_action_has_tailored_strategies() -> None:
    """New Actions are fuzzed generically; this names the ones that deserve their own strategies."""
    missing = sorted(set(ACTIONS) - set(PARAMS))
    if missing:
        pytest.skip(f"fuzzed with the generic strategy only: {', '.join(missing)}")


def test_url_upload_of_a_repeated_url_is_refused_not_5xx(server: Server, fuzz_key: Key) -> None:
    """Found by the long fuzz: the same URL twice (in one request, or again later) broke the unique
    (account, file_url) of media with a 500; a CateId of 1e400 in UploadMetadatas overflowed."""
    url = f"https://example.com/{uuid.uuid4().hex}.mp4"
    assert send(server, fuzz_key, "UploadMediaByURL", {"UploadURLs": url}, "post").status_code == 200
    for params in ({"UploadURLs": url}, {"UploadURLs": f"{url}x.mp4,{url}x.mp4"},
                   {"UploadURLs": url + "y.mp4", "UploadMetadatas": json.dumps([{"SourceURL": url + "y.mp4",
                                                                                 "CateId": 1e400}])},
                   {"UploadURLs": url + "z.mp4", "UploadMetadatas": json.dumps([{"SourceURL": url + "z.mp4",
                                                                                 "CateId": 2**64}])}):
        r = send(server, fuzz_key, "UploadMediaByURL", params, "post")
        assert r.status_code == 400 and r.json()["Code"].startswith("InvalidParameter"), (params, r.text)


def test_audit_actions_do_not_reach_another_accounts_video(server: Server, fuzz_key: Key,
                                                           real_ids: dict[str, str]) -> None:
    """The audit strategies send another account's real VideoId: every audit Action must answer it as
    not found (4xx), and CreateAudit must not change that video's status."""
    victim = server.key("fuzz-victim")
    other = real_ids["OTHER_VIDEO"]
    before = send(server, victim, "GetVideoInfo", {"VideoId": other}, "post").json()["Video"]["Status"]
    for action, params in (
            ("CreateAudit", {"AuditContent": json.dumps([{"VideoId": other, "Status": "Blocked"}])}),
            ("CreateAudit", {"AuditContent": json.dumps([{"VideoId": real_ids["OWN_VIDEO"], "Status": "Normal"},
                                                         {"VideoId": other, "Status": "Blocked"}])}),
            ("GetAuditHistory", {"VideoId": other}),
            ("SubmitAIMediaAuditJob", {"MediaId": other}),
            ("SubmitAIImageAuditJob", {"MediaId": other}),
            ("GetMediaAuditResult", {"MediaId": other}),
            ("GetMediaAuditResultDetail", {"MediaId": other, "PageNo": "1"}),
            ("GetMediaAuditResultTimeline", {"MediaId": other}),
            ("GetMediaAuditAudioResultDetail", {"MediaId": other})):
        r = send(server, fuzz_key, action, params, "post")
        assert 400 <= r.status_code < 500, (action, r.status_code, r.text)
        assert list(r.json()) == ENVELOPE_KEYS, r.text
    after = send(server, victim, "GetVideoInfo", {"VideoId": other}, "post").json()["Video"]["Status"]
    assert after == before


def test_nul_and_surrogates_are_400_not_5xx(server: Server, fuzz_key: Key, real_ids: dict[str, str]) -> None:
    """Found fuzzing the audit Actions on PostgreSQL (text cannot hold NUL): a NUL in any id parameter, in
    CreateAudit's Reason/Comment/VideoId or in UpdateVideoInfo's fields was a 500 there."""
    own = real_ids["OWN_VIDEO"]
    cases = [(a, {n: "a\x00b"}) for a, n in (
        ("GetAIMediaAuditJob", "JobId"), ("GetMediaAuditResult", "MediaId"), ("GetMediaAuditResultTimeline", "MediaId"),
        ("GetMediaAuditAudioResultDetail", "MediaId"), ("GetAuditHistory", "VideoId"), ("SubmitAIMediaAuditJob", "MediaId"),
        ("SubmitAIImageAuditJob", "MediaId"), ("GetVideoInfo", "VideoId"), ("GetAITemplate", "TemplateId"))]
    cases += [("GetMediaAuditResultDetail", {"MediaId": "a\x00", "PageNo": "1"}),
              ("SetAuditSecurityIp", {"Ips": "10.0.0.1", "SecurityGroupName": "a\x00"}),
              ("UpdateVideoInfo", {"VideoId": own, "Title": "a\x00b"}),
              ("UpdateVideoInfos", {"UpdateContent": json.dumps([{"VideoId": own, "Title": "a\ud800"}])})]
    for entry in ({"Reason": "a\x00b"}, {"Comment": "\x00"}, {"Reason": "\ud800"}, {"VideoId": own + "\x00"}):
        cases.append(("CreateAudit", {"AuditContent": json.dumps([{"VideoId": own, "Status": "Blocked", **entry}])}))
    before = send(server, fuzz_key, "GetAuditHistory", {"VideoId": own}, "post").json()["Total"]
    for action, params in cases:
        r = send(server, fuzz_key, action, params, "post")
        assert r.status_code == 400 and r.json()["Code"] == "InvalidParameter", (action, params, r.text)
    assert send(server, fuzz_key, "GetAuditHistory", {"VideoId": own}, "post").json()["Total"] == before


def test_cate_id_beyond_64_bits_is_400_not_5xx(server: Server, fuzz_key: Key, real_ids: dict[str, str]) -> None:
    """Found by the long fuzz run (bench/security/fuzz.py): UpdateVideoInfo with CateId 2**63 was a 500 (the
    column is a signed 64-bit integer). Every Action that takes a CateId refuses it with a 400."""
    own = real_ids["OWN_VIDEO"]
    for big in (str(2**63), str(-(2**63) - 1), "9" * 40):
        for action, params in (
                ("UpdateVideoInfo", {"VideoId": own, "CateId": big}),
                ("UpdateVideoInfos", {"UpdateContent": json.dumps([{"VideoId": own, "CateId": int(big)}])}),
                ("GetVideoList", {"CateId": big}),
                ("CreateUploadVideo", {"Title": "t", "FileName": "a.mp4", "CateId": big})):
            r = send(server, fuzz_key, action, params, "post")
            assert r.status_code == 400 and r.json()["Code"] == "InvalidParameter", (action, params, r.text)
    ok = send(server, fuzz_key, "UpdateVideoInfo", {"VideoId": own, "CateId": str(2**63 - 1)}, "post")
    assert ok.status_code == 200, ok.text
