"""Per-AccessKey fairness at the thread pool (issue 10, defect 7): one key runs at most
``api.max_running_per_key`` requests on the pool at once (``max_registrations_per_key`` on the RegisterMedia pool); its further requests wait without a thread,
and another key's request is served meanwhile. No timings: the slow tenant is held on an Event."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import pytest

from openvod.api import signing
from openvod.api.rpc import RawRequest, RawResponse, peek_access_key
from openvod.app import OpenVodApp
from openvod.config import ApiSettings, BlobSettings, MediaSettings, Settings
from openvod.engine.registry import AnalyzerRegistry
from openvod.runtime import Runtime
from tests.sdk import v1_params
from tests.conftest import settings_db


def _runtime(tmp_path: Path, per_key: int) -> Runtime:
    s = Settings(data_dir=tmp_path / "data", database_url=settings_db(tmp_path / "data"),
                 media=MediaSettings(allowed_roots=[str(tmp_path)]),
                 blobs=BlobSettings(min_free_bytes=0), api=ApiSettings(max_running_per_key=per_key))
    return Runtime(s, registry=AnalyzerRegistry())


@pytest.fixture
def rt1(tmp_path: Path) -> Iterator[Runtime]:
    r = _runtime(tmp_path, 1)
    yield r
    r.close()


def _tenant(rt: Runtime, account: str) -> tuple[str, Any]:
    """The tenant's AccessKeyId, and a maker of freshly signed ListAITemplate queries (new nonce each)."""
    k = rt.accounts.create_key(account)
    key = SimpleNamespace(id=k.access_key_id, secret=k.secret)

    def query() -> bytes:
        p = v1_params(key, "ListAITemplate", {"TemplateType": "AIImage"})
        p["Signature"] = signing.v1_sign(key.secret, signing.v1_string_to_sign("GET", p))
        return urlencode(p).encode()

    return k.access_key_id, query


async def _call(app: OpenVodApp, query: bytes) -> tuple[int, dict[str, Any]]:
    scope = {"type": "http", "method": "GET", "path": "/", "query_string": query,
             "headers": [(b"host", b"localhost"), (b"accept", b"application/json")]}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(msg: dict[str, Any]) -> None:
        sent.append(msg)

    await app(scope, receive, send)
    return sent[0]["status"], json.loads(sent[1]["body"])


def _hold_key(app: OpenVodApp, key_id: str) -> tuple[threading.Event, list[int]]:
    """Requests of ``key_id`` block in the handler (on a pool thread) until the Event is set."""
    release, inside = threading.Event(), [0]
    real = app.rpc.handle
    lock = threading.Lock()

    def handle(req: RawRequest) -> RawResponse:
        if key_id.encode() in req.query_string:
            with lock:
                inside[0] += 1
            assert release.wait(30)
        return real(req)

    app.rpc.handle = handle  # type: ignore[method-assign]
    return release, inside


async def _until(cond: Any) -> None:
    for _ in range(1000):
        if cond():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


def test_other_tenant_is_served_while_one_tenants_queue_is_full(rt1: Runtime) -> None:
    app = OpenVodApp(rt1, threads=4)
    assert app.gate.limit == 1 and app.heavy_gate.limit == rt1.settings.api.max_registrations_per_key == 2
    a_id, a_q = _tenant(rt1, "tenant-a")
    _, b_q = _tenant(rt1, "tenant-b")
    release, inside = _hold_key(app, a_id)

    async def scenario() -> None:
        a_tasks = [asyncio.create_task(_call(app, a_q())) for _ in range(3)]
        await _until(lambda: inside[0] == 1)
        await asyncio.sleep(0.1)
        assert inside[0] == 1, "tenant A runs more than max_running_per_key=1 requests at once"
        assert not any(t.done() for t in a_tasks)
        status, body = await asyncio.wait_for(_call(app, b_q()), 20)  # B: a pool Action, served now
        assert status == 200, body
        assert body["TemplateInfoList"] == [] and not any(t.done() for t in a_tasks)
        release.set()
        for status, body in await asyncio.wait_for(asyncio.gather(*a_tasks), 30):
            assert status == 200 and "TemplateInfoList" in body
        assert inside[0] == 3 and len(app.gate) == 0  # an idle key's entry is dropped

    try:
        asyncio.run(scenario())
    finally:
        release.set()
        app.pool.shutdown(wait=True)
        app.heavy_pool.shutdown(wait=True)


