"""``/readyz`` reports each dependency reachable or not, with its latency: 200 when all answer, 503
with the failing ones named when the broker, the object store or the Redis nonce store is away (a
closed port). ``/healthz`` (liveness) is unchanged. The reachable versions: tests/scaleout/test_ops.py."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from openvod.app import OpenVodApp
from openvod.config import Settings
from openvod.engine.registry import AnalyzerRegistry
from openvod.readiness import Readiness
from openvod.runtime import Runtime
from tests.conftest import settings_db


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(app: OpenVodApp, path: str) -> httpx.Response:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://node") as c:
            return await c.get(path)

    return asyncio.run(go())


def test_embedded_node_is_ready(tmp_path: Path) -> None:
    rt = Runtime(Settings(data_dir=tmp_path / "data",
                          database_url=settings_db(tmp_path / "data")), registry=AnalyzerRegistry())
    app = OpenVodApp(rt)
    try:
        r = _get(app, "/readyz")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == "ok" and body["role"] == "all"
        assert set(body["checks"]) == {"database", "disk"}  # nothing else is configured
        for c in body["checks"].values():
            assert c["ok"] is True and c["latency_ms"] >= 0 and "error" not in c
        assert _get(app, "/healthz").status_code == 200
    finally:
        app.readiness.close()
        rt.close()


@pytest.mark.parametrize("broker", ["redis", "amqp"])
def test_unreachable_dependencies_make_the_node_unready(tmp_path: Path, broker: str) -> None:
    pytest.importorskip("boto3")
    pytest.importorskip("kombu")
    pytest.importorskip("redis")
    port = closed_port()
    broker_url = f"redis://127.0.0.1:{port}/0" if broker == "redis" else f"amqp://guest:guest@127.0.0.1:{port}//"
    settings = Settings(
        data_dir=tmp_path / "data", database_url=settings_db(tmp_path / "data"),
        blobs={"backend": "s3", "s3": {"endpoint_url": f"http://127.0.0.1:{port}", "bucket": "b",
                                       "access_key_id": "k", "secret_access_key": "s", "create_bucket": False}},
        scale={"role": "api", "broker_url": broker_url, "nonce_store": "redis",
               "redis_url": f"redis://127.0.0.1:{port}/1", "ready_timeout_s": 3.0, "ready_cache_s": 0},
    )
    rt = Runtime(settings, registry=AnalyzerRegistry())
    app = OpenVodApp(rt)
    try:
        r = _get(app, "/readyz")
        assert r.status_code == 503, r.text
        body: dict[str, Any] = r.json()
        assert body["status"] == "error" and body["role"] == "api"
        checks = body["checks"]
        assert set(checks) == {"database", "disk", "broker", "object_store", "nonce_store"}
        assert checks["database"]["ok"] and checks["disk"]["ok"]
        for name in ("broker", "object_store", "nonce_store"):
            assert checks[name]["ok"] is False and checks[name]["error"], (name, checks[name])
            assert str(port) in checks[name]["target"]
            assert checks[name]["latency_ms"] < 3000 + 500  # bounded by ready_timeout_s
        assert "guest" not in r.text  # the broker's credentials are not shown
        assert _get(app, "/healthz").status_code == 200  # liveness: the node itself is fine
    finally:
        app.readiness.close()
        rt.close()


def test_answers_are_cached_for_ready_cache_s(tmp_path: Path) -> None:
    rt = Runtime(Settings(data_dir=tmp_path / "data", database_url=settings_db(tmp_path / "data"),
                          scale={"ready_cache_s": 60}), registry=AnalyzerRegistry())
    ready = Readiness(rt)
    calls: list[int] = []
    real = ready._database

    def counting() -> None:
        calls.append(1)
        real()

    ready._database = counting  # type: ignore[method-assign]
    try:
        assert ready.report()[0] == 200 and ready.report()[0] == 200
        assert len(calls) == 1
    finally:
        ready.close()
        rt.close()


def test_no_credential_in_the_answer(tmp_path: Path) -> None:
    """Passwords in a URL's query (redis-py and kombu take ``?password=``) or user info are never shown,
    neither in a check's target nor in its error."""
    pytest.importorskip("boto3")
    pytest.importorskip("kombu")
    pytest.importorskip("redis")
    port = closed_port()
    settings = Settings(
        data_dir=tmp_path / "data", database_url=settings_db(tmp_path / "data"),
        blobs={"backend": "s3", "s3": {"endpoint_url": f"http://k:hunter5@127.0.0.1:{port}", "bucket": "b",
                                       "access_key_id": "k", "secret_access_key": "hunter6", "create_bucket": False}},
        scale={"role": "api", "broker_url": f"redis://u:hunter1@127.0.0.1:{port}/0?password=hunter2",
               "nonce_store": "redis", "redis_url": f"redis://127.0.0.1:{port}/1?password=hunter3&db=1",
               "ready_timeout_s": 2.0, "ready_cache_s": 0},
    )
    rt = Runtime(settings, registry=AnalyzerRegistry())
    app = OpenVodApp(rt)
    try:
        r = _get(app, "/readyz")
        assert r.status_code == 503, r.text
        assert "hunter" not in r.text, r.text
        checks = r.json()["checks"]
        assert str(port) in checks["broker"]["target"] and str(port) in checks["nonce_store"]["target"]
    finally:
        app.readiness.close()
        rt.close()


def test_readyz_on_a_bucket_host_is_the_nodes(tmp_path: Path) -> None:
    """The API may live on a name that starts with the bucket (openvod.example.com): virtual-host
    routing sends object requests there to the object endpoint, but /readyz (like /healthz) stays the
    node's, else a load balancer probing it gets an OSS error."""
    rt = Runtime(Settings(data_dir=tmp_path / "data",
                          database_url=settings_db(tmp_path / "data")), registry=AnalyzerRegistry())
    app = OpenVodApp(rt)

    async def go(path: str) -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://openvod.example.com") as c:
            return await c.get(path)

    try:
        for path in ("/healthz", "/readyz"):
            r = asyncio.run(go(path))
            assert r.status_code == 200 and r.json()["status"] == "ok", (path, r.status_code, r.text)
    finally:
        app.readiness.close()
        rt.close()
