"""Console users and their sessions.

A console user belongs to one account (``openvod console-user add --account A``) and sees only that
account. Passwords are stored as argon2id hashes (argon2-cffi). A session is a random token in an
HttpOnly, SameSite=Strict cookie; the database keeps only its SHA-256, the account, the CSRF token
every write must echo, and an absolute expiry.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from openvod.store.tables import accounts, console_sessions, console_users
from openvod.util import new_id, now

if TYPE_CHECKING:
    from openvod.runtime import Runtime

_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
MIN_PASSWORD = 8
# Password guessing: after MAX_FAILURES wrong passwords for one user name within FAILURE_WINDOW_S,
# that name cannot sign in (even with the right password) until the window has passed.
MAX_FAILURES = 10
FAILURE_WINDOW_S = 300.0


class ConsoleUserError(ValueError):
    """A user-facing problem with a console user (shown by the CLI)."""


@dataclass(frozen=True)
class Session:
    """A live console session."""

    token_hash: str
    user_id: str
    username: str
    account_id: str
    account_name: str
    csrf: str
    expires_at: float


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ConsoleAuth:
    """Users, sign-in and sessions (every query is by user or by session token; nothing lists accounts)."""

    def __init__(self, rt: Runtime):
        self.rt = rt
        self._failures: dict[str, tuple[int, float]] = {}  # user name -> (count, first failure time)
        self._lock = threading.Lock()

    def locked(self, username: str) -> bool:
        with self._lock:
            n, first = self._failures.get(username.strip(), (0, 0.0))
            if n and now() - first > FAILURE_WINDOW_S:
                self._failures.pop(username.strip(), None)
                return False
            return n >= MAX_FAILURES

    def _failed(self, username: str) -> None:
        with self._lock:
            if len(self._failures) > 100_000:
                self._failures.clear()
            n, first = self._failures.get(username, (0, now()))
            self._failures[username] = (n + 1, first)

    # ------------------------------------------------------------------ users (CLI)
    def add_user(self, account_name: str, username: str, password: str) -> str:
        username = username.strip()
        if not username or len(username) > 128:
            raise ConsoleUserError("a user name is 1 to 128 characters")
        if len(password) < MIN_PASSWORD:
            raise ConsoleUserError(f"a password has at least {MIN_PASSWORD} characters")
        acc_id = self.rt.accounts.find_account(account_name)
        if acc_id is None:
            raise ConsoleUserError(f"no account named {account_name!r}")
        uid = new_id()
        try:
            with self.rt.engine.begin() as conn:
                conn.execute(insert(console_users).values(
                    id=uid, account_id=acc_id, username=username, password_hash=_hasher.hash(password), created_at=now()))
        except IntegrityError:
            raise ConsoleUserError(f"a console user named {username!r} exists already") from None
        return uid

    def set_password(self, username: str, password: str) -> bool:
        if len(password) < MIN_PASSWORD:
            raise ConsoleUserError(f"a password has at least {MIN_PASSWORD} characters")
        with self.rt.engine.begin() as conn:
            row = conn.execute(select(console_users.c.id).where(console_users.c.username == username)).first()
            if row is None:
                return False
            conn.execute(update(console_users).where(console_users.c.id == row.id)
                         .values(password_hash=_hasher.hash(password)))
            conn.execute(delete(console_sessions).where(console_sessions.c.user_id == row.id))
        return True

    def remove_user(self, username: str) -> bool:
        with self.rt.engine.begin() as conn:
            row = conn.execute(select(console_users.c.id).where(console_users.c.username == username)).first()
            if row is None:
                return False
            conn.execute(delete(console_sessions).where(console_sessions.c.user_id == row.id))
            conn.execute(delete(console_users).where(console_users.c.id == row.id))
        return True

    def list_users(self) -> list[tuple[str, str]]:
        """(username, account name) of every console user."""
        with self.rt.engine.connect() as conn:
            rows = conn.execute(select(console_users.c.username, accounts.c.name)
                                .join(accounts, accounts.c.id == console_users.c.account_id)
                                .order_by(console_users.c.username)).all()
        return [(r.username, r.name) for r in rows]

    # ------------------------------------------------------------------ sign-in
    def sign_in(self, username: str, password: str) -> tuple[str, Session] | None:
        """(cookie token, session) for a right password, else None."""
        username = username.strip()
        if self.locked(username):
            return None
        with self.rt.engine.connect() as conn:
            row = conn.execute(select(console_users).where(console_users.c.username == username)).first()
        try:
            _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            self._failed(username)
            return None
        if row is None:
            self._failed(username)
            return None
        with self._lock:
            self._failures.pop(username, None)
        token = secrets.token_urlsafe(32)
        t = now()
        csrf = secrets.token_urlsafe(24)
        expires = t + self.rt.settings.console.session_ttl_s
        with self.rt.engine.begin() as conn:
            conn.execute(delete(console_sessions).where(console_sessions.c.expires_at < t))  # sweep dead ones
            conn.execute(insert(console_sessions).values(
                id=_hash_token(token), user_id=row.id, account_id=row.account_id, csrf=csrf,
                expires_at=expires, created_at=t))
        sess = self.session(token)
        assert sess is not None
        return token, sess

    def session(self, token: str) -> Session | None:
        """The live session of a cookie token, or None (unknown or expired)."""
        if not token or len(token) > 128:
            return None
        q = (select(console_sessions, console_users.c.username, accounts.c.name.label("account_name"))
             .join(console_users, console_users.c.id == console_sessions.c.user_id)
             .join(accounts, accounts.c.id == console_sessions.c.account_id)
             .where(console_sessions.c.id == _hash_token(token)))
        with self.rt.engine.connect() as conn:
            r = conn.execute(q).first()
        if r is None or r.expires_at <= now():
            return None
        return Session(r.id, r.user_id, r.username, r.account_id, r.account_name, r.csrf, r.expires_at)

    def sign_out(self, sess: Session) -> None:
        with self.rt.engine.begin() as conn:
            conn.execute(delete(console_sessions).where(console_sessions.c.id == sess.token_hash))

    @staticmethod
    def csrf_ok(sess: Session, given: str) -> bool:
        return bool(given) and hmac.compare_digest(sess.csrf.encode(), given.encode())
