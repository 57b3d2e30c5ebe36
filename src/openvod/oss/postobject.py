"""PostObject: the browser form upload (``multipart/form-data`` POST to the bucket).

The form carries ``key``, ``OSSAccessKeyId``, ``policy`` (base64 JSON with ``expiration`` and
``conditions``), ``Signature`` (base64 HMAC-SHA1 of the policy text) and ``x-oss-security-token``,
then the ``file`` field last, as OSS requires. Every field before the file is checked before a byte
of the file is stored; the file itself is streamed to a temporary object with its size limit.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from openvod.oss import auth
from openvod.oss import errors as E
from openvod.oss.errors import OssError
from openvod.oss.messages import OssRequest, OssResponse, _etag, _xml
from openvod.oss.store import Incomplete, TooLarge, stream_to_file
from openvod.util import parse_utc_iso

if TYPE_CHECKING:
    from openvod.oss.gateway import OssGateway

MAX_FIELD = 64 * 1024
MAX_HEADER = 16 * 1024


def _malformed(why: str) -> OssError:
    return OssError(400, "MalformedPOSTRequest", f"The body of your POST request is not well-formed "
                    f"multipart/form-data: {why}.")


class FormReader:
    """A streaming multipart/form-data reader over body chunks."""

    def __init__(self, chunks: Iterator[bytes], boundary: bytes):
        self.it = chunks
        self.buf = b""
        self.delim = b"--" + boundary

    def _fill(self) -> bool:
        for c in self.it:
            self.buf += c
            return True
        return False

    def read_until(self, token: bytes, limit: int) -> bytes:
        while True:
            i = self.buf.find(token)
            if i >= 0:
                out, self.buf = self.buf[:i], self.buf[i + len(token):]
                return out
            if len(self.buf) > limit + len(token):
                raise _malformed("a field is too long")
            if not self._fill():
                raise _malformed("unexpected end of body")

    def stream_until(self, token: bytes) -> Iterator[bytes]:
        keep = len(token) - 1
        while True:
            i = self.buf.find(token)
            if i >= 0:
                if i:
                    yield self.buf[:i]
                self.buf = self.buf[i + len(token):]
                return
            if len(self.buf) > keep:
                out, self.buf = self.buf[:-keep], self.buf[-keep:]
                yield out
            if not self._fill():
                raise _malformed("the file field is not terminated")

    def at_end(self) -> bool:
        """After a part: True at the closing ``--``, else consume the CRLF before the next part."""
        while len(self.buf) < 2:
            if not self._fill():
                return True
        if self.buf.startswith(b"--"):
            return True
        if self.buf.startswith(b"\r\n"):
            self.buf = self.buf[2:]
            return False
        raise _malformed("bad part separator")


def _disposition(headers: bytes) -> tuple[str, str | None, str]:
    name, filename, ctype = "", None, ""
    for line in headers.decode("utf-8", "replace").split("\r\n"):
        k, _, v = line.partition(":")
        if k.strip().lower() == "content-disposition":
            for item in v.split(";")[1:]:
                ik, _, iv = item.strip().partition("=")
                iv = iv.strip().strip('"')
                if ik.lower() == "name":
                    name = iv
                elif ik.lower() == "filename":
                    filename = iv
        elif k.strip().lower() == "content-type":
            ctype = v.strip()
    return name, filename, ctype


def _boundary(ctype: str) -> bytes:
    for item in ctype.split(";")[1:]:
        k, _, v = item.strip().partition("=")
        if k.lower() == "boundary" and v:
            return v.strip('"').encode("latin-1")
    raise _malformed("no boundary")


def _integer(x: Any) -> bool:
    """A JSON integer, or a string of decimal digits (both are seen in hand-written policies)."""
    if isinstance(x, str):
        return x.isdigit() and x.isascii()
    return isinstance(x, int) and not isinstance(x, bool)


def _check_policy(policy: dict[str, Any], fields: dict[str, str], bucket: str, key: str) -> tuple[int, int]:
    """Check expiration and conditions; returns the content-length-range (min, max)."""
    exp = policy.get("expiration")
    try:
        if not isinstance(exp, str) or parse_utc_iso(exp) < time.time():
            raise E.access_denied("Invalid according to Policy: Policy expired.")
    except ValueError:
        raise E.access_denied("Invalid according to Policy: bad expiration.") from None
    lo, hi = 0, 2**63
    values = {**{k.lower(): v for k, v in fields.items()}, "bucket": bucket, "key": key}
    conditions = policy.get("conditions", [])
    if not isinstance(conditions, list):
        raise E.invalid_argument("Invalid Policy: conditions must be a JSON array.", "policy")
    for cond in conditions:
        if isinstance(cond, dict):
            for k, v in cond.items():
                if values.get(k.lower(), "") != str(v):
                    raise E.access_denied(f"Invalid according to Policy: Policy Condition failed: {k} = {v}.")
        elif isinstance(cond, list) and len(cond) == 3:
            op, a, b = cond
            op = str(op).lower()
            if op == "content-length-range":
                if not all(_integer(x) for x in (a, b)):
                    raise E.invalid_argument("Invalid Policy: content-length-range needs two integers.", "policy")
                lo, hi = int(a), int(b)
                continue
            if op not in ("eq", "starts-with", "in", "not-in"):  # a condition nobody would check: refuse
                raise E.invalid_argument(f"Invalid Policy: unknown condition operator {op!r}.", "policy")
            if op in ("in", "not-in") and not isinstance(b, list):
                raise E.invalid_argument(f"Invalid Policy: {op} needs a list of values.", "policy")
            have = values.get(str(a).lstrip("$").lower(), "")
            if ((op == "eq" and have != str(b)) or (op == "starts-with" and not have.startswith(str(b)))
                    or (op == "in" and have not in [str(x) for x in b])
                    or (op == "not-in" and have in [str(x) for x in b])):
                raise E.access_denied(f"Invalid according to Policy: Policy Condition failed: {cond}.")
        else:
            raise E.invalid_argument("Invalid Policy: unknown condition.", "policy")
    return lo, hi


def post_object(gw: OssGateway, req: OssRequest) -> OssResponse:
    reader = FormReader(req.chunks(), _boundary(req.header("content-type")))
    reader.read_until(reader.delim + b"\r\n", MAX_HEADER)
    fields: dict[str, str] = {}
    while True:
        name, filename, ctype = _disposition(reader.read_until(b"\r\n\r\n", MAX_HEADER))
        if name.lower() == "file":
            break
        fields[name] = reader.read_until(b"\r\n" + reader.delim, MAX_FIELD).decode("utf-8", "replace")
        if reader.at_end():
            raise OssError(400, "InvalidArgument", "The form has no file field.")
    low = {k.lower(): v for k, v in fields.items()}
    key = low.get("key", "")
    if not key:
        raise OssError(400, "InvalidArgument", "The form field key is required.", ArgumentName="key")
    key = key.replace("${filename}", filename or "")
    ak, sig, policy_b64 = low.get("ossaccesskeyid", ""), low.get("signature", ""), low.get("policy", "")
    if not (ak and sig and policy_b64):
        raise E.access_denied("Anonymous PostObject is not allowed: OSSAccessKeyId, policy and Signature needed.")
    cred = gw.uploads.credential(ak)
    if cred is None:
        raise E.invalid_access_key(ak)
    if not auth.equal(low.get("x-oss-security-token", ""), cred.token):
        raise E.invalid_token()
    if not auth.equal(auth.sign(cred.secret, policy_b64), sig):
        raise OssError(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the "
                       "signature you provided.", StringToSign=policy_b64, OSSAccessKeyId=ak)
    try:
        policy = json.loads(base64.b64decode(policy_b64, validate=True))
    except (binascii.Error, ValueError):
        raise E.invalid_argument("Invalid Policy: not base64 JSON.", "policy") from None
    if not isinstance(policy, dict):
        raise E.invalid_argument("Invalid Policy: not a JSON object.", "policy")
    lo, hi = _check_policy(policy, fields, req.bucket, key)
    if not cred.covers(req.bucket, key):
        raise E.access_denied("The upload credential gives no access to this object.")
    if cred.expires_at < time.time():
        raise E.security_token_expired()
    limit = min(hi, gw.s.max_put_bytes)
    try:
        w = stream_to_file(reader.stream_until(b"\r\n" + reader.delim), gw.tmp, limit)
    except TooLarge:
        raise E.entity_too_large(limit) from None
    except Incomplete:
        raise OssError(400, "IncompleteBody", "The request body ended early.") from None
    try:
        if w.size < lo:
            raise OssError(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size.")
        headers = {**req.headers, "content-type": [low.get("content-type") or ctype or "application/octet-stream"]}
        obj_req = replace(req, key=key, headers=headers)
        etag = _etag(w.md5)
        gw._commit(obj_req, cred, w.path, w.size, etag, w.crc64)
    finally:
        w.path.unlink(missing_ok=True)
    out = [("etag", etag), ("x-oss-hash-crc64ecma", str(w.crc64))]
    status = low.get("success_action_status", "204")
    if status == "201":
        location = f"{gw.uploads.endpoint('http://' + (req.host or 'localhost'))}/{req.bucket}/{key}"
        body = _xml("PostResponse", [("Bucket", req.bucket), ("Location", location), ("Key", key), ("ETag", etag)])
        return OssResponse(201, [("content-type", "application/xml"), *out], body)
    return OssResponse(200 if status == "200" else 204, out)
