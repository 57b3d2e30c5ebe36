"""The library (list and search) and the duplicates page."""

from __future__ import annotations

import math
from typing import Any

from openvod.console.auth import Session
from openvod.console.common import ViewsBase
from openvod.console.http import Request, Response
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
