"""Drive the console in-process (no server, no browser): ConsoleApp.handle with a cookie jar."""

from __future__ import annotations

import json
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit
from xml.etree import ElementTree

from openvod.config import Settings
from openvod.console.app import ConsoleApp
from openvod.console.auth import ConsoleAuth
from openvod.console.http import Request, Response
from openvod.oss.gateway import OssGateway, OssRequest, OssResponse
from openvod.runtime import Runtime
from tests.conftest import settings_db


def make_runtime(data_dir: Path, **console: Any) -> Runtime:
    s = Settings(data_dir=data_dir, database_url=settings_db(data_dir))
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

    def request(self, method: str, url: str, form: dict[str, Any] | None = None,
                headers: dict[str, str] | None = None) -> Response:
        parts = urlsplit(url)
        hdrs = {k.lower(): v for k, v in (headers or {}).items()}
        body = b""
        if form is not None:
            body = urlencode(form, doseq=True).encode()
            hdrs["content-type"] = "application/x-www-form-urlencoded"
        req = Request(method, parts.path, dict(parse_qsl(parts.query, keep_blank_values=True)), hdrs,
                      dict(self.cookies), body, "127.0.0.1")
        resp = self.app.handle(req)
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

    def upload_address(self, name: str, size: int, csrf: bool = True) -> Response:
        return self.request("POST", "/console/upload/address", form={"name": name, "size": size},
                            headers={"X-CSRF-Token": self.csrf} if csrf else {})

    def upload(self, path: Path, name: str | None = None) -> tuple[int, dict[str, Any]]:
        """What the upload page does: ask for an address, PostObject the file to the object endpoint, then
        ask how the commit went. Returns the first failure's (status, Code/Message), or the final state."""
        data = path.read_bytes()
        r = self.upload_address(name or path.name, len(data))
        if r.status != 200:
            return r.status, json.loads(r.body)
        addr = json.loads(r.body)
        resp = post_object(self.app.rt, addr["Post"]["URL"], addr["Post"]["Fields"], data, name or path.name)
        if resp.status >= 300:
            return resp.status, oss_error(resp.body)
        st = self.get(f"/console/upload/{addr['VideoId']}.json")
        return st.status, json.loads(st.body)


def two_signed_in(rt: Runtime) -> tuple[Client, Client]:
    """Console clients signed in as ann (account acme) and otto (account other), on one console app."""
    add_user(rt, "acme", "ann")
    add_user(rt, "other", "otto")
    app = ConsoleApp(rt, ThreadPoolExecutor(1))
    c, o = Client(app), Client(app)
    assert c.sign_in("ann").status == 303 and o.sign_in("otto").status == 303
    return c, o


def multipart(fields: dict[str, str], data: bytes, filename: str) -> tuple[str, bytes]:
    boundary = "----openvodtest" + uuid.uuid4().hex
    out = b""
    for k, v in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
    out += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", out


def post_object(rt: Runtime, url: str, fields: dict[str, str], data: bytes, filename: str) -> OssResponse:
    """A browser's form POST to the object endpoint, run in-process through the gateway."""
    ctype, body = multipart(fields, data, filename)
    bucket = url.strip("/")
    req = OssRequest("POST", bucket, "", [], {"content-type": [ctype], "content-length": [str(len(body))]},
                     "127.0.0.1", "127.0.0.1", lambda: iter([body]))
    gw = _GATEWAYS.get(id(rt))
    if gw is None:
        gw = _GATEWAYS[id(rt)] = OssGateway(rt)
    return gw.handle(req)


def oss_error(body: bytes) -> dict[str, Any]:
    root = ElementTree.fromstring(body)
    return {"Code": root.findtext("Code"), "Message": root.findtext("Message")}


_GATEWAYS: dict[int, OssGateway] = {}
