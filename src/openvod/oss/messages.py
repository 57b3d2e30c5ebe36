"""The request and response of the object endpoint and the small helpers of its answers (XML, ETag,
Range, request ids). Split off :mod:`openvod.oss.gateway`, which re-exports these names.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from openvod.oss.errors import OssError

MAX_XML_BODY = 1024 * 1024
TIME_SKEW_S = 15 * 60
# After an early error, read (and drop) at most this much of the body so the client sees the answer.
DRAIN_LIMIT = 64 * 1024 * 1024


@dataclass
class OssRequest:
    """An HTTP request for the object endpoint; ``chunks`` pulls the body as it arrives."""

    method: str
    bucket: str
    key: str
    query: list[tuple[str, str]]
    headers: dict[str, list[str]]
    client_ip: str = ""
    host: str = ""
    chunks: Callable[[], Iterator[bytes]] = field(default=lambda: iter(()))

    def header(self, name: str) -> str:
        v = self.headers.get(name)
        return v[0] if v else ""

    def q(self, name: str) -> str | None:
        for k, v in self.query:
            if k == name:
                return v
        return None

    def body(self, limit: int) -> bytes:
        out, size = [], 0
        for c in self.chunks():
            size += len(c)
            if size > limit:
                raise OssError(400, "MalformedXML", "The XML you provided was not well-formed.")
            out.append(c)
        return b"".join(out)

    def drain(self) -> None:
        size = 0
        try:
            for c in self.chunks():
                size += len(c)
                if size > DRAIN_LIMIT:
                    return
        except Exception:  # the client went away: nothing to drain
            return


@dataclass
class OssResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    file: Path | None = None
    offset: int = 0
    length: int = 0


def _request_id() -> str:
    return secrets.token_hex(12).upper()


def _etag(md5_hex: str) -> str:
    return f'"{md5_hex.upper()}"'


def _xml(root: str, fields: list[tuple[str, Any]]) -> bytes:
    def render(items: list[tuple[str, Any]]) -> str:
        out = []
        for k, v in items:
            if isinstance(v, list):
                out.append(f"<{k}>{render(v)}</{k}>")
            else:
                out.append(f"<{k}>{escape(str(v))}</{k}>")
        return "".join(out)

    return f'<?xml version="1.0" encoding="UTF-8"?>\n<{root}>{render(fields)}</{root}>'.encode()


def _iso_ms(ts: float) -> str:
    # oss2 parses exactly this form (milliseconds always .000, as OSS itself sends).
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(ts))


def _parse_range(value: str, size: int) -> tuple[int, int] | None:
    """A single ``bytes=a-b`` range clipped to the object, or None (whole object, as OSS does for bad ones)."""
    if not value.startswith("bytes=") or "," in value or size == 0:
        return None
    a, _, b = value[6:].strip().partition("-")
    try:
        if a == "":
            n = int(b)
            return (max(0, size - n), size - 1) if n > 0 else None
        start = int(a)
        end = int(b) if b else size - 1
    except ValueError:
        return None
    if start >= size or end < start:
        return None
    return start, min(end, size - 1)


def client_ip(scope: dict[str, Any]) -> str:
    c = scope.get("client")
    return str(c[0]) if c else ""
