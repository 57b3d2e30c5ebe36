"""Signature V1/V3 (spec §2, §3) and the callback signature (spec §13.4), as pure functions."""

from __future__ import annotations

import hashlib

import pytest

from openvod.api import signing
from openvod.notify.delivery import vod_signature

# ---------------------------------------------------------------------------------------------- V1
V1_PARAMS = {
    "Timestamp": "2017-10-10T12:02:54Z",
    "Format": "JSON",
    "AccessKeyId": "testAccessKeyId",
    "Action": "GetVideoPlayAuth",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "8f8a035d-6496-4268-afd4-67c22837e38d",
    "Version": "2017-03-21",
    "SignatureVersion": "1.0",
    "VideoId": "5aed81b74ba84920be578cdfe004af4b",
}
V1_STS = (
    "GET&%2F&AccessKeyId%3DtestAccessKeyId%26Action%3DGetVideoPlayAuth%26Format%3DJSON"
    "%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D8f8a035d-6496-4268-afd4-67c22837e38d"
    "%26SignatureVersion%3D1.0%26Timestamp%3D2017-10-10T12%253A02%253A54Z%26Version%3D2017-03-21"
    "%26VideoId%3D5aed81b74ba84920be578cdfe004af4b"
)


def test_v1_vendor_vector() -> None:
    sts = signing.v1_string_to_sign("GET", V1_PARAMS)
    assert sts == V1_STS
    assert signing.v1_sign("testAccessKeySecret", sts) == "Ibgh7y8Vp47LBuAsf5Xhi1SvDss="


def test_v1_ignores_signature_param_and_method_matters() -> None:
    with_sig = {**V1_PARAMS, "Signature": "whatever"}
    assert signing.v1_string_to_sign("GET", with_sig) == V1_STS
    post = signing.v1_string_to_sign("post", V1_PARAMS)
    assert post.startswith("POST&%2F&") and post[4:] == V1_STS[3:]
    assert signing.v1_sign("testAccessKeySecret", post) != "Ibgh7y8Vp47LBuAsf5Xhi1SvDss="


def test_v1_empty_values_are_signed() -> None:
    q = signing.v1_canonical_query({"SignatureType": "", "B": "2", "A": "1"})
    assert q == "A=1&B=2&SignatureType="


def test_v1_wrong_secret_differs() -> None:
    sts = signing.v1_string_to_sign("GET", V1_PARAMS)
    assert signing.v1_sign("otherSecret", sts) != signing.v1_sign("testAccessKeySecret", sts)


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("a b", "a%20b"),
        ("*", "%2A"),
        ("~", "~"),
        ("AZaz09-_.~", "AZaz09-_.~"),
        ("/", "%2F"),
        ("+", "%2B"),
        (",", "%2C"),
        (":", "%3A"),
        ("=&", "%3D%26"),
        ("é", "%C3%A9"),
        ("视频", "%E8%A7%86%E9%A2%91"),
    ],
)
def test_percent_encode(raw: str, encoded: str) -> None:
    assert signing.percent_encode(raw) == encoded


def test_percent_encode_never_plus_and_upper_hex() -> None:
    out = signing.percent_encode("a b\n\x7f")
    assert "+" not in out and out == "a%20b%0A%7F"


# ---------------------------------------------------------------------------------------------- V3
V3_HEADERS = {
    "host": "vod.cn-shanghai.aliyuncs.com",
    "x-acs-action": "ListAIJob",
    "x-acs-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "x-acs-date": "2024-01-01T00:00:00Z",
    "x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
    "x-acs-version": "2017-03-21",
}
V3_SIGNED = "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"
V3_CREQ = "\n".join(
    [
        "POST",
        "/",
        "JobIds=jobid1%2Cjobid2",
        *(f"{k}:{v}" for k, v in V3_HEADERS.items()),
        "",
        V3_SIGNED,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ]
)
V3_SIG = "d5e830a4be8b89daaeda34a59b4b3808745a41708d7894a012c0498100fe51ab"


def _headers(d: dict[str, str]) -> dict[str, list[str]]:
    return {k: [v] for k, v in d.items()}


def _creq(headers: dict[str, str], signed: list[str], query: list[tuple[str, str]] | None = None) -> str:
    return signing.v3_canonical_request(
        "POST", query or [("JobIds", "jobid1,jobid2")], _headers(headers), signed, signing.EMPTY_SHA256
    )


