"""The console's pages and actions. Each takes the request and the signed-in session; every read and
write goes through a service call scoped by ``sess.account_id``."""

from __future__ import annotations

import base64
import json
import math
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from openvod.console.app import (
    LANG_COOKIE,
    LOGIN_COOKIE,
    PREFIX,
    NotFound,
    _safe_next,
)
from openvod.console.auth import Session
from openvod.console.http import Request, Response, as_json, cookie, redirect, text
from openvod.console.i18n import LANGS
from openvod.domain.jobs import AI_IMAGE_TYPE, AI_JOB_TYPES
from openvod.domain.options import ANALYSE_TYPES
from openvod.errors import VodError
from openvod.services.ai_jobs import progress_of
from openvod.services.media import INTERNAL_COVER_PREFIX
from openvod.services.search import Cond
from openvod.util import parse_utc_iso

if TYPE_CHECKING:
    from openvod.console.app import ConsoleApp

_ID = r"(?P<media_id>[0-9a-f]{32})"
JOB_TYPES = AI_JOB_TYPES + (AI_IMAGE_TYPE,)
JOB_STATUSES = ("init", "processing", "success", "fail")
CONSOLE_TEMPLATES = {"png": "Console covers (PNG)", "gif": "Console GIFs"}


def routes(app: ConsoleApp) -> list[tuple[str, str, Any, bool]]:
    v = Views(app)
    return [
        ("GET", "/login", v.login_page, False),
        ("POST", "/login", v.login, False),
        ("GET", "/lang", v.set_lang, False),
        ("POST", "/logout", v.logout, True),
        ("GET", "/library", v.library, True),
        ("GET", "/upload", v.upload_page, True),
        ("POST", "/upload", v.upload, True),
        ("GET", f"/video/{_ID}", v.video, True),
        ("GET", f"/video/{_ID}/state.json", v.video_state, True),
        ("GET", f"/video/{_ID}/frame.jpg", v.frame, True),
        ("GET", f"/video/{_ID}/subtitles\\.(?P<fmt>srt|vtt)", v.subtitles, True),
        ("POST", f"/video/{_ID}/run", v.run_job, True),
        ("POST", f"/video/{_ID}/delete", v.delete, True),
        ("POST", f"/video/{_ID}/cover", v.set_cover, True),
        ("GET", "/jobs", v.jobs, True),
        ("POST", "/jobs/(?P<job_id>[0-9a-f]{32})/retry", v.retry, True),
        ("GET", "/faces", v.faces, True),
        ("POST", "/faces/(?P<person_id>[0-9a-f]{32})/name", v.name_face, True),
        ("POST", "/faces/(?P<person_id>[0-9a-f]{32})/remove", v.remove_face, True),
        ("POST", "/faces/(?P<person_id>[0-9a-f]{32})/merge", v.merge_face, True),
        ("GET", "/duplicates", v.duplicates, True),
        ("GET", "/settings", v.settings, True),
        ("POST", "/settings/keys", v.create_key, True),
        ("POST", "/settings/keys/(?P<key_id>[A-Za-z0-9.]{1,64})/(?P<action>disable|enable)", v.key_status, True),
        ("POST", "/settings/callback", v.set_callback, True),
    ]


def _f(x: Any, default: float = 0.0) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return default


