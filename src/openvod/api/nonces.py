"""Replay protection: remember each (AccessKeyId, SignatureNonce) until its timestamp leaves the window.

Two stores with one contract, ``use(key_id, nonce, expires_at) -> bool`` (False = seen before):
- :class:`MemoryNonceStore` for a single API process;
- :class:`SharedNonceStore`, a fixed-size hash table in shared memory guarded by one lock, for
  several API processes on one machine (``api.processes`` > 1), so a replay cannot slip through by
  landing on another process.
"""

from __future__ import annotations

import hashlib
import struct
import threading
import time
from collections import OrderedDict
from multiprocessing import shared_memory
from typing import Any, Protocol


class NonceStore(Protocol):
    """Records nonces; ``use`` returns False when the nonce was already used and is still remembered."""

    def use(self, key_id: str, nonce: str, expires_at: float) -> bool: ...


class MemoryNonceStore:
    """An ordered dict in this process (entries expire in insertion order, within the window)."""

    def __init__(self, max_items: int = 2_000_000):
        self.max_items = max_items
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def use(self, key_id: str, nonce: str, expires_at: float) -> bool:
        t = time.time()
        k = (key_id, nonce)
        with self._lock:
            while self._seen:
                _, exp = next(iter(self._seen.items()))
                if exp > t and len(self._seen) < self.max_items:
                    break
                self._seen.popitem(last=False)
            if k in self._seen and self._seen[k] > t:
                return False
            self._seen[k] = expires_at
            self._seen.move_to_end(k)
            return True


_SLOT = struct.Struct("<Qd")  # 64-bit hash of (key, nonce), expiry (unix seconds)
_PROBES = 32


class SharedNonceStore:
    """Open-addressing hash table in a SharedMemory block; safe across processes with the given lock.

    Capacity bounds memory (16 bytes a slot). A full probe run evicts the entry closest to expiry,
    which only matters beyond ``slots`` live nonces per window; size it for the peak request rate
    times the window (the default, 4M slots = 64 MiB, covers about 2,000 requests/s for 30 minutes).
    """

    def __init__(self, lock: Any, slots: int = 4_000_000, name: str | None = None):
        self.lock = lock
        self.slots = slots
        if name is None:
            self.shm = shared_memory.SharedMemory(create=True, size=slots * _SLOT.size)
            buf = self.shm.buf
            assert buf is not None
            buf[:] = b"\x00" * (slots * _SLOT.size)
            self.owner = True
        else:
            self.shm = shared_memory.SharedMemory(name=name)
            self.owner = False
        buf = self.shm.buf
        assert buf is not None
        self.buf: memoryview = buf

    def attach_args(self) -> tuple[str, int]:
        """What another process passes to ``SharedNonceStore(lock, slots, name)``."""
        return self.shm.name, self.slots

    def use(self, key_id: str, nonce: str, expires_at: float) -> bool:
        h = int.from_bytes(hashlib.blake2b(f"{key_id}\x00{nonce}".encode(), digest_size=8).digest(), "little") or 1
        t = time.time()
        start = h % self.slots
        with self.lock:
            free = -1
            oldest, oldest_exp = start, float("inf")
            for i in range(_PROBES):
                idx = (start + i) % self.slots
                key, exp = _SLOT.unpack_from(self.buf, idx * _SLOT.size)
                if key == h and exp > t:
                    return False
                if free < 0 and (key == 0 or exp <= t):
                    free = idx
                if exp < oldest_exp:
                    oldest, oldest_exp = idx, exp
            _SLOT.pack_into(self.buf, (free if free >= 0 else oldest) * _SLOT.size, h, expires_at)
            return True

    def close(self) -> None:
        self.buf = None  # type: ignore[assignment]
        self.shm.close()
        if self.owner:
            self.shm.unlink()