def test_limit_zero_turns_the_gate_off(tmp_path: Path) -> None:
    rt = _runtime(tmp_path, 0)
    app = OpenVodApp(rt, threads=4)
    a_id, a_q = _tenant(rt, "tenant-a")
    release, inside = _hold_key(app, a_id)

    async def scenario() -> None:
        tasks = [asyncio.create_task(_call(app, a_q())) for _ in range(3)]
        await _until(lambda: inside[0] == 3)  # all three on pool threads at once
        release.set()
        assert all(s == 200 for s, _ in await asyncio.wait_for(asyncio.gather(*tasks), 30))

    try:
        asyncio.run(scenario())
    finally:
        release.set()
        app.pool.shutdown(wait=True)
        app.heavy_pool.shutdown(wait=True)
        rt.close()


def test_a_waiting_request_that_is_cancelled_frees_nothing_it_did_not_hold(rt1: Runtime) -> None:
    app = OpenVodApp(rt1, threads=4)
    a_id, a_q = _tenant(rt1, "tenant-a")
    release, inside = _hold_key(app, a_id)

    async def scenario() -> None:
        first = asyncio.create_task(_call(app, a_q()))
        await _until(lambda: inside[0] == 1)
        waiting = asyncio.create_task(_call(app, a_q()))
        await asyncio.sleep(0.05)
        waiting.cancel()  # the client went away while queued
        with pytest.raises(asyncio.CancelledError):
            await waiting
        third = asyncio.create_task(_call(app, a_q()))
        await asyncio.sleep(0.1)
        assert inside[0] == 1  # the cancelled waiter did not release the running request's slot
        release.set()
        assert (await first)[0] == 200 and (await third)[0] == 200
        assert inside[0] == 2 and len(app.gate) == 0

    try:
        asyncio.run(scenario())
    finally:
        release.set()
        app.pool.shutdown(wait=True)
        app.heavy_pool.shutdown(wait=True)


def test_peek_access_key_reads_the_key_the_request_is_authenticated_with() -> None:
    form = {"content-type": ["application/x-www-form-urlencoded"]}
    assert peek_access_key(b"Action=X&AccessKeyId=ak1&x=1", {}, b"") == "ak1"
    assert peek_access_key(b"AccessKeyId=a%2Bb+c", {}, b"") == "a+b c"
    # the query wins over the form body, as in RpcApi._parse (params.setdefault)
    assert peek_access_key(b"AccessKeyId=q", form, b"AccessKeyId=f") == "q"
    assert peek_access_key(b"Action=X", form, b"a=1&AccessKeyId=f") == "f"
    # a percent-encoded name is the same parameter to the parser, so it is to the gate
    assert peek_access_key(b"Access%4BeyId=real", form, b"AccessKeyId=fake") == "real"
    assert peek_access_key(b"Action=X", form, b"Access%4BeyId=real&AccessKeyId=fake") == "real"
    assert peek_access_key(b"Action=X", {}, b"AccessKeyId=f") == ""  # not a form body: not read
    v3 = {"authorization": ["ACS3-HMAC-SHA256 Credential=ak3,SignedHeaders=host,Signature=abc"]}
    assert peek_access_key(b"AccessKeyId=other", v3, b"") == "ak3"
    assert peek_access_key(b"", {"authorization": ["ACS3-HMAC-SHA256 junk"]}, b"") == ""
    assert peek_access_key(b"AccessKeyId=%ff", {}, b"") == "\ufffd"  # decoded like the parser
