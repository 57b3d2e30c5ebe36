"""Accounts and their AccessKey pairs."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import Engine, insert, select, update

from openvod.store.tables import access_keys, accounts
from openvod.util import new_id, new_secret, now

DEFAULT_ACCOUNT = "default"


@dataclass(frozen=True)
class AccessKey:
    """One AccessKey pair and the account it belongs to."""

    access_key_id: str
    secret: str
    account_id: str
    account_name: str
    status: str
    created_at: float


class AccountService:
    """Create accounts and keys; look keys up for request authentication (short in-memory cache)."""

    CACHE_TTL_S = 2.0

    def __init__(self, engine: Engine):
        self.engine = engine
        self._cache: dict[str, tuple[float, AccessKey | None]] = {}
        self._lock = threading.Lock()

    def find_account(self, name: str) -> str | None:
        """The id of the account called ``name``, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(accounts.c.id).where(accounts.c.name == name)).first()
        return str(row.id) if row else None

    def ensure_account(self, name: str) -> str:
        with self.engine.begin() as conn:
            row = conn.execute(select(accounts.c.id).where(accounts.c.name == name)).first()
            if row:
                return str(row.id)
            acc_id = new_id()
            conn.execute(insert(accounts).values(id=acc_id, name=name, created_at=now()))
            return acc_id

    def create_key(self, account_name: str) -> AccessKey:
        acc_id = self.ensure_account(account_name)
        ak = "LTAI" + new_secret(20)
        secret = new_secret(30)
        ts = now()
        with self.engine.begin() as conn:
            conn.execute(
                insert(access_keys).values(id=ak, secret=secret, account_id=acc_id, status="Active", created_at=ts)
            )
        return AccessKey(ak, secret, acc_id, account_name, "Active", ts)

    def list_keys(self, account_name: str | None = None) -> list[AccessKey]:
        q = select(access_keys, accounts.c.name).join(accounts, accounts.c.id == access_keys.c.account_id)
        if account_name:
            q = q.where(accounts.c.name == account_name)
        with self.engine.connect() as conn:
            rows = conn.execute(q.order_by(access_keys.c.created_at)).all()
        return [AccessKey(r.id, r.secret, r.account_id, r.name, r.status, r.created_at) for r in rows]

    def set_key_status(self, access_key_id: str, status: str) -> bool:
        with self.engine.begin() as conn:
            n = conn.execute(update(access_keys).where(access_keys.c.id == access_key_id).values(status=status)).rowcount
        with self._lock:
            self._cache.pop(access_key_id, None)
        return n > 0

    def bootstrap(self) -> AccessKey | None:
        """On first start, create the default account and one key; returns it, or None if keys exist."""
        with self.engine.connect() as conn:
            if conn.execute(select(access_keys.c.id).limit(1)).first():
                return None
        return self.create_key(DEFAULT_ACCOUNT)

    def lookup(self, access_key_id: str) -> AccessKey | None:
        t = time.monotonic()
        with self._lock:
            hit = self._cache.get(access_key_id)
            if hit and hit[0] > t:
                return hit[1]
        q = (
            select(access_keys, accounts.c.name)
            .join(accounts, accounts.c.id == access_keys.c.account_id)
            .where(access_keys.c.id == access_key_id)
        )
        with self.engine.connect() as conn:
            r = conn.execute(q).first()
        key = AccessKey(r.id, r.secret, r.account_id, r.name, r.status, r.created_at) if r else None
        with self._lock:
            if len(self._cache) > 10000:
                self._cache.clear()
            self._cache[access_key_id] = (t + self.CACHE_TTL_S, key)
        return key