class DurableNonces:
    """The database copy of the nonce memory, so a restart does not reopen the replay window.

    Every signed request's (AccessKeyId, SignatureNonce) is stored, as a 128-bit digest, until its
    timestamp leaves the window. Requests that change something (every Action not marked read-only)
    are claimed synchronously, before the handler runs: a replayed SubmitAIJob is refused even right
    after a crash. Read-only requests are written in batches every ``flush_s`` seconds (a replayed
    read within that moment before a kill -9 could pass; it changes nothing), and looked up only
    while they may predate this process (their timestamp is within one window of its start).
    The in-memory / shared-memory store stays in front as the fast path.
    """

    MAX_PENDING = 200_000

    def __init__(self, engine: Any, window_s: float, flush_s: float = 0.2, purge_s: float = 60.0):
        from openvod.store.tables import request_nonces

        self.engine = engine
        self.table = request_nonces
        self.window = window_s
        self.started = time.time()
        self.flush_s, self.purge_s = flush_s, purge_s
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_purge = 0.0
        self._dialect = engine.dialect.name

    @staticmethod
    def digest(key_id: str, nonce: str) -> str:
        return hashlib.blake2b(f"{key_id}\x00{nonce}".encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()

    def use(self, key_id: str, nonce: str, expires_at: float, *, sync: bool) -> bool:
        """False when an earlier (or this) process accepted the nonce and it is still in the window."""
        d = self.digest(key_id, nonce)
        if sync:
            return self._claim(d, expires_at)
        ts = expires_at - self.window - 1
        if ts < self.started + self.window and self._seen(d):
            return False
        with self._lock:
            if len(self._pending) < self.MAX_PENDING:
                self._pending.append({"digest": d, "expires_at": expires_at})
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="nonce-flush", daemon=True)
                self._thread.start()
        return True

    def _seen(self, d: str) -> bool:
        from sqlalchemy import select

        t = self.table
        with self.engine.connect() as conn:
            row = conn.execute(select(t.c.expires_at).where(t.c.digest == d)).first()
        return row is not None and row.expires_at > time.time()

    _UPSERT = (
        "INSERT INTO request_nonces (digest, expires_at) VALUES (:digest, :expires_at) ON CONFLICT (digest) "
        "DO UPDATE SET expires_at = excluded.expires_at WHERE request_nonces.expires_at <= :now"
    )
    _INSERT_NEW = (
        "INSERT INTO request_nonces (digest, expires_at) VALUES (:digest, :expires_at) "
        "ON CONFLICT (digest) DO NOTHING"
    )

    def _insert(self, rows: list[dict[str, Any]], *, replace_expired: bool) -> int:
        """Insert; with ``replace_expired`` an expired row of the same digest is taken over. Returns the
        number of rows written (0 = the nonce is live in the table)."""
        from sqlalchemy import text

        t = self.table
        if self._dialect in ("sqlite", "postgresql"):  # both speak ON CONFLICT
            now = time.time()
            with self.engine.begin() as conn:
                if replace_expired:
                    return int(conn.execute(text(self._UPSERT), [{**r, "now": now} for r in rows]).rowcount)
                return int(conn.execute(text(self._INSERT_NEW), rows).rowcount)
        from sqlalchemy import delete
        from sqlalchemy.exc import IntegrityError

        n = 0
        for row in rows:
            try:
                with self.engine.begin() as conn:
                    conn.execute(delete(t).where(t.c.digest == row["digest"], t.c.expires_at <= time.time()))
                    conn.execute(t.insert().values(**row))
                n += 1
            except IntegrityError:
                pass
        return n

    def _claim(self, d: str, expires_at: float) -> bool:
        return self._insert([{"digest": d, "expires_at": expires_at}], replace_expired=True) == 1

    def flush(self) -> None:
        with self._lock:
            rows, self._pending = self._pending, []
        if rows:
            self._insert(rows, replace_expired=False)
        if time.monotonic() >= self._next_purge:
            self._next_purge = time.monotonic() + self.purge_s
            from sqlalchemy import delete

            with self.engine.begin() as conn:
                conn.execute(delete(self.table).where(self.table.c.expires_at <= time.time()))

    def _run(self) -> None:
        import logging

        while not self._stop.wait(self.flush_s):
            try:
                self.flush()
            except Exception:  # keep the pending rows for the next pass; never kill the thread
                logging.getLogger(__name__).exception("nonce flush failed")

    def close(self) -> None:
        self._stop.set()
        try:
            self.flush()
        except Exception:
            pass
