"""The web console at ``/console``: server-rendered Jinja2 pages with a little plain JavaScript.

Every page and action runs as the signed-in console user's account, through the same services the
API uses (``rt.media``, ``rt.library``, ``rt.jobs``, ``rt.images``, ``rt.templates``, …), each of
which is scoped by account id: a foreign id looks exactly like a missing one (404).

Routes (all under /console): see ``openvod.console.views.routes``. Writes are POSTs that must carry the session's
CSRF token (form field ``csrf`` or header ``X-CSRF-Token``); anything else is refused with 403.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import re
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape

from openvod.asgi_body import ClientGone, read_body
from openvod.console import i18n, views
from openvod.console.auth import ConsoleAuth, Session
from openvod.console.common import (
    LANG_COOKIE,
    LOGIN_COOKIE,
    MAX_FORM,
    PREFIX,
    SESSION_COOKIE,
    NotFound,
    fmt_duration,
)
from openvod.console.frames import frame_blob
from openvod.console.http import Request, Response, as_json, cookie, html, redirect, text
from openvod.errors import VodError
from openvod.util import utc_iso

if TYPE_CHECKING:
    from openvod.runtime import Runtime

log = logging.getLogger(__name__)

STATIC = resources.files("openvod.console") / "static"


class ConsoleApp:
    """ASGI handler for /console (mounted by openvod.app)."""

    def __init__(self, rt: Runtime, pool: ThreadPoolExecutor):
        self.rt = rt
        self.pool = pool
        self.auth = ConsoleAuth(rt)
        self.env = Environment(loader=PackageLoader("openvod.console", "templates"),
                               autoescape=select_autoescape(default=True, default_for_string=True))
        self.env.filters["duration"] = fmt_duration
        self.env.filters["iso"] = lambda t: utc_iso(t) if t else ""
        self.routes: list[tuple[str, re.Pattern[str], Callable[..., Response], bool]] = [
            (m, re.compile(f"^{PREFIX}{p}$"), fn, auth) for m, p, fn, auth in views.routes(self)
        ]

    # ------------------------------------------------------------------ ASGI
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        loop = asyncio.get_running_loop()
        path = scope["path"]
        if path.startswith(PREFIX + "/static/") and scope["method"] in ("GET", "HEAD"):
            await self._send(send, self._static(path[len(PREFIX + "/static/"):]))
            return
        try:
            body = await read_body(receive, MAX_FORM)
        except ClientGone:
            return
        if body is None:
            await self._send(send, text("request body too large", 413))
            return
        req = Request.from_scope(scope, body)
        resp = await loop.run_in_executor(self.pool, self.handle, req)
        await self._send(send, resp)

    async def _send(self, send: Any, resp: Response) -> None:
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in resp.all_headers()]
        headers.append((b"content-length", str(len(resp.body)).encode()))
        await send({"type": "http.response.start", "status": resp.status, "headers": headers})
        await send({"type": "http.response.body", "body": resp.body})

    def _static(self, name: str) -> Response:
        if not re.fullmatch(r"[a-z0-9_-]+\.(js|css|svg)", name):
            return text("not found", 404)
        f = STATIC / name
        if not f.is_file():
            return text("not found", 404)
        ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        r = Response(200, f.read_bytes(), ctype=ctype + ("; charset=utf-8" if name.endswith((".js", ".css")) else ""))
        return r

    # ------------------------------------------------------------------ dispatch
    def handle(self, req: Request) -> Response:
        try:
            return self._dispatch(req)
        except NotFound:
            return self.not_found(req)
        except Exception:  # never a stack trace to the browser
            log.exception("console request failed", extra={"path": req.path})
            return text("internal error", 500)

    def _dispatch(self, req: Request) -> Response:
        path = req.path.rstrip("/") or PREFIX
        if path == PREFIX:
            return redirect(PREFIX + "/library")
        allowed = []
        for method, pattern, fn, needs_auth in self.routes:
            m = pattern.match(path)
            if not m:
                continue
            if method != req.method and not (method == "GET" and req.method == "HEAD"):
                allowed.append(method)
                continue
            if not needs_auth:
                return fn(req, **m.groupdict())
            sess = self.auth.session(req.cookies.get(SESSION_COOKIE, ""))
            if sess is None:
                if req.method == "GET" and not path.endswith(".json"):
                    return redirect(f"{PREFIX}/login?next={quote(path)}&expired=1")
                return as_json({"Code": "Forbidden.SessionExpired", "Message": "Sign in again."}, 401)
            if req.method == "POST":
                given = req.headers.get("x-csrf-token") or req.field("csrf")
                if not self.auth.csrf_ok(sess, given):
                    return as_json({"Code": "Forbidden.CSRF", "Message": "The request lacks a valid CSRF token."}, 403)
            return fn(req, sess, **m.groupdict())
        if allowed:
            return text("method not allowed", 405)
        return self.not_found(req)

    # ------------------------------------------------------------------ rendering
    def lang(self, req: Request) -> str:
        return i18n.pick(req.cookies.get(LANG_COOKIE))

    def render(self, req: Request, template: str, sess: Session | None = None, status: int = 200,
               **ctx: Any) -> Response:
        lang = self.lang(req)
        body = self.env.get_template(template).render(
            t=i18n.translator(lang), lang=lang, sess=sess, csrf=sess.csrf if sess else "", path=req.path,
            prefix=PREFIX, **ctx)
        return html(body, status)

    def not_found(self, req: Request) -> Response:
        sess = self.auth.session(req.cookies.get(SESSION_COOKIE, ""))
        if req.path.endswith(".json") or req.method != "GET":
            return as_json({"Code": "NotFound", "Message": "Not found."}, 404)
        return self.render(req, "message.html", sess, status=404, message_key="not_found")

    def session_cookie(self, token: str) -> tuple[str, str]:
        s = self.rt.settings.console
        return cookie(SESSION_COOKIE, token, max_age=s.session_ttl_s, secure=s.secure_cookie)

    def clear_cookie(self) -> tuple[str, str]:
        return cookie(SESSION_COOKIE, "", max_age=0, secure=self.rt.settings.console.secure_cookie)

    def login_token_cookie(self) -> tuple[str, tuple[str, str]]:
        tok = secrets.token_urlsafe(24)
        return tok, cookie(LOGIN_COOKIE, tok, max_age=3600, secure=self.rt.settings.console.secure_cookie)

    # ------------------------------------------------------------------ helpers the views share
    def sign(self, blob_key: str) -> str:
        return self.rt.urls.sign("", blob_key)

    def thumb_url(self, row: dict[str, Any]) -> str:
        cover = self.rt.media.cover_url(row, "")
        if cover:
            return cover
        if row["status"] in ("Normal",) and row.get("width"):
            return f"{PREFIX}/video/{row['id']}/frame.jpg?t={min(1.0, float(row['duration'] or 0) / 2):.1f}"
        return ""

    def frame(self, sess: Session, media_id: str, t: float) -> Response:
        try:
            row = self.rt.media.get_row(sess.account_id, media_id)
        except VodError:
            raise NotFound() from None
        key = frame_blob(self.rt, row, t)
        if key is None:
            return text("no frame", 404)
        r = Response(200, self.rt.blobs.path(key).read_bytes(), ctype="image/jpeg")
        r.headers.append(("cache-control", "private, max-age=3600"))
        return r

