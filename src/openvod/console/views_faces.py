"""The face library: people, their appearances, naming, merging and removing."""

from __future__ import annotations

from typing import Any

from openvod.console.auth import Session
from openvod.console.common import PREFIX, NotFound, ViewsBase, num
from openvod.console.http import Request, Response, redirect


class FaceViews(ViewsBase):
    # ------------------------------------------------------------------ faces
    def _faces(self, sess: Session) -> Any:
        return self.rt.faces.library(sess.account_id)

    def faces(self, req: Request, sess: Session) -> Response:
        people = self._faces(sess).people()
        # Appearances: every video whose latest tag result names the person.
        _n, rows = self.rt.library.video_list(sess.account_id, statuses=[], start="", end="", cate_id=None,
                                              page_no=1, page_size=10000, ascending=False)
        ai = self.rt.library.tag_data(sess.account_id, [r["id"] for r in rows])
        titles = {r["id"]: r["title"] for r in rows}
        seen: dict[str, list[dict[str, Any]]] = {}
        for mid, d in ai.items():
            for p in d.get("Person", []) or []:
                if isinstance(p, dict) and p.get("PersonId"):
                    first = (p.get("Times") or ["0"])[0]
                    seen.setdefault(str(p["PersonId"]), []).append(
                        {"media_id": mid, "title": titles.get(mid, mid), "t": num(first) / 1000})
        out = [{"id": p.id, "name": p.name, "tag": p.tag, "source": p.source, "backend": p.backend,
                "face": self.app.sign(p.face_key) if p.face_key and self.rt.blobs.exists(p.face_key) else "",
                "appearances": seen.get(p.id, [])} for p in people]
        return self.app.render(req, "faces.html", sess, people=out)

    def name_face(self, req: Request, sess: Session, person_id: str) -> Response:
        name = req.field("name").strip()[:256]
        if not name or not self._faces(sess).name_person(person_id, name):
            raise NotFound()
        return redirect(f"{PREFIX}/faces#p-{person_id}")

    def merge_face(self, req: Request, sess: Session, person_id: str) -> Response:
        """Merge the chosen other person into this one."""
        if not self._faces(sess).merge_people(person_id, req.field("other")):
            raise NotFound()
        return redirect(f"{PREFIX}/faces#p-{person_id}")

    def remove_face(self, req: Request, sess: Session, person_id: str) -> Response:
        if not self._faces(sess).remove_person(person_id):
            raise NotFound()
        return redirect(f"{PREFIX}/faces")
