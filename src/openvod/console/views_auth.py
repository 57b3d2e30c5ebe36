"""Sign-in, sign-out and the display language."""

from __future__ import annotations

import hmac

from openvod.console.auth import Session
from openvod.console.common import LANG_COOKIE, LOGIN_COOKIE, PREFIX, ViewsBase, safe_next
from openvod.console.http import Request, Response, as_json, cookie, redirect
from openvod.console.i18n import LANGS


class AuthViews(ViewsBase):
    def login_page(self, req: Request, error: str = "", status: int = 200) -> Response:
        tok, set_tok = self.app.login_token_cookie()
        resp = self.app.render(req, "login.html", None, status=status, login_token=tok, error=error,
                               expired=req.query.get("expired") == "1", next=safe_next(req.query.get("next", "")))
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
        resp = redirect(safe_next(req.field("next")))
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
        resp = redirect(safe_next(req.query.get("next", "")))
        if lang in LANGS:
            resp.headers.append(cookie(LANG_COOKIE, lang, max_age=365 * 86400,
                                       secure=self.rt.settings.console.secure_cookie, http_only=False))
        return resp


def secrets_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
