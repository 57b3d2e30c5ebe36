"""Signed blob URLs answer byte ranges (HTML5 players seek with them)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from openvod.app import OpenVodApp
from tests.console.client import make_runtime


def _get(app: OpenVodApp, url: str, headers: list[tuple[bytes, bytes]]) -> tuple[int, dict[bytes, bytes], bytes]:
    parts = urlsplit(url)
    scope = {"type": "http", "method": "GET", "path": parts.path, "raw_path": parts.path.encode(),
             "query_string": parts.query.encode(), "headers": headers}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(msg: dict[str, Any]) -> None:
        sent.append(msg)

    asyncio.run(app(scope, receive, send))
    start = sent[0]
    return start["status"], dict(start["headers"]), b"".join(m.get("body", b"") for m in sent[1:])


def test_byte_ranges(tmp_path: Path) -> None:
    rt = make_runtime(tmp_path / "data")
    data = bytes(range(256)) * 1200  # 307200 bytes: more than one read chunk
    rt.blobs.put_bytes("media/acc/m/source.mp4", data)
    app = OpenVodApp(rt, threads=2)
    url = rt.urls.sign("", "media/acc/m/source.mp4")
    st, h, body = _get(app, url, [])
    assert st == 200 and body == data and h[b"accept-ranges"] == b"bytes"
    st, h, body = _get(app, url, [(b"range", b"bytes=100-299")])
    assert st == 206 and body == data[100:300] and h[b"content-range"] == f"bytes 100-299/{len(data)}".encode()
    st, h, body = _get(app, url, [(b"range", b"bytes=300000-")])
    assert st == 206 and body == data[300000:] and h[b"content-length"] == str(len(data) - 300000).encode()
    st, h, body = _get(app, url, [(b"range", b"bytes=-10")])
    assert st == 206 and body == data[-10:]
    st, h, _ = _get(app, url, [(b"range", b"bytes=999999-")])
    assert st == 416 and h[b"content-range"] == f"bytes */{len(data)}".encode()
    st, _, _ = _get(app, url.split("?")[0], [(b"range", b"bytes=0-1")])
    assert st == 403  # still needs the signature
    rt.close()
