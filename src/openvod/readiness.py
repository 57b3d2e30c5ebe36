"""``/readyz``: is every dependency of this node reachable right now (docs/scale-out.md)?

``/healthz`` stays the liveness probe (the process answers, its database and data folder work).
``/readyz`` checks, concurrently and each within ``scale.ready_timeout_s``:

- ``database``: ``SELECT 1`` on the node's pool;
- ``disk``: the data folder takes a write and has ``blobs.min_free_bytes`` free;
- ``broker`` (when ``scale.broker_url`` is set): a connection and a channel to Redis or RabbitMQ;
- ``object_store`` (when ``blobs.backend = "s3"``): HEAD of the bucket, with a client of its own
  that neither retries nor waits longer than the timeout;
- ``nonce_store`` (when ``scale.nonce_store = "redis"``): PING to ``scale.redis_url``.

Each check reports ``ok``, ``latency_ms`` and, when it failed, ``error``. The answer is 200 when all
passed and 503 otherwise (a load balancer takes the node out of rotation), and is reused for
``scale.ready_cache_s`` so that many probes cost one round of checks.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from sqlalchemy import text

from openvod.config import Settings
from openvod.storage.health import disk_problems


def _redact(url: str) -> str:
    return url.split("@")[-1]


class Readiness:
    """The checks of one node; :meth:`report` answers ``(http_status, body)``."""

    def __init__(self, rt: Any):
        self.rt = rt
        self.settings: Settings = rt.settings
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="readyz")
        self._lock = threading.Lock()
        self._cached: tuple[float, int, dict[str, Any]] | None = None
        self._s3: Any = None
        self._redis: Any = None

    # ------------------------------------------------------------------ the checks
    def _database(self) -> None:
        with self.rt.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def _disk(self) -> None:
        problems = disk_problems(self.settings.data_dir, self.settings.blobs.min_free_bytes)
        if problems:
            raise RuntimeError("; ".join(problems))

    def _broker(self) -> None:
        from kombu import Connection

        t = self.settings.scale.ready_timeout_s
        with Connection(self.settings.scale.broker_url, connect_timeout=t,
                        transport_options={"socket_timeout": t, "socket_connect_timeout": t}) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=t)
            conn.default_channel  # noqa: B018 (opens a channel: the broker answers, not only the TCP port)

    def _object_store(self) -> None:
        c = self.settings.blobs.s3
        if self._s3 is None:
            from openvod.storage.s3 import make_s3_client

            t = self.settings.scale.ready_timeout_s
            self._s3 = make_s3_client(c.endpoint_url, c.region, c.access_key_id, c.secret_access_key,
                                      c.addressing_style, max_pool_connections=2, connect_timeout=t, read_timeout=t,
                                      max_attempts=1)
        self._s3.head_bucket(Bucket=c.bucket)

    def _nonce_store(self) -> None:
        if self._redis is None:
            import redis

            t = self.settings.scale.ready_timeout_s
            self._redis = redis.Redis.from_url(self.settings.scale.redis_url, socket_timeout=t,
                                               socket_connect_timeout=t)
        if not self._redis.ping():
            raise RuntimeError("PING was not answered")

    def checks(self) -> dict[str, tuple[Callable[[], None], str]]:
        """The checks this node's configuration needs, with what each one reaches."""
        s = self.settings
        out: dict[str, tuple[Callable[[], None], str]] = {
            "database": (self._database, self.rt.engine.url.render_as_string(hide_password=True)),
            "disk": (self._disk, str(s.data_dir)),
        }
        if s.scale.broker_url:
            out["broker"] = (self._broker, _redact(s.scale.broker_url))
        if s.blobs.backend == "s3":
            out["object_store"] = (self._object_store, f"{s.blobs.s3.endpoint_url or 'AWS S3'} bucket {s.blobs.s3.bucket}")
        if s.scale.nonce_store == "redis":
            out["nonce_store"] = (self._nonce_store, _redact(s.scale.redis_url))
        return out

    # ------------------------------------------------------------------ the report
    def run(self) -> tuple[int, dict[str, Any]]:
        timeout = self.settings.scale.ready_timeout_s
        started: dict[str, tuple[Future[None], float, str]] = {}
        for name, (fn, target) in self.checks().items():
            started[name] = (self._pool.submit(fn), time.monotonic(), target)
        results: dict[str, Any] = {}
        deadline = time.monotonic() + timeout
        for name, (fut, t0, target) in started.items():
            entry: dict[str, Any] = {"target": target}
            try:
                fut.result(max(0.0, deadline - time.monotonic()))
                entry["ok"] = True
            except FutureTimeout:
                entry.update(ok=False, error=f"no answer within {timeout:g} s")
            except Exception as exc:  # report, never raise
                entry.update(ok=False, error=f"{type(exc).__name__}: {exc}"[:500])
            entry["latency_ms"] = round((time.monotonic() - t0) * 1000, 1)
            results[name] = entry
        ok = all(r["ok"] for r in results.values())
        body = {"status": "ok" if ok else "error", "role": self.settings.scale.role, "checks": results}
        return (200 if ok else 503), body

    def report(self) -> tuple[int, bytes]:
        with self._lock:  # concurrent probes share one round of checks
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] >= self.settings.scale.ready_cache_s:
                code, body = self.run()
                self._cached = (time.monotonic(), code, body)
            _, code, body = self._cached
        return code, json.dumps(body).encode()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
