"""A video's page (player, copies, AI tags, images, jobs) and the actions on a video."""

from __future__ import annotations

import json
from typing import Any

from openvod.console.auth import Session
from openvod.console.common import JOB_TYPES, PREFIX, NotFound, ViewsBase, num
from openvod.console.http import Request, Response, as_json, redirect, text
from openvod.domain.options import ANALYSE_TYPES
from openvod.errors import VodError
from openvod.services.ai_jobs import progress_of
from openvod.services.media import INTERNAL_COVER_PREFIX
from openvod.services.tag_export import TagDetailNotFound

CONSOLE_TEMPLATES = {"png": "Console covers (PNG)", "gif": "Console GIFs"}


class VideoViews(ViewsBase):
    # ------------------------------------------------------------------ video
    def _row(self, sess: Session, media_id: str) -> dict[str, Any]:
        try:
            return self.rt.media.get_row(sess.account_id, media_id)
        except VodError:
            raise NotFound() from None

    def video(self, req: Request, sess: Session, media_id: str) -> Response:
        row = self._row(sess, media_id)
        acc = sess.account_id
        src = self.app.sign(row["blob_key"]) if row["status"] in ("Normal", "UploadSucc") else ""
        copies = self._copies(sess, row)
        tags = self._tags(sess, row)
        images = self._images(sess, row)
        _n, job_rows = self.rt.jobs.list_account(acc, media_id=media_id, limit=20)
        available = {t: self.rt.analyzers.available(t)[0] is not None for t in JOB_TYPES}
        state = {"media_id": media_id, "jobs": [self._job_json(r) for r in job_rows]}
        return self.app.render(req, "video.html", sess, v=row, src=src, copies=copies, tags=tags, images=images,
                               jobs=state["jobs"], state=state, available=available, analyse_types=ANALYSE_TYPES,
                               cover_url=self.rt.media.cover_url(row, ""), audit=self._audit(sess, row))

    @staticmethod
    def _job_json(r: Any) -> dict[str, Any]:
        return {"JobId": r.id, "Type": r.type, "Status": r.status, "Progress": progress_of(r), "Code": r.code or "",
                "Message": r.message or "", "MediaId": r.media_id}

    def video_state(self, req: Request, sess: Session, media_id: str) -> Response:
        self._row(sess, media_id)
        _n, rows = self.rt.jobs.list_account(sess.account_id, media_id=media_id, limit=20)
        return as_json({"media_id": media_id, "jobs": [self._job_json(r) for r in rows]})

    def frame(self, req: Request, sess: Session, media_id: str) -> Response:
        return self.app.frame(sess, media_id, num(req.query.get("t"), 0.0))

    def _copies(self, sess: Session, row: dict[str, Any]) -> dict[str, Any] | None:
        try:
            data = self.rt.jobs.dna_result(sess.account_id, row["id"])
        except VodError:
            return None
        entries = data.get("VideoDNA") or []
        others = self.rt.media.find_rows(sess.account_id, [str(e.get("PrimaryKey", "")) for e in entries])
        out = []
        for e in entries:
            other = others.get(str(e.get("PrimaryKey", "")))
            if other is None:  # deleted since the job ran (or never this account's): nothing to show
                continue
            tr = e.get("Transform") or {}
            badges = []
            if tr.get("Flip"):
                badges.append(("flip", ""))
            if tr.get("VFlip"):
                badges.append(("vflip", ""))
            if tr.get("CropBox"):
                badges.append(("crop", ""))
            if tr.get("PiPBox"):
                badges.append(("pip", ""))
            if tr.get("Padding"):
                badges.append(("padding", ""))
            sp = num(tr.get("Speed"), 1.0)
            if abs(abs(sp) - 1.0) > 0.02:
                badges.append(("speed", f"×{abs(sp):.2f}"))
            if tr.get("Reversed"):
                badges.append(("reversed", ""))
            if int(num(tr.get("Rotation"), 0)):
                badges.append(("rotation", f"{int(num(tr.get('Rotation')))}°"))
            segs = []
            for d in e.get("Detail") or []:
                i, dup = d.get("Input") or {}, d.get("Duplication") or {}
                segs.append({"in_start": num(i.get("Start")), "in_dur": num(i.get("Duration")),
                             "dup_start": num(dup.get("Start")), "dup_dur": num(dup.get("Duration")),
                             "sim": d.get("Similarity", "")})
            evidence = [{"a": num(x.get("InputTime")), "b": num(x.get("DuplicationTime")), "sim": x.get("Similarity", "")}
                        for x in e.get("Evidence") or []]
            out.append({"other": other, "other_src": self.app.sign(other["blob_key"]),
                        "similarity": e.get("Similarity", ""), "matched": e.get("MatchedDuration", ""),
                        "badges": badges, "segments": segs, "evidence": evidence})
        return {"entries": out}

    def _tags(self, sess: Session, row: dict[str, Any]) -> dict[str, Any] | None:
        try:
            data = self.rt.jobs.video_tag_result(sess.account_id, row["id"])
        except VodError:
            return None
        try:
            job = self.rt.tag_export.find_job(sess.account_id, media_id=row["id"])
            detail = self.rt.tag_export.detail_of(job)
        except TagDetailNotFound:
            detail = {}
        duration = max(float(row["duration"] or 0.0), 0.001)
        lanes: list[dict[str, Any]] = []

        def marks_from_times(items: list[Any], label_key: str = "Tag") -> list[dict[str, Any]]:
            out = []
            for it in items:
                if not isinstance(it, dict):
                    continue
                ivs = it.get("Intervals") or []
                if ivs:
                    for iv in ivs[:200]:
                        s, e = num(iv.get("Start")) / 1000, num(iv.get("End")) / 1000
                        out.append({"label": str(it.get(label_key, "")), "start": s, "end": max(e, s + 0.1)})
                else:
                    for t in (it.get("Times") or [])[:200]:
                        s = num(t) / 1000
                        out.append({"label": str(it.get(label_key, "")), "start": s, "end": s + 0.3})
            return out

        people = []
        # The face library's current names (a person named since the job ran shows that name).
        names = {lp.id: lp.tag for lp in self.rt.faces.library(sess.account_id).people()} if data.get("Person") else {}
        for p in data.get("Person", []):
            if isinstance(p, dict):
                people.append({"tag": names.get(str(p.get("PersonId", "")), p.get("Tag", "")), "face": self._face_url(p.get("PersonId", "")) or "",
                               "person_id": p.get("PersonId", "")})
        lanes.append({"key": "people", "marks": marks_from_times(data.get("Person", []))})
        lanes.append({"key": "keywords", "marks": marks_from_times(data.get("Keyword", []))})
        lanes.append({"key": "locations", "marks": marks_from_times(data.get("Location", []))})
        lanes.append({"key": "times", "marks": marks_from_times(data.get("Time", []))})
        lanes.append({"key": "onscreen", "marks": marks_from_times(data.get("OCR", []), "Text")})
        shots = []
        for i, s in enumerate(data.get("Shots", []) or []):
            if isinstance(s, dict):
                a, b = num(s.get("Start")) / 1000, num(s.get("End")) / 1000
                shots.append({"label": f"#{i + 1}", "start": a, "end": max(b, a + 0.1)})
        lanes.append({"key": "shots", "marks": shots})
        for lane in lanes:
            for m in lane["marks"]:
                m["left"] = round(100 * min(m["start"], duration) / duration, 3)
                m["width"] = round(max(0.4, 100 * (min(m["end"], duration) - min(m["start"], duration)) / duration), 3)
        sentences = []
        for s in (detail.get("ASR") or {}).get("Sentences", []) or []:
            words = [{"w": w.get("Word", ""), "s": num(w.get("StartTime")) / 1000, "e": num(w.get("EndTime")) / 1000}
                     for w in s.get("Words", []) or [] if w.get("Word")]
            if not words:
                words = [{"w": s.get("Text", ""), "s": num(s.get("StartTime")) / 1000, "e": num(s.get("EndTime")) / 1000}]
            sentences.append({"start": num(s.get("StartTime")) / 1000, "words": words})
        categories = [c.get("Tag", "") for c in data.get("Category", []) if isinstance(c, dict)]
        return {"lanes": lanes, "people": people, "sentences": sentences, "categories": categories,
                "duration": duration}

    def _audit(self, sess: Session, row: dict[str, Any]) -> dict[str, Any] | None:
        """The latest AIMediaAudit result (GetMediaAuditResult): overall Suggestion and Label, then each
        scene, text and audio part that was checked."""
        try:
            data = self.rt.audit.result(sess.account_id, row["id"])
        except VodError:
            return None
        parts: list[dict[str, Any]] = []
        video = data.get("VideoResult") or {}
        for key, scene in (("PornResult", "porn"), ("TerrorismResult", "terrorism"), ("AdResult", "ad"),
                           ("LiveResult", "live"), ("LogoResult", "logo")):
            r = video.get(key)
            if isinstance(r, dict):
                parts.append({"scene": scene, "suggestion": r.get("Suggestion", ""), "label": r.get("Label", ""),
                              "score": r.get("MaxScore", ""), "reason": r.get("Reason", "")})
        for kind, items in (("text", data.get("TextResult")), ("audio", data.get("AudioResult"))):
            for r in items or []:
                if isinstance(r, dict):
                    parts.append({"scene": f"{kind}: {r.get('Type') or r.get('Scene', '')}",
                                  "suggestion": r.get("Suggestion", ""), "label": r.get("Label", ""),
                                  "score": r.get("Score", ""), "reason": r.get("Reason", "")})
        return {"suggestion": data.get("Suggestion", ""), "label": data.get("Label", ""),
                "modules": data.get("AbnormalModules", ""), "parts": parts}

    def _face_url(self, person_id: str) -> str:
        return f"{PREFIX}/faces#p-{person_id}" if person_id else ""

    def _images(self, sess: Session, row: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            infos = self.rt.images.list_infos(sess.account_id, row["id"], "")
        except VodError:
            return []
        cover = row["cover_url"] or ""
        cover_path = self.rt.urls.path_for(cover[len(INTERNAL_COVER_PREFIX):]) if cover.startswith(INTERNAL_COVER_PREFIX) else ""
        out = []
        for i in infos:
            breakdown: Any = i.get("Breakdown") or {}
            out.append({"id": i["AIImageInfoId"], "url": i["FileURL"], "format": i["Format"], "score": num(i["Score"]),
                        "time": i.get("Time", ""), "breakdown": sorted(breakdown.items()) if isinstance(breakdown, dict) else [],
                        "why": i.get("Why", ""), "is_cover": bool(cover_path) and i["FileURL"].split("?")[0] == cover_path})
        return out

    def subtitles(self, req: Request, sess: Session, media_id: str, fmt: str) -> Response:
        self._row(sess, media_id)
        try:
            out = self.rt.tag_export.export(sess.account_id, media_id=media_id, fmt=fmt)
        except VodError:
            raise NotFound() from None
        r = text(out["Subtitle"], ctype="text/vtt; charset=utf-8" if fmt == "vtt" else "application/x-subrip; charset=utf-8")
        r.headers.append(("content-disposition", f'attachment; filename="{media_id}.{fmt}"'))
        return r

    # ------------------------------------------------------------------ actions on a video
    def run_job(self, req: Request, sess: Session, media_id: str) -> Response:
        self._row(sess, media_id)
        kind = req.field("kind")
        try:
            if kind == "dna":
                ids = [j["JobId"] for j in self.rt.jobs.submit(sess.account_id, media_id, "AIMediaDNA", "{}", "")]
            elif kind == "tag":
                types = [t for t in req.fields("types") if t in ANALYSE_TYPES] or list(ANALYSE_TYPES)
                cfg = json.dumps({"AIVideoTag": {"AnalyseTypes": ",".join(types)}})
                ids = [j["JobId"] for j in self.rt.jobs.submit(sess.account_id, media_id, "AIVideoTag", cfg, "")]
            elif kind == "audit":  # SubmitAIMediaAuditJob with the account's default template (if any)
                ids = [self.rt.audit.submit(sess.account_id, media_id, "", "", "", "", {})]
            elif kind in ("png", "gif"):
                tpl = self._console_template(sess, kind)
                ids = [self.rt.images.submit(sess.account_id, media_id, tpl, "")]
            else:
                return as_json({"Code": "InvalidParameter", "Message": "Unknown job kind."}, 400)
        except VodError as exc:
            return as_json({"Code": exc.code, "Message": exc.message}, exc.http_status)
        if req.headers.get("accept", "").startswith("application/json"):
            return as_json({"JobIds": ids})
        return redirect(f"{PREFIX}/video/{media_id}")

    def _console_template(self, sess: Session, fmt: str) -> str:
        """The account's console AIImage template for ``fmt`` (created on first use, like a user would)."""
        name = CONSOLE_TEMPLATES[fmt]
        rows, _total = self.rt.templates.list(sess.account_id, "AIImage", 1, 1000)
        for r in rows:
            if r.name == name:
                return str(r.id)
        cfg = {"Format": fmt, "SetDefaultCover": "false"}
        return self.rt.templates.add(sess.account_id, name, "AIImage", json.dumps(cfg))

    def delete(self, req: Request, sess: Session, media_id: str) -> Response:
        self._row(sess, media_id)
        self.rt.media.delete(sess.account_id, [media_id])
        return redirect(f"{PREFIX}/library?deleted=1")

    def set_cover(self, req: Request, sess: Session, media_id: str) -> Response:
        self._row(sess, media_id)
        image_id = req.field("image_id")
        try:
            value = self.rt.media._cover_value(sess.account_id, image_id)
        except VodError as exc:
            return as_json({"Code": exc.code, "Message": exc.message}, exc.http_status)
        if not value.startswith(INTERNAL_COVER_PREFIX):
            return as_json({"Code": "InvalidParameter", "Message": "Not an AI image id."}, 400)
        self.rt.library.update_video(sess.account_id, media_id, {"cover_url": value}, None)
        return redirect(f"{PREFIX}/video/{media_id}#covers")
