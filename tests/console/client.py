"""Drive the console in-process (no server, no browser): ConsoleApp.handle with a cookie jar."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from openvod.config import Settings
from openvod.console.app import ConsoleApp
from openvod.console.auth import ConsoleAuth
from openvod.console.http import Request, Response
from openvod.runtime import Runtime


def make_runtime(data_dir: Path, **console: Any) -> Runtime:
    s = Settings(data_dir=data_dir)
    if console:
        s = s.model_copy(update={"console": s.console.model_copy(update=console)})
    return Runtime(s)


def add_user(rt: Runtime, account: str, username: str, password: str = "correct horse") -> None:
    rt.accounts.ensure_account(account)
    ConsoleAuth(rt).add_user(account, username, password)


class Client:
    """One browser: cookies persist between requests."""

    def __init__(self, app: ConsoleApp):
        self.app = app
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def _keep(self, resp: Response) -> None:
        for k, v in resp.all_headers():
            if k == "set-cookie":
                name, _, rest = v.partition("=")
                value = rest.split(";", 1)[0]
                if "Max-Age=0" in v:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value

    def request(self, method: str, url: str, form: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
                upload: Path | None = None) -> Response:
        parts = urlsplit(url)
        hdrs = {k.lower(): v for k, v in (headers or {}).items()}
        body = b""
        if form is not None:
            body = urlencode(form, doseq=True).encode()
            hdrs["content-type"] = "application/x-www-form-urlencoded"
        req = Request(method, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)), hdrs,
                      dict(self.cookies), body, "127.0.0.1")
        if upload is not None:
            tmp = tempfile.NamedTemporaryFile(delete=False, dir=self.app.rt.settings.data_dir, suffix=".part")
            tmp.write(upload.read_bytes())
            tmp.close()
            req.upload_path, req.upload_size = tmp.name, upload.stat().st_size
        resp = self.app.handle(req)
        if req.upload_path is not None:
            Path(req.upload_path).unlink(missing_ok=True)
        self._keep(resp)
        m = re.search(rb'data-csrf="([^"]+)"', resp.body)
        if m:
            self.csrf = m.group(1).decode()
        return resp

    def get(self, url: str, **kw: Any) -> Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, form: dict[str, Any] | None = None, csrf: bool = True, **kw: Any) -> Response:
        form = dict(form or {})
        if csrf:
            form.setdefault("csrf", self.csrf)
        return self.request("POST", url, form=form, **kw)

    def sign_in(self, username: str, password: str = "correct horse") -> Response:
        page = self.get("/console/login")
        tok = re.search(rb'name="csrf" value="([^"]+)"', page.body).group(1).decode()
        r = self.request("POST", "/console/login", form={"csrf": tok, "username": username, "password": password,
                                                          "next": "/console/library"})
        if r.status == 303:
            self.get("/console/library")  # picks up the session's CSRF token
        return r

    def upload(self, path: Path, name: str | None = None) -> tuple[int, dict[str, Any]]:
        from urllib.parse import quote

        r = self.request("POST", "/console/upload", headers={"X-CSRF-Token": self.csrf,
                                                             "X-File-Name": quote(name or path.name)}, upload=path)
        return r.status, json.loads(r.body)