class Views:
    def __init__(self, app: ConsoleApp):
        self.app = app
        self.rt = app.rt

    # ------------------------------------------------------------------ sign-in / out, language
    def login_page(self, req: Request, error: str = "", status: int = 200) -> Response:
        tok, set_tok = self.app.login_token_cookie()
        resp = self.app.render(req, "login.html", None, status=status, login_token=tok, error=error,
                               expired=req.query.get("expired") == "1", next=_safe_next(req.query.get("next", "")))
        resp.headers.append(set_tok)
        return resp

    def login(self, req: Request) -> Response:
        given = req.field("csrf")
        expected = req.cookies.get(LOGIN_COOKIE, "")
        if not given or not expected or not secrets_equal(given, expected):
            return as_json({"Code": "Forbidden.CSRF", "Message": "The request lacks a valid CSRF token."}, 403)
        if self.app.auth.locked(req.field("username")):
            return self.login_page(req, "too_many", 429)
        got = self.app.auth.sign_in(req.field("username"), req.field("password"))
        if got is None:
            return self.login_page(req, "bad_login", 401)
        token, _sess = got
        resp = redirect(_safe_next(req.field("next")))
        resp.headers.append(self.app.session_cookie(token))
        resp.headers.append(cookie(LOGIN_COOKIE, "", max_age=0, secure=self.rt.settings.console.secure_cookie))
        return resp

    def logout(self, req: Request, sess: Session) -> Response:
        self.app.auth.sign_out(sess)
        resp = redirect(PREFIX + "/login")
        resp.headers.append(self.app.clear_cookie())
        return resp

    def set_lang(self, req: Request) -> Response:
        """Only a display preference kept in the browser (no server state changes)."""
        lang = req.query.get("to", "")
        resp = redirect(_safe_next(req.query.get("next", "")))
        if lang in LANGS:
            resp.headers.append(cookie(LANG_COOKIE, lang, max_age=365 * 86400,
                                       secure=self.rt.settings.console.secure_cookie, http_only=False))
        return resp

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
                               cover_url=self.rt.media.cover_url(row, ""))

    @staticmethod
    def _job_json(r: Any) -> dict[str, Any]:
        return {"JobId": r.id, "Type": r.type, "Status": r.status, "Progress": progress_of(r), "Code": r.code or "",
                "Message": r.message or "", "MediaId": r.media_id}

    def video_state(self, req: Request, sess: Session, media_id: str) -> Response:
        self._row(sess, media_id)
        _n, rows = self.rt.jobs.list_account(sess.account_id, media_id=media_id, limit=20)
        return as_json({"media_id": media_id, "jobs": [self._job_json(r) for r in rows]})

    def frame(self, req: Request, sess: Session, media_id: str) -> Response:
        return self.app.frame(sess, media_id, _f(req.query.get("t"), 0.0))

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
            sp = _f(tr.get("Speed"), 1.0)
            if abs(abs(sp) - 1.0) > 0.02:
                badges.append(("speed", f"×{abs(sp):.2f}"))
            if tr.get("Reversed"):
                badges.append(("reversed", ""))
            if int(_f(tr.get("Rotation"), 0)):
                badges.append(("rotation", f"{int(_f(tr.get('Rotation')))}°"))
            segs = []
            for d in e.get("Detail") or []:
                i, dup = d.get("Input") or {}, d.get("Duplication") or {}
                segs.append({"in_start": _f(i.get("Start")), "in_dur": _f(i.get("Duration")),
                             "dup_start": _f(dup.get("Start")), "dup_dur": _f(dup.get("Duration")),
                             "sim": d.get("Similarity", "")})
            evidence = [{"a": _f(x.get("InputTime")), "b": _f(x.get("DuplicationTime")), "sim": x.get("Similarity", "")}
                        for x in e.get("Evidence") or []]
            out.append({"other": other, "other_src": self.app.sign(other["blob_key"]),
                        "similarity": e.get("Similarity", ""), "matched": e.get("MatchedDuration", ""),
                        "badges": badges, "segments": segs, "evidence": evidence})
        return {"entries": out}

    def _tags(self, sess: Session, row: dict[str, Any]) -> dict[str, Any] | None:
        from openvod.services.tag_export import TagDetailNotFound, detail_of, find_job

        try:
            data = self.rt.jobs.video_tag_result(sess.account_id, row["id"])
        except VodError:
            return None
        try:
            job = find_job(self.rt, sess.account_id, media_id=row["id"])
            detail = detail_of(self.rt, job)
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
                        s, e = _f(iv.get("Start")) / 1000, _f(iv.get("End")) / 1000
                        out.append({"label": str(it.get(label_key, "")), "start": s, "end": max(e, s + 0.1)})
                else:
                    for t in (it.get("Times") or [])[:200]:
                        s = _f(t) / 1000
                        out.append({"label": str(it.get(label_key, "")), "start": s, "end": s + 0.3})
            return out

        people = []
        # The face library's current names (a person named since the job ran shows that name).
        names = {lp.id: lp.tag for lp in self._faces(sess).people()} if data.get("Person") else {}
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
                a, b = _f(s.get("Start")) / 1000, _f(s.get("End")) / 1000
                shots.append({"label": f"#{i + 1}", "start": a, "end": max(b, a + 0.1)})
        lanes.append({"key": "shots", "marks": shots})
        for lane in lanes:
            for m in lane["marks"]:
                m["left"] = round(100 * min(m["start"], duration) / duration, 3)
                m["width"] = round(max(0.4, 100 * (min(m["end"], duration) - min(m["start"], duration)) / duration), 3)
        sentences = []
        for s in (detail.get("ASR") or {}).get("Sentences", []) or []:
            words = [{"w": w.get("Word", ""), "s": _f(w.get("StartTime")) / 1000, "e": _f(w.get("EndTime")) / 1000}
                     for w in s.get("Words", []) or [] if w.get("Word")]
            if not words:
                words = [{"w": s.get("Text", ""), "s": _f(s.get("StartTime")) / 1000, "e": _f(s.get("EndTime")) / 1000}]
            sentences.append({"start": _f(s.get("StartTime")) / 1000, "words": words})
        categories = [c.get("Tag", "") for c in data.get("Category", []) if isinstance(c, dict)]
        return {"lanes": lanes, "people": people, "sentences": sentences, "categories": categories,
                "duration": duration}

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
            out.append({"id": i["AIImageInfoId"], "url": i["FileURL"], "format": i["Format"], "score": _f(i["Score"]),
                        "time": i.get("Time", ""), "breakdown": sorted(breakdown.items()) if isinstance(breakdown, dict) else [],
                        "why": i.get("Why", ""), "is_cover": bool(cover_path) and i["FileURL"].split("?")[0] == cover_path})
        return out

    def subtitles(self, req: Request, sess: Session, media_id: str, fmt: str) -> Response:
        from openvod.services.tag_export import export

        self._row(sess, media_id)
        try:
            out = export(self.rt, sess.account_id, media_id=media_id, fmt=fmt)
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

    # ------------------------------------------------------------------ jobs
    def jobs(self, req: Request, sess: Session) -> Response:
        jt = req.query.get("type", "")
        st = req.query.get("status", "")
        jt = jt if jt in JOB_TYPES else ""
        st = st if st in JOB_STATUSES else ""
        since = until = None
        err = ""
        for k in ("since", "until"):
            v = req.query.get(k, "").strip()
            if v:
                try:
                    ts = parse_utc_iso(v if v.endswith("Z") else v + ":00Z" if len(v) == 16 else v + "Z")
                except ValueError:
                    err = k
                    continue
                if k == "since":
                    since = ts
                else:
                    until = ts
        try:
            page = max(1, int(req.query.get("page", "1")))
        except ValueError:
            page = 1
        size = 50
        total, rows = self.rt.jobs.list_account(sess.account_id, job_type=jt, status=st, since=since, until=until,
                                                limit=size, offset=(page - 1) * size)
        titles = {k: v["title"] for k, v in self.rt.media.find_rows(sess.account_id, list({r.media_id for r in rows})).items()}
        return self.app.render(req, "jobs.html", sess, rows=rows, titles=titles, jt=jt, st=st, types=JOB_TYPES,
                               statuses=JOB_STATUSES, page=page, pages=max(1, math.ceil(total / size)),
                               since=req.query.get("since", ""), until=req.query.get("until", ""), err=err,
                               progress_of=progress_of)

    def retry(self, req: Request, sess: Session, job_id: str) -> Response:
        try:
            self.rt.jobs.retry(sess.account_id, job_id)
        except VodError as exc:
            return as_json({"Code": exc.code, "Message": exc.message}, exc.http_status)
        return redirect(f"{PREFIX}/jobs")

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
                        {"media_id": mid, "title": titles.get(mid, mid), "t": _f(first) / 1000})
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

    # ------------------------------------------------------------------ settings
    def settings(self, req: Request, sess: Session, new_key: Any = None, msg: str = "") -> Response:
        keys = self.rt.accounts.list_keys(sess.account_name)
        cb = self.rt.callbacks.get(sess.account_id)
        rows, _total = self.rt.templates.list(sess.account_id, "AIImage", 1, 100)
        templates = list(rows)
        for tt in ("AIMediaDNA", "AIVideoTag", "AIMediaAudit"):
            try:
                more, _t = self.rt.templates.list(sess.account_id, tt, 1, 100)
            except VodError:
                continue
            templates += list(more)
        return self.app.render(req, "settings.html", sess, keys=keys, cb=cb, templates=templates, new_key=new_key,
                               msg=msg)

    def create_key(self, req: Request, sess: Session) -> Response:
        k = self.rt.accounts.create_key(sess.account_name)
        return self.settings(req, sess, new_key=k)

    def key_status(self, req: Request, sess: Session, key_id: str, action: str) -> Response:
        if key_id not in {k.access_key_id for k in self.rt.accounts.list_keys(sess.account_name)}:
            raise NotFound()
        self.rt.accounts.set_key_status(key_id, "Inactive" if action == "disable" else "Active")
        return redirect(f"{PREFIX}/settings")

    def set_callback(self, req: Request, sess: Session) -> Response:
        url = req.field("callback_url").strip()
        auth_key = req.field("auth_key").strip()
        try:
            self.rt.callbacks.set(sess.account_id, app_id="app-1000000", callback_type="HTTP", callback_url=url,
                                  event_types=req.field("event_types").strip(),
                                  auth_switch="on" if auth_key else "off", auth_key=auth_key)
        except VodError as exc:
            return self.settings(req, sess, msg=f"{exc.code}: {exc.message}")
        return self.settings(req, sess, msg="saved")


def secrets_equal(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode(), b.encode())

