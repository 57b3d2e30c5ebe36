"""The object operations of the OSS-compatible endpoint, run synchronously (one request per thread).

PutObject, InitiateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload,
ListParts, HeadObject, GetObject and PostObject (browser form upload). Every request is checked
against the temporary credentials of CreateUpload*: OSS V1 signature, ``x-oss-security-token``,
expiry (an initiated multipart upload may finish after it) and scope (that one object or prefix).
Bodies are streamed to temporary files and committed to the blob store only when complete.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import secrets
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from sqlalchemy import delete, insert, select, update

from openvod.oss import auth
from openvod.oss import errors as E
from openvod.oss.crc64 import combine
from openvod.oss.errors import OssError
from openvod.oss.store import Incomplete, TooLarge, Written, concatenate, stream_to_file
from openvod.services.uploads import Credential
from openvod.storage.blobs import BlobKeyError
from openvod.store.tables import multipart_parts, multipart_uploads, oss_objects, upload_credentials
from openvod.util import new_id, now

if TYPE_CHECKING:
    from openvod.runtime import Runtime

log = logging.getLogger(__name__)

MAX_XML_BODY = 1024 * 1024
TIME_SKEW_S = 15 * 60
# After an early error, read (and drop) at most this much of the body so the client sees the answer.
DRAIN_LIMIT = 64 * 1024 * 1024


@dataclass
class OssRequest:
    """An HTTP request for the object endpoint; ``chunks`` pulls the body as it arrives."""

    method: str
    bucket: str
    key: str
    query: list[tuple[str, str]]
    headers: dict[str, list[str]]
    client_ip: str = ""
    host: str = ""
    chunks: Callable[[], Iterator[bytes]] = field(default=lambda: iter(()))

    def header(self, name: str) -> str:
        v = self.headers.get(name)
        return v[0] if v else ""

    def q(self, name: str) -> str | None:
        for k, v in self.query:
            if k == name:
                return v
        return None

    def body(self, limit: int) -> bytes:
        out, size = [], 0
        for c in self.chunks():
            size += len(c)
            if size > limit:
                raise OssError(400, "MalformedXML", "The XML you provided was not well-formed.")
            out.append(c)
        return b"".join(out)

    def drain(self) -> None:
        size = 0
        try:
            for c in self.chunks():
                size += len(c)
                if size > DRAIN_LIMIT:
                    return
        except Exception:  # the client went away: nothing to drain
            return


@dataclass
class OssResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    file: Path | None = None
    offset: int = 0
    length: int = 0


def _request_id() -> str:
    return secrets.token_hex(12).upper()


def _etag(md5_hex: str) -> str:
    return f'"{md5_hex.upper()}"'


def _xml(root: str, fields: list[tuple[str, Any]]) -> bytes:
    def render(items: list[tuple[str, Any]]) -> str:
        out = []
        for k, v in items:
            if isinstance(v, list):
                out.append(f"<{k}>{render(v)}</{k}>")
            else:
                out.append(f"<{k}>{escape(str(v))}</{k}>")
        return "".join(out)

    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{root}>{render(fields)}</{root}>'.encode()


def _iso_ms(ts: float) -> str:
    # oss2 parses exactly this form (milliseconds always .000, as OSS itself sends).
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(ts))


class OssGateway:
    """Runs one object request against the credentials, the part store and the blob store."""

    def __init__(self, rt: Runtime):
        self.rt = rt
        self.s = rt.settings.upload
        self.uploads = rt.uploads
        self.parts = rt.uploads.parts
        self.tmp = rt.settings.data_dir / "oss-tmp"
        self._next_sweep = 0.0

    # ------------------------------------------------------------------ housekeeping
    def sweep(self, at: float | None = None) -> int:
        """Abort multipart uploads left open past ``upload.multipart_grace_s`` (their parts go), drop
        credentials expired longer than that, and temporary files a crashed request left behind.
        Returns how many uploads were aborted."""
        t = at if at is not None else now()
        cutoff = t - self.s.multipart_grace_s
        with self.rt.engine.begin() as conn:
            stale = [r.id for r in conn.execute(select(multipart_uploads.c.id).where(
                multipart_uploads.c.status == "open", multipart_uploads.c.created_at < cutoff))]
            if stale:
                conn.execute(update(multipart_uploads).where(multipart_uploads.c.id.in_(stale))
                             .values(status="aborted", completed_at=t))
                conn.execute(delete(multipart_parts).where(multipart_parts.c.upload_id.in_(stale)))
            conn.execute(delete(upload_credentials).where(upload_credentials.c.expires_at < cutoff))
        for upload_id in stale:
            self.parts.remove(upload_id)
        if self.tmp.is_dir():
            for f in self.tmp.glob(".up-*"):
                try:
                    if f.stat().st_mtime < t - 86400:
                        f.unlink()
                except OSError:
                    pass
        return len(stale)

    def _maybe_sweep(self) -> None:
        t = time.monotonic()
        if t >= self._next_sweep:
            self._next_sweep = t + 3600
            try:
                self.sweep()
            except Exception:  # housekeeping must never fail an upload
                log.warning("upload sweep failed", exc_info=True)

    # ------------------------------------------------------------------ entry
    def handle(self, req: OssRequest) -> OssResponse:
        rid = _request_id()
        try:
            resp = self._dispatch(req)
        except OssError as exc:
            if req.method in ("PUT", "POST"):
                req.drain()
            if exc.status >= 500 or exc.code not in ("NoSuchKey",):
                log.info("oss error", extra={"code": exc.code, "method": req.method, "key": req.key})
            body = exc.xml(rid, req.host or "openvod") if req.method != "HEAD" else b""
            resp = OssResponse(exc.status, [("content-type", "application/xml"), ("x-oss-ec", "0000-00000000")],
                               body)
        except Exception:
            log.exception("object endpoint failure", extra={"method": req.method, "key": req.key})
            err = OssError(500, "InternalError", "We encountered an internal error. Please try again.")
            resp = OssResponse(500, [("content-type", "application/xml")], err.xml(rid, req.host or "openvod"))
        resp.headers.append(("x-oss-request-id", rid))  # (uvicorn adds Date and Server)
        return resp

    def _dispatch(self, req: OssRequest) -> OssResponse:
        if req.bucket != self.s.bucket:
            raise OssError(404, "NoSuchBucket", "The specified bucket does not exist.", BucketName=req.bucket)
        m, key = req.method, req.key
        if not key:
            if m == "POST" and req.header("content-type").lower().startswith("multipart/form-data"):
                from openvod.oss.postobject import post_object

                return post_object(self, req)
            raise OssError(403, "AccessDenied", "openvod's upload credentials give no access to bucket operations.")
        upload_id = req.q("uploadId")
        if m == "PUT" and upload_id is not None and req.q("partNumber") is not None:
            return self.upload_part(req, upload_id)
        if m == "PUT" and req.header("x-oss-copy-source"):
            # What a VOD upload token (STS policy: put and multipart only) gets for it from OSS, and not a
            # 5xx: the request is refused, nothing is broken (docs/security.md, 0 x 5xx under fuzzing).
            raise E.access_denied("openvod's upload credentials allow no CopyObject.")
        if m == "PUT" and not [k for k, _ in req.query if k in auth.SUBRESOURCES and k != "security-token"]:
            return self.put_object(req)
        if m == "POST" and req.q("uploads") is not None:
            return self.initiate(req)
        if m == "POST" and upload_id is not None:
            return self.complete(req, upload_id)
        if m == "DELETE" and upload_id is not None:
            return self.abort(req, upload_id)
        if m == "GET" and upload_id is not None:
            return self.list_parts(req, upload_id)
        if m in ("GET", "HEAD") and not [k for k, _ in req.query if k in ("acl", "tagging", "symlink", "objectMeta")]:
            return self.get_object(req, head=m == "HEAD")
        raise E.access_denied("openvod's upload credentials allow only PutObject, multipart upload, PostObject and "
                              "reading the object back.")

    # ------------------------------------------------------------------ authentication
    def authenticate(self, req: OssRequest, upload_id: str | None = None) -> Credential:
        presigned = req.q("OSSAccessKeyId") is not None and req.q("Signature") is not None
        if presigned:
            ak, sig = req.q("OSSAccessKeyId") or "", req.q("Signature") or ""
            expires = req.q("Expires") or ""
            if not expires.isdigit() or int(expires) < time.time():
                raise OssError(403, "AccessDenied", "Request has expired.", Expires=expires)
            date: str | None = expires
            token = req.q("security-token") or ""
        else:
            parsed = auth.parse_authorization(req.header("authorization"))
            if parsed is None:
                raise E.access_denied("You have no right to access this object: the request is not signed.")
            ak, sig = parsed
            date = None
            token = req.header("x-oss-security-token")
            self._check_date(req)
        cred = self.uploads.credential(ak)
        if cred is None:
            raise E.invalid_access_key(ak)
        if not token or not auth.equal(token, cred.token):
            raise E.invalid_token()
        query = [(k, v) for k, v in req.query if k not in ("OSSAccessKeyId", "Signature", "Expires")]
        sts = auth.string_to_sign(req.method, req.headers, req.bucket, req.key, query, date)
        if not auth.equal(auth.sign(cred.secret, sts), sig):
            raise OssError(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the "
                           "signature you provided. Check your key and signing method.",
                           StringToSign=sts, SignatureProvided=sig, OSSAccessKeyId=ak)
        if not cred.covers(req.bucket, req.key):
            raise E.access_denied("The upload credential gives no access to this object.")
        if cred.expires_at < time.time() and not self._may_finish(cred, upload_id):
            raise E.security_token_expired()
        return cred

    @staticmethod
    def _check_date(req: OssRequest) -> None:
        raw = req.header("x-oss-date") or req.header("date")
        try:
            ts = parsedate_to_datetime(raw).timestamp()
        except (TypeError, ValueError, IndexError):
            raise E.access_denied("The request has no valid Date header.") from None
        if abs(ts - time.time()) > TIME_SKEW_S:
            raise OssError(403, "RequestTimeTooSkewed",
                           "The difference between the request time and the current time is too large.")

    def _may_finish(self, cred: Credential, upload_id: str | None) -> bool:
        """An expired credential may still finish a multipart upload that was initiated while valid."""
        if not upload_id:
            return False
        mp = self._upload(upload_id)
        return bool(mp and mp["media_id"] == cred.media_id and mp["status"] == "open"
                    and mp["created_at"] <= cred.expires_at and mp["created_at"] + self.s.multipart_grace_s > now())

    def _upload(self, upload_id: str) -> dict[str, Any] | None:
        with self.rt.engine.connect() as conn:
            r = conn.execute(select(multipart_uploads).where(multipart_uploads.c.id == upload_id)).mappings().first()
        return dict(r) if r else None

    def _open_upload(self, req: OssRequest, cred: Credential, upload_id: str) -> dict[str, Any]:
        mp = self._upload(upload_id)
        if (mp is None or mp["status"] != "open" or mp["bucket"] != req.bucket or mp["object_key"] != req.key
                or mp["account_id"] != cred.account_id):
            raise E.no_such_upload(upload_id)
        return mp

    # ------------------------------------------------------------------ bodies
    def _receive(self, req: OssRequest, limit: int, dest: Path | None = None) -> Written:
        declared = req.header("content-length")
        expect = int(declared) if declared.isdigit() else None
        if expect is not None and expect > limit:
            raise E.entity_too_large(limit)
        try:
            w = stream_to_file(req.chunks(), dest or self.tmp, limit, expect)
        except TooLarge:
            raise E.entity_too_large(limit) from None
        except Incomplete:
            raise OssError(400, "IncompleteBody", "The request body is shorter than its Content-Length.") from None
        cmd5 = req.header("content-md5")
        if cmd5:
            try:
                ok = base64.b64decode(cmd5, validate=True) == bytes.fromhex(w.md5)
            except (binascii.Error, ValueError):
                ok = False
            if not ok:
                w.path.unlink(missing_ok=True)
                raise OssError(400, "InvalidDigest", "The Content-MD5 you specified is not valid.")
        return w

    def _blob_key(self, cred: Credential, key: str) -> str:
        up = self.uploads.row_by_media(cred.media_id)
        if up is None:
            raise E.access_denied("The upload this credential belongs to no longer exists.")
        if key == up["object_key"]:
            return str(up["blob_key"])
        rel = key[len(up["object_prefix"]):]
        blob_key = up["blob_key"].rsplit("/", 1)[0] + "/" + rel
        try:
            self.rt.blobs.path(blob_key)
        except BlobKeyError:
            raise E.invalid_argument("The object name is not valid here.", "key", key) from None
        return blob_key

    def _commit(self, req: OssRequest, cred: Credential, tmp: Path, size: int, etag: str, crc: int) -> None:
        blob_key = self._blob_key(cred, req.key)
        self.rt.blobs.adopt(blob_key, tmp)
        t = now()
        with self.rt.engine.begin() as conn:
            conn.execute(delete(oss_objects).where(oss_objects.c.bucket == req.bucket,
                                                   oss_objects.c.object_key == req.key))
            conn.execute(insert(oss_objects).values(
                bucket=req.bucket, object_key=req.key, account_id=cred.account_id, media_id=cred.media_id,
                blob_key=blob_key, size=size, etag=etag, crc64=str(crc),
                content_type=req.header("content-type")[:128], created_at=t))
        self.uploads.committed(cred, req.key, blob_key, size, req.client_ip)

    # ------------------------------------------------------------------ PutObject
    def put_object(self, req: OssRequest) -> OssResponse:
        cred = self.authenticate(req)
        w = self._receive(req, self.s.max_put_bytes)
        etag = _etag(w.md5)
        try:
            self._commit(req, cred, w.path, w.size, etag, w.crc64)
        finally:
            w.path.unlink(missing_ok=True)
        return OssResponse(200, [("etag", etag), ("x-oss-hash-crc64ecma", str(w.crc64)),
                                 ("content-md5", base64.b64encode(bytes.fromhex(w.md5)).decode())])

    # ------------------------------------------------------------------ multipart
    def initiate(self, req: OssRequest) -> OssResponse:
        cred = self.authenticate(req)
        self._maybe_sweep()
        upload_id = new_id().upper()
        with self.rt.engine.begin() as conn:
            conn.execute(insert(multipart_uploads).values(
                id=upload_id, bucket=req.bucket, object_key=req.key, account_id=cred.account_id,
                media_id=cred.media_id, access_key_id=cred.access_key_id,
                content_type=req.header("content-type")[:128], status="open", created_at=now()))
        self.parts.dir(upload_id).mkdir(parents=True, exist_ok=True)
        body = _xml("InitiateMultipartUploadResult", [("Bucket", req.bucket), ("Key", req.key),
                                                      ("UploadId", upload_id)])
        return OssResponse(200, [("content-type", "application/xml")], body)

    def upload_part(self, req: OssRequest, upload_id: str) -> OssResponse:
        cred = self.authenticate(req, upload_id)
        raw = req.q("partNumber") or ""
        if not raw.isdigit() or not 1 <= int(raw) <= self.s.max_parts:
            raise E.invalid_argument(f"Part number must be an integer between 1 and {self.s.max_parts}.",
                                     "partNumber", raw)
        number = int(raw)
        self._open_upload(req, cred, upload_id)
        declared = req.header("content-length")
        if declared.isdigit() and int(declared) > self.s.max_part_bytes:
            raise E.entity_too_large(self.s.max_part_bytes)
        w = self._receive_part(req, upload_id)
        etag = _etag(w.md5)
        try:
            self.parts.put(upload_id, number, w)
        finally:
            w.path.unlink(missing_ok=True)
        values = dict(size=w.size, etag=etag, md5=w.md5, crc64=str(w.crc64), created_at=now())
        with self.rt.engine.begin() as conn:
            conn.execute(delete(multipart_parts).where(multipart_parts.c.upload_id == upload_id,
                                                       multipart_parts.c.part_number == number))
            conn.execute(insert(multipart_parts).values(upload_id=upload_id, part_number=number, **values))
        self.uploads.multipart_progress(cred.media_id, req.client_ip)
        return OssResponse(200, [("etag", etag), ("x-oss-hash-crc64ecma", str(w.crc64))])

    def _receive_part(self, req: OssRequest, upload_id: str) -> Written:
        return self._receive(req, self.s.max_part_bytes, self.parts.dir(upload_id))

    def _part_rows(self, upload_id: str) -> dict[int, dict[str, Any]]:
        with self.rt.engine.connect() as conn:
            rows = conn.execute(select(multipart_parts).where(multipart_parts.c.upload_id == upload_id)
                                .order_by(multipart_parts.c.part_number)).mappings().all()
        return {int(r["part_number"]): dict(r) for r in rows}

    def list_parts(self, req: OssRequest, upload_id: str) -> OssResponse:
        cred = self.authenticate(req, upload_id)
        self._open_upload(req, cred, upload_id)
        marker_raw = req.q("part-number-marker") or "0"
        max_raw = req.q("max-parts") or "1000"
        if not marker_raw.isdigit() or not max_raw.isdigit() or not 0 < int(max_raw) <= 1000:
            raise E.invalid_argument("part-number-marker and max-parts must be integers (max-parts 1-1000).")
        marker, max_parts = int(marker_raw), int(max_raw)
        rows = [r for n, r in self._part_rows(upload_id).items() if n > marker]
        page, truncated = rows[:max_parts], len(rows) > max_parts
        fields: list[tuple[str, Any]] = [
            ("Bucket", req.bucket), ("Key", req.key), ("UploadId", upload_id),
            ("PartNumberMarker", marker), ("NextPartNumberMarker", page[-1]["part_number"] if page else marker),
            ("MaxParts", max_parts), ("IsTruncated", "true" if truncated else "false"),
        ]
        for r in page:
            fields.append(("Part", [("PartNumber", r["part_number"]), ("LastModified", _iso_ms(r["created_at"])),
                                    ("ETag", r["etag"]), ("HashCrc64ecma", r["crc64"]), ("Size", r["size"])]))
        return OssResponse(200, [("content-type", "application/xml")], _xml("ListPartsResult", fields))

    def abort(self, req: OssRequest, upload_id: str) -> OssResponse:
        cred = self.authenticate(req, upload_id)
        self._open_upload(req, cred, upload_id)
        with self.rt.engine.begin() as conn:
            n = conn.execute(update(multipart_uploads).where(
                multipart_uploads.c.id == upload_id, multipart_uploads.c.status == "open"
            ).values(status="aborted", completed_at=now())).rowcount
            conn.execute(delete(multipart_parts).where(multipart_parts.c.upload_id == upload_id))
        if not n:
            raise E.no_such_upload(upload_id)
        self.parts.remove(upload_id)
        self.uploads.multipart_progress(cred.media_id, req.client_ip)
        return OssResponse(204, [])

    def _requested_parts(self, req: OssRequest, stored: dict[int, dict[str, Any]]) -> list[tuple[int, str]]:
        if req.header("x-oss-complete-all").lower() == "yes":
            return [(n, r["etag"]) for n, r in sorted(stored.items())]
        body = req.body(MAX_XML_BODY)
        try:
            root = ET.fromstring(body)
            wanted = [(int((p.findtext("PartNumber") or "").strip()), (p.findtext("ETag") or "").strip())
                      for p in root.findall("Part")]
        except (ET.ParseError, ValueError):
            raise OssError(400, "MalformedXML", "The XML you provided was not well-formed.") from None
        if not wanted:
            raise OssError(400, "MalformedXML", "The XML you provided was not well-formed: no Part.")
        return wanted

    def complete(self, req: OssRequest, upload_id: str) -> OssResponse:
        cred = self.authenticate(req, upload_id)
        self._open_upload(req, cred, upload_id)
        stored = self._part_rows(upload_id)
        wanted = self._requested_parts(req, stored)
        numbers = [n for n, _ in wanted]
        if numbers != sorted(set(numbers)):
            raise OssError(400, "InvalidPartOrder", "The list of parts was not in ascending order.")
        chosen = []
        for i, (n, etag) in enumerate(wanted):
            r = stored.get(n)
            if r is None or etag.strip('"').upper() != r["etag"].strip('"').upper():
                raise OssError(400, "InvalidPart", "One or more of the specified parts could not be found or the "
                               "specified entity tag might not have matched the part's entity tag.",
                               PartNumber=str(n), ETag=etag)
            if i < len(wanted) - 1 and r["size"] < self.s.min_part_bytes:
                raise OssError(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed "
                               "size.", PartNumber=str(n), MinSizeAllowed=str(self.s.min_part_bytes))
            chosen.append(r)
        total = sum(int(r["size"]) for r in chosen)
        if total > self.s.max_object_bytes:
            raise E.entity_too_large(self.s.max_object_bytes)
        with self.rt.engine.begin() as conn:
            n_claimed = conn.execute(update(multipart_uploads).where(
                multipart_uploads.c.id == upload_id, multipart_uploads.c.status == "open"
            ).values(status="completing")).rowcount
        if not n_claimed:
            raise E.no_such_upload(upload_id)
        try:
            tmp = concatenate([self.parts.path(upload_id, int(r["part_number"])) for r in chosen], self.tmp)
            crc = 0
            for r in chosen:
                crc = combine(crc, int(r["crc64"]), int(r["size"]))
            etag = '"' + hashlib.md5(b"".join(bytes.fromhex(r["md5"]) for r in chosen)).hexdigest().upper() \
                + f'-{len(chosen)}"'
            try:
                self._commit(req, cred, tmp, total, etag, crc)
            finally:
                tmp.unlink(missing_ok=True)
        except BaseException:
            with self.rt.engine.begin() as conn:
                conn.execute(update(multipart_uploads).where(multipart_uploads.c.id == upload_id)
                             .values(status="open"))
            raise
        with self.rt.engine.begin() as conn:
            conn.execute(update(multipart_uploads).where(multipart_uploads.c.id == upload_id)
                         .values(status="completed", completed_at=now()))
            conn.execute(delete(multipart_parts).where(multipart_parts.c.upload_id == upload_id))
        self.parts.remove(upload_id)
        location = f"{self.uploads.endpoint('http://' + (req.host or 'localhost'))}/{req.bucket}/{req.key}"
        body = _xml("CompleteMultipartUploadResult", [("Location", location), ("Bucket", req.bucket),
                                                       ("Key", req.key), ("ETag", etag)])
        return OssResponse(200, [("content-type", "application/xml"), ("etag", etag),
                                 ("x-oss-hash-crc64ecma", str(crc))], body)

    # ------------------------------------------------------------------ GetObject / HeadObject
    def get_object(self, req: OssRequest, head: bool) -> OssResponse:
        cred = self.authenticate(req)
        with self.rt.engine.connect() as conn:
            obj = conn.execute(select(oss_objects).where(
                oss_objects.c.bucket == req.bucket, oss_objects.c.object_key == req.key)).mappings().first()
        if obj is None or obj["account_id"] != cred.account_id:
            raise E.no_such_key(req.key)
        path = self.rt.blobs.path(obj["blob_key"])
        if not path.is_file():
            raise E.no_such_key(req.key)
        size = path.stat().st_size
        headers = [
            ("content-type", obj["content_type"] or "application/octet-stream"), ("etag", obj["etag"]),
            ("last-modified", formatdate(obj["created_at"], usegmt=True)), ("accept-ranges", "bytes"),
            ("x-oss-object-type", "Multipart" if "-" in obj["etag"] else "Normal"),
            ("x-oss-storage-class", "Standard"), ("x-oss-hash-crc64ecma", obj["crc64"]),
        ]
        start, length, status = 0, size, 200
        rng = _parse_range(req.header("range"), size)
        if rng is not None:
            start, end = rng
            length, status = end - start + 1, 206
            headers.append(("content-range", f"bytes {start}-{end}/{size}"))
            headers = [h for h in headers if h[0] != "x-oss-hash-crc64ecma"]
        headers.append(("content-length", str(length)))
        if head:
            return OssResponse(status, headers)
        return OssResponse(status, headers, file=path, offset=start, length=length)


def _parse_range(value: str, size: int) -> tuple[int, int] | None:
    """A single ``bytes=a-b`` range clipped to the object, or None (whole object, as OSS does for bad ones)."""
    if not value.startswith("bytes=") or "," in value or size == 0:
        return None
    a, _, b = value[6:].strip().partition("-")
    try:
        if a == "":
            n = int(b)
            return (max(0, size - n), size - 1) if n > 0 else None
        start = int(a)
        end = int(b) if b else size - 1
    except ValueError:
        return None
    if start >= size or end < start:
        return None
    return start, min(end, size - 1)


def client_ip(scope: dict[str, Any]) -> str:
    c = scope.get("client")
    return str(c[0]) if c else ""

