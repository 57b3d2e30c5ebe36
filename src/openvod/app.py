"""The ASGI application: ``/`` (RPC), ``/blobs/…`` (signed files), ``/healthz``, ``/readyz``, ``/metrics``.

A small raw ASGI app rather than a framework: there is one RPC endpoint, and the hot path
(ListAIJob polling) should cost as little as possible. Handlers are synchronous (SQLAlchemy) and
run on a thread pool so the event loop never blocks on the database.
"""

from __future__ import annotations

import asyncio
import json
import logging
import mimetypes
import re
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qs, unquote

from sqlalchemy import text

from openvod.api.actions import upload_progress
from openvod.api.nonces import NonceStore
from openvod.api.readers import ReadProcesses
from openvod.api.rpc import HEAVY, READ_ONLY, RawRequest, RawResponse, RpcApi, peek_access_key, peek_action
from openvod.asgi_body import ClientGone, read_body
from openvod.metrics import Metrics
from openvod.oss.asgi import OssAsgi
from openvod.readiness import Readiness
from openvod.storage.blobs import BlobKeyError
from openvod.storage.health import disk_problems
from openvod.storage.urls import BLOB_PREFIX

if TYPE_CHECKING:
    from openvod.runtime import Runtime

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
CHUNK = 256 * 1024


T = TypeVar("T")


class _KeyState:
    __slots__ = ("running", "waiters")

    def __init__(self) -> None:
        self.running = 0
        self.waiters: deque[asyncio.Future[None]] = deque()


