"""Replay stores: in-process and shared-memory (across processes)."""

from __future__ import annotations

import multiprocessing as mp
import time

from openvod.api.nonces import MemoryNonceStore, SharedNonceStore


def test_memory_store_refuses_reuse_until_expiry() -> None:
    s = MemoryNonceStore()
    t = time.time()
    assert s.use("k", "n1", t + 60)
    assert not s.use("k", "n1", t + 60)
    assert s.use("k2", "n1", t + 60)  # per AccessKey
    assert s.use("k", "old", t - 1)  # already expired: remembered for nothing
    assert s.use("k", "old", t + 60)


def _child(name: str, slots: int, lock, out) -> None:  # type: ignore[no-untyped-def]
    s = SharedNonceStore(lock, slots=slots, name=name)
    out.put([s.use("k", f"n{i}", time.time() + 60) for i in range(200)])
    s.close()


def test_shared_store_sees_nonces_used_by_another_process() -> None:
    ctx = mp.get_context("spawn")
    lock = ctx.Lock()
    s = SharedNonceStore(lock, slots=1024)
    try:
        assert all(s.use("k", f"n{i}", time.time() + 60) for i in range(100))
        q = ctx.Queue()
        p = ctx.Process(target=_child, args=(*s.attach_args(), lock, q))
        p.start()
        seen = q.get(timeout=60)
        p.join(30)
        assert seen[:100] == [False] * 100 and seen[100:] == [True] * 100
        assert not s.use("k", "n150", time.time() + 60)
    finally:
        s.close()


def test_shared_store_full_table_evicts_the_oldest() -> None:
    ctx = mp.get_context("spawn")
    s = SharedNonceStore(ctx.Lock(), slots=64)
    try:
        t = time.time()
        for i in range(500):
            assert s.use("k", f"n{i}", t + 60 + i)
        assert not s.use("k", "n499", t + 600)  # the newest survive
    finally:
        s.close()
