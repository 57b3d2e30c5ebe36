"""The library (list and search), upload, and the duplicates page."""

from __future__ import annotations

import base64
import json
import math
from typing import Any
from urllib.parse import unquote

from openvod.console.auth import Session
from openvod.console.common import ViewsBase
from openvod.console.http import Request, Response, as_json
from openvod.errors import VodError
from openvod.services.search import Cond


class LibraryViews(ViewsBase):
    # ------------------------------------------------------------------ library
    def library(self, req: Request, sess: Session) -> Response:
        size = self.rt.settings.console.page_size
        try:
            page = max(1, int(req.query.get("page", "1")))
        except ValueError:
            page = 1
        q = req.query.get("q", "").strip()[:200]
        if q:
            total, rows = self._search(sess.account_id, q, page, size)
        else:
            total, rows = self.rt.library.video_list(sess.account_id, statuses=[], start="", end="", cate_id=None,
                                                     page_no=page, page_size=size, ascending=False)
        ai = self.rt.library.tag_data(sess.account_id, [r["id"] for r in rows])
        videos = []
        for r in rows:
            tags = [t.strip() for t in (r["tags"] or "").split(",") if t.strip()]
            d = ai.get(r["id"]) or {}
            for k in d.get("Keyword", [])[:6]:
                if isinstance(k, dict) and k.get("Tag") and k["Tag"] not in tags:
                    tags.append(str(k["Tag"]))
            videos.append({"id": r["id"], "title": r["title"] or r["file_name"] or r["id"], "status": r["status"],
                           "duration": r["duration"], "created_at": r["created_at"], "tags": tags[:8],
                           "thumb": self.app.thumb_url(r)})
        pages = max(1, math.ceil(total / size))
        return self.app.render(req, "library.html", sess, videos=videos, q=q, page=page, pages=pages, total=total)

    def _search(self, account_id: str, q: str, page: int, size: int) -> tuple[int, list[dict[str, Any]]]:
        """Title or AI words (spoken keywords, on-screen text, labels) containing ``q``; newest first."""
        hits: dict[str, dict[str, Any]] = {}
        for field in ("Title", "AiText"):
            _n, rows, _s = self.rt.library.search(account_id, search_type="video", conds=[Cond(field, "in", (q,))],
                                                  ascending=False, page_no=1, page_size=10**6, scroll=None)
            for r in rows:
                hits[r["id"]] = r
        ordered = sorted(hits.values(), key=lambda r: (r["created_at"], r["id"]), reverse=True)
        return len(ordered), ordered[(page - 1) * size: page * size]

    # ------------------------------------------------------------------ upload
    def upload_page(self, req: Request, sess: Session) -> Response:
        return self.app.render(req, "upload.html", sess, max_bytes=self.rt.settings.console.max_upload_bytes)

    def upload(self, req: Request, sess: Session) -> Response:
        """One file as the raw request body; its name in X-File-Name (URL-encoded). Same path as the
        API: CreateUploadVideo's service call, then the object commit the OSS endpoint performs."""
        name = unquote(req.headers.get("x-file-name", "")).strip()[:255] or "upload.mp4"
        if req.upload_too_large:
            return as_json({"Code": "FileTooLarge", "Message":
                            f"The file is larger than {self.rt.settings.console.max_upload_bytes} bytes."}, 413)
        if not req.upload_size:
            return as_json({"Code": "InvalidParameter", "Message": "The file is empty."}, 400)
        title = name.rsplit(".", 1)[0][:128] or name
        try:
            created = self.rt.uploads.create_video(
                sess.account_id, "", title=title, file_name=name, file_size=req.upload_size, description="",
                cover_url="", cate_id=None, tags="", template_group_id="", app_id="app-1000000", user_data="",
                reference_id="")
        except VodError as exc:
            return as_json({"Code": exc.code, "Message": exc.message}, exc.http_status)
        vid = created["VideoId"]
        auth = json.loads(base64.b64decode(created["UploadAuth"]))
        addr = json.loads(base64.b64decode(created["UploadAddress"]))
        cred = self.rt.uploads.credential(auth["AccessKeyId"])
        up = self.rt.uploads.row_by_media(vid)
        assert cred is not None and up is not None
        self.rt.blobs.adopt(up["blob_key"], req.upload_path)
        req.upload_path = None
        self.rt.uploads.committed(cred, addr["FileName"], up["blob_key"], req.upload_size, req.client)
        row = self.rt.media.get_row(sess.account_id, vid)
        if row["status"] == "UploadFail":
            reason = self._probe_reason(row)
            return as_json({"VideoId": vid, "Status": row["status"], "Code": "InvalidVideo.Damaged",
                            "Message": f"The uploaded file cannot be read as media: {reason}"}, 422)
        return as_json({"VideoId": vid, "Status": row["status"], "Title": row["title"],
                        "Duration": row["duration"]})

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

    # ------------------------------------------------------------------ duplicates
    def duplicates(self, req: Request, sess: Session) -> Response:
        groups: list[dict[str, Any]] = []
        if self.rt.analyzers.available("AIMediaDNA")[0] is not None:
            from openvod.cli_dna import duplicate_groups

            groups = duplicate_groups(self.rt, sess.account_name)
        rows = self.rt.media.find_rows(sess.account_id, [v["MediaId"] for g in groups for v in g["Videos"]])
        for g in groups:
            for v in g["Videos"]:
                r = rows.get(v["MediaId"])
                v["thumb"] = self.app.thumb_url(r) if r else ""
        return self.app.render(req, "duplicates.html", sess, groups=groups)
