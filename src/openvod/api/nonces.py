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
            self.shm.buf[:] = b"\x00" * (slots * _SLOT.size)
            self.owner = True
        else:
            self.shm = shared_memory.SharedMemory(name=name)
            self.owner = False
        self.buf = self.shm.buf

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
