"""Replay nonces shared by several API nodes (``scale.nonce_store``), with api/nonces.py's window semantics.

A (AccessKeyId, SignatureNonce) pair accepted by any node is refused by every node until the
request's timestamp leaves the window (``api.timestamp_window_s``, either side of now).

- ``"redis"``: ``SET openvod:nonce:<digest> 1 NX PXAT <window end>``; Redis expires the key itself.
- ``"database"``: every request's nonce (read-only Actions too) is claimed in the ``request_nonces``
  table before the request runs (the same table and digest as :class:`DurableNonces`, which already
  does this for state-changing requests; here it does it for all).
- ``"local"`` (default): this process or machine only, plus the durable copy of api/nonces.py.

The node's own memory store stays in front as the fast path for replays on the same node.
"""

from __future__ import annotations

import time
from typing import Any

from openvod.api.nonces import DurableNonces, NonceStore


class RedisNonceStore:
    """Nonces in Redis, shared by every API node that points at it."""

    def __init__(self, url: str, prefix: str = "openvod:nonce:", client: Any = None):
        if client is None:
            import redis

            client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.r = client
        self.prefix = prefix

    def use(self, key_id: str, nonce: str, expires_at: float) -> bool:
        ms = int(expires_at * 1000)
        if ms <= int(time.time() * 1000):  # already outside the window: nothing to remember
            return True
        return bool(self.r.set(self.prefix + DurableNonces.digest(key_id, nonce), b"1", nx=True, pxat=ms))


class ChainedNonceStore:
    """The node's own store first (cheap), then the shared one."""

    def __init__(self, local: NonceStore, shared: NonceStore):
        self.local, self.shared = local, shared

    def use(self, key_id: str, nonce: str, expires_at: float) -> bool:
        return self.local.use(key_id, nonce, expires_at) and self.shared.use(key_id, nonce, expires_at)


class SharedDurableNonces(DurableNonces):
    """:class:`DurableNonces` that claims every nonce synchronously (read-only requests too)."""

    def use(self, key_id: str, nonce: str, expires_at: float, *, sync: bool) -> bool:
        return super().use(key_id, nonce, expires_at, sync=True)


def install(app: Any, settings: Any) -> None:
    """Point an :class:`openvod.app.OpenVodApp`'s replay check at the store ``scale.nonce_store`` names."""
    mode = settings.scale.nonce_store.lower()
    rpc = app.rpc
    if mode == "local":
        return
    if mode == "redis":
        if not settings.scale.redis_url:
            raise SystemExit("openvod: scale.nonce_store = 'redis' needs scale.redis_url")
        rpc.nonces = ChainedNonceStore(rpc.nonces, RedisNonceStore(settings.scale.redis_url))
        return
    if mode == "database":
        if rpc.durable is not None:
            rpc.durable.close()
        rpc.durable = SharedDurableNonces(rpc.rt.engine, rpc.window)
        return
    raise SystemExit(f"openvod: scale.nonce_store must be local, database or redis, got {mode!r}")