class KeyGate:
    """Per-AccessKey fairness in front of a thread pool: at most ``limit`` requests of one key run on
    the pool at once; the key's further requests wait here (first come, first served) without holding
    a thread, so one tenant's burst never fills the pool or takes more than ``limit`` threads' share of
    the interpreter while other tenants wait. ``limit`` 0 turns it off. Only keys with a request
    running or waiting are kept (an idle key's entry is dropped), so the table stays as small as the
    number of requests in flight. Event-loop only (no locks needed)."""

    def __init__(self, limit: int):
        self.limit = limit
        self._keys: dict[str, _KeyState] = {}

    def __len__(self) -> int:
        return len(self._keys)

    async def run(self, key: str, pool: ThreadPoolExecutor, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        if self.limit <= 0:
            return await loop.run_in_executor(pool, fn, *args)
        st = self._keys.get(key)
        if st is None:
            st = self._keys[key] = _KeyState()
        if st.running < self.limit:
            st.running += 1
        else:
            fut: asyncio.Future[None] = loop.create_future()
            st.waiters.append(fut)
            try:
                await fut  # resolved by _release, which hands this request the finishing one's slot
            except asyncio.CancelledError:  # the client went away while waiting
                if fut.done() and not fut.cancelled():
                    self._release(key, st)  # the slot was already handed over: pass it on
                elif fut in st.waiters:
                    st.waiters.remove(fut)
                raise
        try:
            return await loop.run_in_executor(pool, fn, *args)
        finally:
            self._release(key, st)

    def _release(self, key: str, st: _KeyState) -> None:
        while st.waiters:
            w = st.waiters.popleft()
            if not w.done():
                w.set_result(None)  # the slot passes on; running stays the same
                return
        st.running -= 1
        if st.running == 0:
            del self._keys[key]


class OpenVodApp:
    """ASGI callable."""

    def __init__(self, rt: Runtime, threads: int = 8, nonces: NonceStore | None = None):
        self.rt = rt
        # Big reads are built in read processes (api/readers.py), started on the first one.
        n_read = rt.settings.api.read_processes
        self.readers = ReadProcesses(rt.settings, n_read) if n_read > 0 else None
        self.rpc = RpcApi(rt, nonces, self.readers)
        self.metrics = Metrics(rt)
        self.readiness = Readiness(rt)  # /readyz: every dependency of this node reachable?
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="rpc")
        self.oss = OssAsgi(rt)
        # Registrations (download, probe, copy) wait here, not in the pool every other request uses.
        self.heavy_pool = ThreadPoolExecutor(max_workers=max(2, threads // 2), thread_name_prefix="rpc-heavy")
        # Per-AccessKey limit on the requests one key runs on each pool at once (docs/security.md).
        self.gate = KeyGate(rt.settings.api.max_running_per_key)
        self.heavy_gate = KeyGate(rt.settings.api.max_registrations_per_key)
        self.console = None
        if rt.settings.console.enabled:  # the web console at /console (docs/console.md)
            from openvod.console.app import ConsoleApp

            self.console = ConsoleApp(rt, self.pool)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    if self.readers is not None:  # they start on the first big read
                        self.readers.enable()
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    if self.readers is not None:
                        self.readers.stop()
                    self.rpc.close()
                    self.pool.shutdown(wait=False)
                    self.oss.pool.shutdown(wait=False)
                    self.heavy_pool.shutdown(wait=False)
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        path = scope["path"]
        method = scope["method"]
        loop = asyncio.get_running_loop()
        oss_route = self.oss.route(scope)
        if oss_route is not None:  # the OSS-compatible object endpoint (docs/upload.md)
            await self.oss(scope, receive, send, *oss_route)
            return
        if path == "/":
            try:
                body = await read_body(receive, MAX_BODY)
            except ClientGone:
                return
            if body is None:
                await self._send(send, RawResponse(413, [("content-type", "text/plain")], b"request body too large"))
                return
            headers: dict[str, list[str]] = {}
            for k, v in scope["headers"]:
                headers.setdefault(k.decode("latin-1").lower(), []).append(v.decode("latin-1"))
            req = RawRequest(method, scope.get("query_string", b""), headers, body, path,
                             self._client_ip(scope, headers.get("x-forwarded-for", [])))
            if upload_progress.wanted(req):  # the upload SDKs' unsigned telemetry
                resp = await loop.run_in_executor(self.pool, upload_progress.handle, self.rt, req, scope)
            elif method not in ("GET", "POST"):
                resp = RawResponse(405, [("content-type", "text/plain"), ("allow", "GET, POST")], b"method not allowed")
            elif (name := peek_action(req.query_string, headers) or peek_action(body, {})) in READ_ONLY:
                # Short indexed reads (WAL readers never wait for writers): cheaper inline than a thread hop.
                resp = self.rpc.handle(req)
            elif name in HEAVY:
                key = peek_access_key(req.query_string, headers, body)
                resp = await self.heavy_gate.run(key, self.heavy_pool, self.rpc.handle, req)
            else:
                key = peek_access_key(req.query_string, headers, body)
                resp = await self.gate.run(key, self.pool, self.rpc.handle, req)
            self.metrics.requests.labels(resp.action or "-", str(resp.status)).inc()
            await self._send(send, resp)
        elif self.console is not None and (path == "/console" or path.startswith("/console/")):
            await self.console(scope, receive, send)
        elif path.startswith(BLOB_PREFIX) and method in ("GET", "HEAD"):
            await self._serve_blob(scope, send, method)
        elif path == "/healthz":
            resp = await loop.run_in_executor(self.pool, self._health)
            await self._send(send, resp)
        elif path == "/readyz":
            code, ready = await loop.run_in_executor(self.pool, self.readiness.report)
            await self._send(send, RawResponse(code, [("content-type", "application/json")], ready))
        elif path == "/metrics":
            data = await loop.run_in_executor(self.pool, self.metrics.render)
            await self._send(send, RawResponse(200, [("content-type", "text/plain; version=0.0.4")], data))
        else:
            await self._send(send, RawResponse(404, [("content-type", "text/plain")], b"not found"))

    async def _send(self, send: Any, resp: RawResponse) -> None:
        headers = [(k.encode(), v.encode()) for k, v in resp.headers]
        headers.append((b"content-length", str(len(resp.body)).encode()))
        await send({"type": "http.response.start", "status": resp.status, "headers": headers})
        await send({"type": "http.response.body", "body": resp.body})

    def _health(self) -> RawResponse:
        try:
            with self.rt.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            disk = disk_problems(self.rt.settings.data_dir, self.rt.settings.blobs.min_free_bytes)
            if disk:  # a full or read-only data folder: writes would fail with 503 ServiceUnavailable
                body, code = {"status": "error", "error": "; ".join(disk), "disk": disk}, 503
            else:
                body, code = {"status": "ok", "analyzers": self.rt.analyzers.types()}, 200
        except Exception as exc:  # report, never raise
            body, code = {"status": "error", "error": str(exc)}, 503
        return RawResponse(code, [("content-type", "application/json")], json.dumps(body).encode())

    def _client_ip(self, scope: dict[str, Any], forwarded_for: list[str]) -> str:
        peer = scope.get("client")
        return self.rt.audit.client_ip(str(peer[0]) if peer else "", forwarded_for)

    async def _serve_blob(self, scope: dict[str, Any], send: Any, method: str) -> None:
        raw_path = scope.get("raw_path") or scope["path"].encode()
        path = raw_path.decode("latin-1").split("?")[0]
        qs = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        auth = (qs.get("auth_key") or [""])[0]
        if not auth or not self.rt.urls.verify(path, auth):
            await self._send(send, RawResponse(403, [("content-type", "text/plain")], b"invalid or expired auth_key"))
            return
        try:  # off the event loop: an object store's path() may download the blob first
            file = await asyncio.get_running_loop().run_in_executor(
                self.pool, self.rt.blobs.path, unquote(path[len(BLOB_PREFIX) :]))
        except BlobKeyError:
            await self._send(send, RawResponse(404, [("content-type", "text/plain")], b"not found"))
            return
        if not file.is_file():
            await self._send(send, RawResponse(404, [("content-type", "text/plain")], b"not found"))
            return
        blob_key = unquote(path[len(BLOB_PREFIX) :])  # Checking / Blocked: only the audit security IPs
        forwarded = [v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == b"x-forwarded-for"]
        if self.rt.audit.media_blocked(blob_key, self._client_ip(scope, forwarded)):
            await self._send(send, RawResponse(403, [("content-type", "text/plain")], b"the video is blocked or under review"))
            return
        ctype = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        size = file.stat().st_size
        # One byte range (RFC 9110 §14): HTML5 players seek with it (the console's player, any <video>).
        start, end, status = 0, size - 1, 200
        headers = [(b"content-type", ctype.encode()), (b"accept-ranges", b"bytes")]
        rng = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == b"range"), "")
        m = _RANGE.fullmatch(rng.strip()) if rng else None
        if m and (m.group(1) or m.group(2)):
            if m.group(1):
                start = int(m.group(1))
                end = min(size - 1, int(m.group(2))) if m.group(2) else size - 1
            else:  # a suffix: the last N bytes
                start = max(0, size - int(m.group(2)))
            if start >= size or start > end:
                await self._send(send, RawResponse(416, [("content-range", f"bytes */{size}")], b""))
                return
            status = 206
            headers.append((b"content-range", f"bytes {start}-{end}/{size}".encode()))
        length = max(0, end - start + 1)
        headers.append((b"content-length", str(length).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if method == "HEAD":
            await send({"type": "http.response.body", "body": b""})
            return
        loop = asyncio.get_running_loop()
        with open(file, "rb") as fh:
            fh.seek(start)
            left = length
            while True:
                chunk = await loop.run_in_executor(self.pool, fh.read, min(CHUNK, left))
                left -= len(chunk)
                more = left > 0 and len(chunk) > 0
                await send({"type": "http.response.body", "body": chunk, "more_body": more})
                if not more:
                    break