def test_v3_vector() -> None:
    creq = _creq(V3_HEADERS, list(V3_HEADERS))
    assert creq == V3_CREQ
    assert hashlib.sha256(creq.encode()).hexdigest() == (
        "57923e519405995b78d9f191b154b07a79236e2cab02b036ac2a6b69bb56e082"
    )
    sts = signing.v3_string_to_sign(creq)
    assert sts == "ACS3-HMAC-SHA256\n57923e519405995b78d9f191b154b07a79236e2cab02b036ac2a6b69bb56e082"
    assert signing.v3_sign("testAccessKeySecret", sts) == V3_SIG
    assert signing.signatures_equal(signing.v3_sign("testAccessKeySecret", sts), V3_SIG)
    assert not signing.signatures_equal(signing.v3_sign("testAccessKeySecret&", sts), V3_SIG)


def test_v3_empty_payload_hash_constant() -> None:
    assert signing.EMPTY_SHA256 == V3_HEADERS["x-acs-content-sha256"]


def test_v3_uses_exactly_the_signed_headers() -> None:
    signed = list(V3_HEADERS)
    base = _creq(V3_HEADERS, signed)
    # Extra headers that are not listed in SignedHeaders change nothing.
    extra = {**V3_HEADERS, "user-agent": "AlibabaCloud (Linux) Python/3.11", "accept": "application/json"}
    assert _creq(extra, signed) == base
    # A changed signed header changes the canonical request and therefore the signature.
    changed = {**V3_HEADERS, "x-acs-action": "GetVideoInfo"}
    assert _creq(changed, signed) != base
    # Signing more headers (the Python Tea util signs accept and user-agent) includes them, sorted.
    more = _creq(extra, [*signed, "user-agent", "accept"])
    lines = more.split("\n")
    assert lines[3] == "accept:application/json"
    assert lines[-2] == "accept;host;user-agent;" + V3_SIGNED.removeprefix("host;")
    assert "user-agent:AlibabaCloud (Linux) Python/3.11" in lines
    # Order of the SignedHeaders list does not matter.
    assert _creq(V3_HEADERS, list(reversed(signed))) == base


def test_v3_header_values_trimmed_and_multi_values_joined() -> None:
    headers = {k: [v] for k, v in V3_HEADERS.items()}
    headers["host"] = ["  vod.cn-shanghai.aliyuncs.com  "]
    assert signing.v3_canonical_request(
        "POST", [("JobIds", "jobid1,jobid2")], headers, list(V3_HEADERS), signing.EMPTY_SHA256
    ) == V3_CREQ
    headers["x-acs-multi"] = ["b", "a"]
    creq = signing.v3_canonical_request("POST", [], headers, ["x-acs-multi"], signing.EMPTY_SHA256)
    assert creq.split("\n")[3] == "x-acs-multi:a,b"


def test_v3_canonical_query() -> None:
    q = signing.v3_canonical_query([("b", "x y"), ("a", "1*~"), ("Empty", "")])
    assert q == "Empty=&a=1%2A~&b=x%20y"
    assert signing.v3_canonical_query([]) == ""


def test_parse_v3_authorization_good() -> None:
    auth = signing.parse_v3_authorization(
        f"ACS3-HMAC-SHA256 Credential=testAccessKeyId,SignedHeaders={V3_SIGNED},Signature={V3_SIG}"
    )
    assert auth is not None
    assert auth.algorithm == "ACS3-HMAC-SHA256"
    assert auth.access_key_id == "testAccessKeyId"
    assert auth.signed_headers == tuple(V3_SIGNED.split(";"))
    assert auth.signature == V3_SIG


def test_parse_v3_authorization_tolerates_spaces_and_case() -> None:
    auth = signing.parse_v3_authorization(
        "ACS3-HMAC-SHA256 Credential=AK1, SignedHeaders=Host;X-Acs-Date , Signature=abc"
    )
    assert auth is not None
    assert auth.access_key_id == "AK1" and auth.signed_headers == ("host", "x-acs-date") and auth.signature == "abc"


@pytest.mark.parametrize(
    "header",
    [
        "",
        "ACS3-HMAC-SHA256",
        "ACS3-HMAC-SHA256 ",
        "acs AK:signature",
        "HMAC-SHA256 Credential=a,SignedHeaders=host,Signature=x",
        "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host",
        "ACS3-HMAC-SHA256 Credential=a,Signature=x",
        "ACS3-HMAC-SHA256 SignedHeaders=host,Signature=x",
        "ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=x",
        "ACS3-HMAC-SHA256 Credential=a,SignedHeaders,Signature=x",
        "ACS3-HMAC-SHA256 Credential=a;SignedHeaders=host;Signature=x",
    ],
)
def test_parse_v3_authorization_malformed(header: str) -> None:
    assert signing.parse_v3_authorization(header) is None


# ---------------------------------------------------------------------------------------------- callbacks
def test_callback_signature_vector() -> None:
    sig = vod_signature("https://www.example.com/your/callback", 1519375990, "test123")
    assert sig == "c72b60894140fa98920f1279219b7ed4"
    assert vod_signature("https://www.example.com/your/callback", 1519375991, "test123") != sig
