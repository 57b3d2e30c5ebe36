"""Requests and responses of the console (a few lines of ASGI, like the rest of openvod)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, quote

# Pages only load what the console serves itself: no inline script, no third-party origin.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = [
    ("content-security-policy", CSP),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    ("cache-control", "no-store"),
]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    cookies: dict[str, str]
    body: bytes = b""
    client: str = ""
    _form: dict[str, list[str]] | None = field(default=None, repr=False)

    @classmethod
    def from_scope(cls, scope: dict[str, Any], body: bytes = b"") -> Request:
        headers: dict[str, str] = {}
        for k, v in scope.get("headers", []):
            headers[k.decode("latin-1").lower()] = v.decode("latin-1")
        q = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        cookies: dict[str, str] = {}
        if "cookie" in headers:
            c: SimpleCookie = SimpleCookie()
            try:
                c.load(headers["cookie"])
            except Exception:  # a malformed cookie header: treat as none
                c = SimpleCookie()
            cookies = {k: m.value for k, m in c.items()}
        client = scope.get("client") or ("", 0)
        return cls(scope["method"], scope["path"], {k: v[-1] for k, v in q.items()}, headers, cookies, body,
                   str(client[0]))

    @property
    def form(self) -> dict[str, list[str]]:
        if self._form is None:
            ctype = self.headers.get("content-type", "")
            if ctype.startswith("application/x-www-form-urlencoded"):
                self._form = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
            else:
                self._form = {}
        return self._form

    def field(self, name: str, default: str = "") -> str:
        v = self.form.get(name)
        return v[-1] if v else default

    def fields(self, name: str) -> list[str]:
        return self.form.get(name, [])

    @property
    def base_url(self) -> str:
        """Relative URLs: the browser resolves them against the page, whatever host it used."""
        return ""


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    ctype: str = "text/html; charset=utf-8"

    def all_headers(self) -> list[tuple[str, str]]:
        own = {k for k, _ in self.headers}
        return [("content-type", self.ctype), *(h for h in SECURITY_HEADERS if h[0] not in own), *self.headers]


def html(body: str, status: int = 200) -> Response:
    return Response(status, body.encode())


def as_json(obj: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(obj).encode(), ctype="application/json")


def redirect(location: str, status: int = 303) -> Response:
    return Response(status, b"", [("location", location)], ctype="text/plain")


def text(body: str, status: int = 200, ctype: str = "text/plain; charset=utf-8") -> Response:
    return Response(status, body.encode(), ctype=ctype)


def cookie(name: str, value: str, *, max_age: int | None, secure: bool, http_only: bool = True) -> tuple[str, str]:
    parts = [f"{name}={quote(value, safe='')}", "Path=/console", "SameSite=Strict"]
    if http_only:
        parts.append("HttpOnly")
    if secure:
        parts.append("Secure")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return ("set-cookie", "; ".join(parts))
