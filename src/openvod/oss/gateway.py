"""The object operations of the OSS-compatible endpoint, run synchronously (one request per thread).

PutObject, InitiateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload,
ListParts, HeadObject, GetObject and PostObject (browser form upload). Every request is checked
against the temporary credentials of CreateUpload*: OSS V1 signature, ``x-oss-security-token``,
expiry (an initiated multipart upload may finish after it) and scope (that one object or prefix).
Bodies are streamed to temporary files and committed to the blob store only when complete.

The requests are routed here (:meth:`OssGateway.handle`); PutObject and GetObject/HeadObject are here
too. The rest lives in :mod:`openvod.oss.messages` (request, response, XML and Range helpers, re-exported
here), :mod:`openvod.oss.gateway_core` (housekeeping, authentication, bodies, commit) and
:mod:`openvod.oss.multipart` (the multipart operations); :class:`OssGateway` extends
:class:`~openvod.oss.multipart.MultipartOps`, which extends :class:`~openvod.oss.gateway_core.GatewayCore`.
"""

from __future__ import annotations

import base64
import logging
from email.utils import formatdate

from sqlalchemy import select

from openvod.oss import auth
from openvod.oss import errors as E
from openvod.oss.errors import OssError
from openvod.oss.messages import (
    DRAIN_LIMIT,
    MAX_XML_BODY,
    TIME_SKEW_S,
    OssRequest,
    OssResponse,
    _etag,
    _iso_ms,
    _parse_range,
    _request_id,
    _xml,
    client_ip,
)
from openvod.oss.multipart import MultipartOps
from openvod.store.tables import oss_objects

__all__ = ["DRAIN_LIMIT", "MAX_XML_BODY", "TIME_SKEW_S", "MultipartOps", "OssGateway", "OssRequest",
           "OssResponse", "_etag", "_iso_ms", "_parse_range", "_xml", "client_ip"]

log = logging.getLogger(__name__)


class OssGateway(MultipartOps):
    """Runs one object request against the credentials, the part store and the blob store."""

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
