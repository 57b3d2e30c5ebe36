"""Upload through the object endpoint, as an SDK does.

For each file the page asks :meth:`UploadViews.upload_address` (a CSRF-protected POST) for what
``CreateUploadVideo`` returns (the same service call: ``VideoId``, ``UploadAddress``, ``UploadAuth``),
plus a PostObject form for it: a policy limited to that one object key and to the console's size
limit, signed with the upload credential's secret (the "server signs, browser posts" scheme of OSS
browser uploads; the page's script never needs the secret).

The console's size limit (``console.max_upload_bytes``) is a convenience, not a security boundary:
the response also carries ``UploadAuth`` — the credential with its secret, exactly what
``CreateUploadVideo`` gives any API caller of the account — so a signed-in user can sign a policy of
their own or use PutObject / multipart upload for that one object, up to the object endpoint's own
limits (``upload.max_put_bytes`` a PutObject/PostObject body, ``upload.max_part_bytes`` x
``upload.max_parts`` multipart). The server-side limits of an upload are those, whoever created it
(docs/console.md, *Upload*). The browser then posts the file straight to the
OSS-compatible endpoint (``openvod.oss``), which streams it to disk, checks it and commits it exactly as
for an SDK upload (status, probe, events). Last, :meth:`UploadViews.upload_state` tells the page how
the commit went (``Normal``, or ``UploadFail`` with the prober's reason).

The endpoint is on the console's own origin (every process serving /console serves the object
endpoint too; path style ``/<bucket>/``), so the browser needs no CORS, whatever ``upload.endpoint``
tells SDKs.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from openvod.api.rpc import clean_host
from openvod.console.auth import Session
from openvod.console.common import NotFound, ViewsBase
from openvod.console.http import Request, Response, as_json
from openvod.errors import VodError
from openvod.oss import auth as oss_auth


def _b64json(value: str) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(base64.b64decode(value))
    return out


class UploadViews(ViewsBase):
    def upload_page(self, req: Request, sess: Session) -> Response:
        return self.app.render(req, "upload.html", sess, max_bytes=self.limit())

    def limit(self) -> int:
        """What the page refuses before asking for an address and what its signed policy states; not
        enforced against a user who signs with the returned credential (see the module docstring)."""
        return min(self.rt.settings.console.max_upload_bytes, self.rt.settings.upload.max_put_bytes)

    def upload_address(self, req: Request, sess: Session) -> Response:
        """Form fields ``name`` and ``size``: a new video, its upload address and credentials, and a signed
        PostObject form for the browser."""
        name = req.field("name").strip()[:255] or "upload.mp4"
        if "\x00" in name:  # as the API's parameter check (PostgreSQL text cannot hold NUL)
            return as_json({"Code": "InvalidParameter", "Message": "The file name must not contain NUL."}, 400)
        try:
            size = int(req.field("size", "0"))
        except ValueError:
            return as_json({"Code": "InvalidParameter", "Message": "The size is not a number."}, 400)
        if size <= 0:
            return as_json({"Code": "InvalidParameter", "Message": "The file is empty."}, 400)
        limit = self.limit()
        if size > limit:
            return as_json({"Code": "FileTooLarge", "Message": f"The file is larger than {limit} bytes."}, 400)
        base = self.rt.settings.api.public_url or f"http://{clean_host(req.headers.get('host', '')) or 'localhost'}"
        title = name.rsplit(".", 1)[0][:128] or name
        try:
            created = self.rt.uploads.create_video(
                sess.account_id, base, title=title, file_name=name, file_size=size, description="", cover_url="",
                cate_id=None, tags="", template_group_id="", app_id="app-1000000", user_data="", reference_id="")
        except VodError as exc:
            return as_json({"Code": exc.code, "Message": exc.message}, exc.http_status)
        addr, cred = _b64json(created["UploadAddress"]), _b64json(created["UploadAuth"])
        bucket, key = addr["Bucket"], addr["FileName"]
        policy = {"expiration": cred["ExpireUTCTime"],
                  "conditions": [{"bucket": bucket}, ["eq", "$key", key], ["content-length-range", 1, limit]]}
        policy_b64 = base64.b64encode(json.dumps(policy).encode()).decode()
        fields = {"key": key, "policy": policy_b64, "OSSAccessKeyId": cred["AccessKeyId"],
                  "Signature": oss_auth.sign(cred["AccessKeySecret"], policy_b64),
                  "x-oss-security-token": cred["SecurityToken"], "success_action_status": "200"}
        # Virtual-host style when the page itself is on "<bucket>.<host>", else path style.
        host = clean_host(req.headers.get("host", "")).lower()
        action = "/" if host.startswith(bucket.lower() + ".") else f"/{bucket}/"
        return as_json({"VideoId": created["VideoId"], "UploadAddress": created["UploadAddress"],
                        "UploadAuth": created["UploadAuth"], "Post": {"URL": action, "Fields": fields}})

    def upload_state(self, req: Request, sess: Session, media_id: str) -> Response:
        """How the commit of an uploaded video went: its status, and for a file that is not media, why."""
        try:
            row = self.rt.media.get_row(sess.account_id, media_id)
        except VodError:
            raise NotFound() from None
        out: dict[str, Any] = {"VideoId": media_id, "Status": row["status"], "Title": row["title"],
                               "Duration": row["duration"]}
        if row["status"] == "UploadFail":
            out.update(Code="InvalidVideo.Damaged",
                       Message=f"The uploaded file cannot be read as media: {self._probe_reason(row)}")
            return as_json(out, 422)
        return as_json(out)

    def _probe_reason(self, row: dict[str, Any]) -> str:
        from openvod.media.probe import ProbeError, probe

        path = self.rt.media.local_path(row)
        try:
            probe(path)
        except ProbeError as exc:
            reason = str(exc)
        except Exception as exc:  # noqa: BLE001 - any reason is better than none
            reason = f"{type(exc).__name__}: {exc}"
        else:
            return "unknown"
        # The server's storage path is none of the user's business: name their file instead.
        return reason.replace(f"'{path}'", repr(row["file_name"])).replace(str(path), row["file_name"])
