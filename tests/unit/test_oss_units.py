"""Pure parts of the upload path: CRC-64 combine, OSS V1 string-to-sign against oss2's own signer, the
streaming form reader (PostObject), byte ranges and the SearchMedia Match parser."""

from __future__ import annotations

import os

import oss2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openvod.errors import InvalidParameter
from openvod.oss import auth
from openvod.oss.crc64 import Crc64, combine, crc64
from openvod.oss.errors import OssError
from openvod.oss.gateway import _parse_range
from openvod.oss.postobject import FormReader, _disposition
from openvod.services.search import parse_match


def test_crc64_matches_oss2() -> None:
    for data in (b"", b"a", b"hello world", os.urandom(100_000)):
        ref = oss2.utils.Crc64(0)
        ref.update(data)
        assert crc64(data) == ref.crc


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=3000), st.binary(max_size=3000))
def test_crc64_combine_is_crc_of_concatenation(a: bytes, b: bytes) -> None:
    assert combine(crc64(a), crc64(b), len(b)) == crc64(a + b)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=700), min_size=1, max_size=6))
def test_crc64_combine_many_parts(parts: list[bytes]) -> None:
    crc = 0
    for p in parts:
        crc = combine(crc, crc64(p), len(p))
    inc = Crc64()
    for p in parts:
        inc.update(p)
    assert crc == inc.value == crc64(b"".join(parts))


@pytest.mark.parametrize("params", [
    {},
    {"uploads": ""},
    {"uploadId": "ABC", "partNumber": "3"},
    {"uploadId": "ABC", "part-number-marker": "0", "max-parts": "1000"},
    {"acl": "", "response-content-type": "text/plain", "other": "x"},
])
def test_string_to_sign_matches_oss2(params: dict[str, str]) -> None:
    creds = oss2.StsAuth("STS.id", "secret-value", "token-value")
    req = oss2.http.Request("PUT", "http://127.0.0.1/openvod/sv/a%20b/c.mp4", params=dict(params),
                            headers={"Content-Type": "video/mp4", "x-oss-meta-Z": "1", "Content-MD5": "abc=="})
    creds._sign_request(req, "openvod", "sv/a b/c.mp4")
    headers = {k.lower(): [v] for k, v in req.headers.items()}
    parsed = auth.parse_authorization(headers["authorization"][0])
    assert parsed is not None and parsed[0] == "STS.id"
    sts = auth.string_to_sign("PUT", headers, "openvod", "sv/a b/c.mp4", list(params.items()))
    assert auth.sign("secret-value", sts) == parsed[1]
    assert auth.sign("other", sts) != parsed[1]


def test_parse_authorization() -> None:
    assert auth.parse_authorization("OSS ak:sig") == ("ak", "sig")
    for bad in ("", "OSS ak", "OSS :sig", "OSS2 AccessKeyId:x", "Bearer x"):
        assert auth.parse_authorization(bad) is None


def _form(fields: dict[str, str], file_body: bytes, boundary: str = "XyZ") -> bytes:
    out = b""
    for k, v in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
    out += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n").encode()
    return out + file_body + f"\r\n--{boundary}--\r\n".encode()


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=5000), st.integers(min_value=1, max_value=97))
def test_form_reader_any_chunking(file_body: bytes, chunk: int) -> None:
    body = _form({"key": "k/1.png", "policy": "cG9s"}, file_body)
    chunks = iter([body[i:i + chunk] for i in range(0, len(body), chunk)])
    r = FormReader(chunks, b"XyZ")
    r.read_until(r.delim + b"\r\n", 1000)
    fields = {}
    while True:
        name, filename, ctype = _disposition(r.read_until(b"\r\n\r\n", 1000))
        if name == "file":
            break
        fields[name] = r.read_until(b"\r\n" + r.delim, 1000).decode()
        assert not r.at_end()
    assert fields == {"key": "k/1.png", "policy": "cG9s"} and filename == "a.bin"
    assert b"".join(r.stream_until(b"\r\n" + r.delim)) == file_body


def test_form_reader_truncated_file() -> None:
    body = _form({"key": "k"}, b"data")[:-12]
    r = FormReader(iter([body]), b"XyZ")
    r.read_until(r.delim + b"\r\n", 1000)
    r.read_until(b"\r\n\r\n", 1000)
    r.read_until(b"\r\n" + r.delim, 1000)
    r.at_end()
    r.read_until(b"\r\n\r\n", 1000)
    with pytest.raises(OssError) as ei:
        b"".join(r.stream_until(b"\r\n" + r.delim))
    assert ei.value.code == "MalformedPOSTRequest"


def test_parse_range() -> None:
    assert _parse_range("bytes=0-9", 100) == (0, 9)
    assert _parse_range("bytes=90-", 100) == (90, 99)
    assert _parse_range("bytes=-10", 100) == (90, 99)
    assert _parse_range("bytes=95-200", 100) == (95, 99)
    for bad in ("", "bytes=200-300", "bytes=5-1", "bytes=a-b", "bytes=0-1,3-4", "items=0-1"):
        assert _parse_range(bad, 100) is None


def test_match_parser() -> None:
    conds = parse_match("Title = 'it''s' and Status in ('Normal','UploadSucc') and "
                        "CreationTime = ('2024-01-01T00:00:00Z','') and CateId = 3 and AiLabel != 'x'")
    assert [(c.field, c.op, c.values) for c in conds] == [
        ("Title", "eq", ("it's",)), ("Status", "in", ("Normal", "UploadSucc")),
        ("CreationTime", "range", ("2024-01-01T00:00:00Z", "")), ("CateId", "eq", ("3",)),
        ("AiLabel", "ne", ("x",))]
    assert parse_match("  ") == []
    for bad in ("Nope = 'x'", "Title", "Title = ", "Title = 'x' or Status = 'y'", "CateId = 'x'",
                "Title = ('a'", "CreationTime = ('a')", "Title = 'x' Status = 'y'", "Title = 'unterminated"):
        with pytest.raises(InvalidParameter):
            parse_match(bad)


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_match_quoted_values_round_trip(value: str) -> None:
    quoted = "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"
    (cond,) = parse_match(f"Title = {quoted}")
    assert cond.values == (value,)
