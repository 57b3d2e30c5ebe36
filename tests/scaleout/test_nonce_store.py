"""The Redis replay-nonce store (scale.nonce_store = "redis"): api/nonces.py's window semantics, shared."""

from __future__ import annotations

import time
import uuid

import pytest

from openvod.api.nonce_store import ChainedNonceStore, RedisNonceStore
from openvod.api.nonces import MemoryNonceStore
from tests.scaleout.conftest import REDIS_URL

pytestmark = pytest.mark.scaleout


def test_redis_nonces_are_shared_and_expire_with_the_window() -> None:
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception:
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"openvod:test:{uuid.uuid4().hex[:8]}:"
    node_a = ChainedNonceStore(MemoryNonceStore(), RedisNonceStore(REDIS_URL, prefix=prefix))
    node_b = ChainedNonceStore(MemoryNonceStore(), RedisNonceStore(REDIS_URL, prefix=prefix))
    until = time.time() + 1.0
    assert node_a.use("AK1", "n-1", until)
    assert not node_a.use("AK1", "n-1", until)  # replay on the same node
    assert not node_b.use("AK1", "n-1", until)  # replay on the other node
    assert node_b.use("AK2", "n-1", until)  # the same nonce of another AccessKey is another request
    assert node_a.use("AK1", "n-past", time.time() - 1)  # already outside the window: nothing kept
    time.sleep(1.2)
    assert node_b.use("AK1", "n-1", time.time() + 1.0)  # the window has passed: Redis forgot it
