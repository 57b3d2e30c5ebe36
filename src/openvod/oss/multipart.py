"""Multipart upload on the object endpoint: InitiateMultipartUpload, UploadPart, ListParts,
AbortMultipartUpload and CompleteMultipartUpload. :class:`MultipartOps` is a base of
:class:`openvod.oss.gateway.OssGateway`.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from typing import Any

from sqlalchemy import delete, insert, select, update

from openvod.oss import errors as E
from openvod.oss.crc64 import combine
from openvod.oss.errors import OssError
from openvod.oss.gateway_core import GatewayCore
from openvod.oss.messages import MAX_XML_BODY, OssRequest, OssResponse, _etag, _iso_ms, _xml
from openvod.oss.store import Written, concatenate
from openvod.store.tables import multipart_parts, multipart_uploads
from openvod.util import new_id, now


class MultipartOps(GatewayCore):
    """The multipart operations of the object endpoint."""

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
