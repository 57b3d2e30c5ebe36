"""ASGI glue for the object endpoint: routes path-style (``/<bucket>/<key>``) and virtual-host-style
(``Host: <bucket>.<endpoint host>``) requests, runs the gateway on its own thread pool and moves the
body in both directions as it comes (the worker thread pulls request chunks from the event loop; files
go out in chunks), so no object is ever held whole in memory."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from openvod.oss.gateway import OssGateway, OssRequest, OssResponse, client_ip
from openvod.oss.store import Incomplete

if TYPE_CHECKING:
    from openvod.runtime import Runtime

SEND_CHUNK = 1024 * 1024


class OssAsgi:
    """The object endpoint as an ASGI sub-application."""

    def __init__(self, rt: Runtime, threads: int = 32):
        self.gw = OssGateway(rt)
        self.bucket = rt.settings.upload.bucket
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="oss")

    def route(self, scope: dict[str, Any]) -> tuple[str, str] | None:
        """(bucket, key) when the request is for the object endpoint, else None."""
        path: str = scope["path"]
        host = auth = ctype = ""
        for k, v in scope["headers"]:
            if k == b"host":
                host = v.decode("latin-1").lower()
            elif k == b"authorization":
                auth = v.decode("latin-1")
            elif k == b"content-type":
                ctype = v.decode("latin-1").lower()
        if host.startswith(self.bucket + "."):
            # Virtual-host style. The API itself may live on a name that starts the same way
            # (openvod.example.com): its own routes and unsigned-by-OSS RPC calls on / stay the API's.
            if path in ("/healthz", "/metrics", "/console") or path.startswith(("/blobs/", "/console/")):
                return None
            rpc_like = path == "/" and scope["method"] in ("GET", "POST") and not auth.startswith("OSS ")
            if rpc_like and not ctype.startswith("multipart/form-data") and b"OSSAccessKeyId" not in scope.get(
                    "query_string", b""):
                return None
            return self.bucket, path[1:]
        prefix = "/" + self.bucket
        if path == prefix or path.startswith(prefix + "/"):
            return self.bucket, path[len(prefix) + 1 :]
        return None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any, bucket: str, key: str) -> None:
        loop = asyncio.get_running_loop()
        headers: dict[str, list[str]] = {}
        for k, v in scope["headers"]:
            headers.setdefault(k.decode("latin-1").lower(), []).append(v.decode("latin-1"))
        state = {"done": False}

        def chunks() -> Iterator[bytes]:
            while not state["done"]:
                msg = asyncio.run_coroutine_threadsafe(receive(), loop).result()
                if msg["type"] == "http.disconnect":
                    state["done"] = True
                    raise Incomplete()
                if not msg.get("more_body"):
                    state["done"] = True
                body = msg.get("body", b"")
                if body:
                    yield body

        query = parse_qsl(scope.get("query_string", b"").decode("utf-8", "replace"), keep_blank_values=True)
        req = OssRequest(scope["method"], bucket, key, query, headers, client_ip(scope),
                         (headers.get("host") or [""])[0], chunks)
        resp = await loop.run_in_executor(self.pool, self.gw.handle, req)
        await self._send(send, resp, scope["method"] == "HEAD")

    async def _send(self, send: Any, resp: OssResponse, head: bool) -> None:
        headers = [(k.encode(), v.encode()) for k, v in resp.headers]
        if resp.file is None and not any(k == "content-length" for k, _ in resp.headers):
            headers.append((b"content-length", str(len(resp.body)).encode()))
        await send({"type": "http.response.start", "status": resp.status, "headers": headers})
        if resp.file is None or head:
            await send({"type": "http.response.body", "body": b"" if head else resp.body})
            return
        loop = asyncio.get_running_loop()
        left = resp.length
        with open(resp.file, "rb") as fh:
            fh.seek(resp.offset)
            while left > 0:
                chunk = await loop.run_in_executor(self.pool, fh.read, min(SEND_CHUNK, left))
                if not chunk:
                    break
                left -= len(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": left > 0})
        if left > 0:  # the file shrank under us: end the body (the client sees a short read)
            await send({"type": "http.response.body", "body": b""})
