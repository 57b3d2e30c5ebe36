"""The shared part of the object endpoint: housekeeping, authentication against the upload credentials,
receiving bodies and committing objects. :class:`GatewayCore` is the base of
:class:`openvod.oss.multipart.MultipartOps` and so of :class:`openvod.oss.gateway.OssGateway`.
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select, update

from openvod.oss import auth
from openvod.oss import errors as E
from openvod.oss.errors import OssError
from openvod.oss.messages import TIME_SKEW_S, OssRequest
from openvod.oss.store import Incomplete, TooLarge, Written, stream_to_file
from openvod.services.uploads import Credential
from openvod.storage.blobs import BlobKeyError
from openvod.store.tables import multipart_parts, multipart_uploads, oss_objects, upload_credentials
from openvod.util import now

if TYPE_CHECKING:
    from openvod.runtime import Runtime

log = logging.getLogger("openvod.oss.gateway")  # the logger these messages always had


class GatewayCore:
    """State, housekeeping, authentication, bodies and the commit shared by every object operation."""

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
