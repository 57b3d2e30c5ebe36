"""Callback delivery in process: a bad URL ends dead without blocking others (issue 10 #4), a hanging
receiver of one account does not delay another account's callback (#5)."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from openvod.config import CallbackSettings, Settings
from openvod.engine.registry import AnalyzerRegistry
from openvod.notify.delivery import OutboxDeliverer, destination
from openvod.runtime import Runtime
from openvod.store.tables import outbox
from tests.conftest import settings_db
from tests.receiver import CallbackReceiver


class Hanging:
    """Accepts connections and never answers; tracks how many are open at once."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(100)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/slow"
        self.open = 0
        self.max_open = 0
        self.accepted = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            with self._lock:
                self.accepted += 1
                self.open += 1
                self.max_open = max(self.max_open, self.open)
            threading.Thread(target=self._hold, args=(conn,), daemon=True).start()

    def _hold(self, conn: socket.socket) -> None:
        conn.settimeout(0.1)
        while not self._stop.is_set():
            try:
                if conn.recv(65536) == b"":
                    break  # the client gave up
            except TimeoutError:
                continue
            except OSError:
                break
        conn.close()
        with self._lock:
            self.open -= 1

    def close(self) -> None:
        self._stop.set()
        self.sock.close()


def make_rt(tmp_path: Path, **cb: Any) -> Runtime:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=settings_db(tmp_path / "data"),  # PostgreSQL mode: its own database
        callbacks=CallbackSettings(**{"allow_private_targets": True, "poll_interval_s": 0.05, **cb}),
    )
    return Runtime(settings, registry=AnalyzerRegistry())


def add_event(rt: Runtime, account: str, url: str, job: str, at: float | None = None) -> int:
    t = time.time() if at is None else at
    with rt.engine.begin() as conn:
        return int(
            conn.execute(
                insert(outbox).values(
                    account_id=account, job_id=job, event_type="AIVideoTagComplete", url=url,
                    body=json.dumps({"JobId": job}), auth_key="", status="pending", attempts=0,
                    next_attempt_at=t, created_at=t,
                )
            ).inserted_primary_key[0]
        )


def rows(rt: Runtime) -> dict[str, Any]:
    with rt.engine.connect() as conn:
        return {r.job_id: r for r in conn.execute(select(outbox)).all()}


BAD_URLS = [
    "http://[::1",  # unbalanced IPv6 bracket
    "http://127.0.0.1:99999/cb",  # port out of range
    "http://127.0.0.1:abc/cb",
    "http://127.0.0.1:-1/cb",
    "http://a..b/cb",  # empty IDNA label
    "ftp://127.0.0.1/cb",
    "not a url",
    "http://" + "x" * 300 + ".example/cb",  # a label too long for IDNA
]


def test_bad_callback_urls_end_dead_and_never_block_others(tmp_path: Path) -> None:
    rt = make_rt(tmp_path, max_attempts=3, backoff_initial_s=0.01, backoff_factor=1.0, timeout_s=2)
    rx = CallbackReceiver()
    d = OutboxDeliverer(rt)
    try:
        t0 = time.time() - 10
        for i, url in enumerate(BAD_URLS):
            add_event(rt, "acct-bad", url, f"bad{i}", at=t0 + i)  # older than the good one: first in line
        add_event(rt, "acct-bad", rx.url, "good")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            d.run_once()  # must never raise
            st = rows(rt)
            if all(r.status != "pending" for r in st.values()):
                break
            time.sleep(0.02)
        st = rows(rt)
        assert st["good"].status == "delivered" and st["good"].attempts == 1
        assert [r.body["JobId"] for r in rx.requests] == ["good"]
        for i, url in enumerate(BAD_URLS):
            r = st[f"bad{i}"]
            assert (r.status, r.attempts) == ("dead", 3), (url, r.status, r.attempts, r.last_error)
            assert r.last_error, url
    finally:
        d.stop()
        rx.close()
        rt.close()


def test_hanging_receiver_of_one_account_does_not_delay_another(tmp_path: Path) -> None:
    timeout_s = 3.0
    rt = make_rt(tmp_path, timeout_s=timeout_s, per_destination=2, concurrency=8, per_account=4,
                 backoff_initial_s=30)
    slow = Hanging()
    rx = CallbackReceiver()
    d = OutboxDeliverer(rt)
    try:
        t0 = time.time() - 5
        for i in range(20):  # account A: 20 events to a receiver that never answers, all older than B's
            add_event(rt, "acct-a", slow.url + f"/{i}", f"a{i}", at=t0 + i * 0.01)
        d.start()
        # wait until A's sends are hanging, then B's job ends
        deadline = time.monotonic() + 10
        while slow.accepted < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert slow.accepted >= 2
        t_b = time.monotonic()
        add_event(rt, "acct-b", rx.url, "b0")
        while not rx.requests and time.monotonic() < t_b + 4 * timeout_s:
            time.sleep(0.01)
        assert rx.requests, "account B's callback was not delivered"
        delay = rx.requests[0].at - t_b
        # B never waits behind one of A's hanging sends (each holds a sender for timeout_s)
        assert delay < timeout_s, delay
        end = time.monotonic() + 5
        while rows(rt)["b0"].status != "delivered" and time.monotonic() < end:
            time.sleep(0.01)
        assert (rows(rt)["b0"].status, rows(rt)["b0"].attempts) == ("delivered", 1)  # first try, not a retry
        assert slow.max_open <= 2  # the per-destination limit held
    finally:
        d.stop()
        slow.close()
        rx.close()
        rt.close()


def test_round_robin_between_accounts(tmp_path: Path) -> None:
    """With one send slot, accounts take turns even when one has many older events."""
    rt = make_rt(tmp_path, concurrency=1, per_destination=1, per_account=1)
    rx = CallbackReceiver()
    d = OutboxDeliverer(rt)
    try:
        t0 = time.time() - 10
        for i in range(6):
            add_event(rt, "acct-a", rx.url, f"a{i}", at=t0 + i)
        add_event(rt, "acct-b", rx.url, "b0", at=t0 + 9)
        order = []
        for _ in range(4):
            d.run_once()
            order = [r.body["JobId"] for r in rx.requests]
        assert "b0" in order[:2], order
    finally:
        d.stop()
        rx.close()
        rt.close()


def test_destination_key() -> None:
    assert destination("https://Example.com/a") == "https://example.com:443"
    assert destination("http://example.com:8080/a?b") == "http://example.com:8080"
    assert destination("http://[::1").startswith("invalid:")


def test_hanging_receiver_does_not_hide_the_same_accounts_other_receiver(tmp_path: Path) -> None:
    """Per destination, not per account: A's events for a hanging receiver (older, more than the
    account's candidate window) do not hold back A's event for a working receiver."""
    rt = make_rt(tmp_path, timeout_s=3.0, per_destination=2, concurrency=8, per_account=4, backoff_initial_s=30)
    slow = Hanging()
    rx = CallbackReceiver()
    d = OutboxDeliverer(rt)
    try:
        t0 = time.time() - 5
        for i in range(30):
            add_event(rt, "acct-a", slow.url + f"/{i}?x=1", f"a{i}", at=t0 + i * 0.01)
        add_event(rt, "acct-a", rx.url, "a-good", at=t0 + 1)
        d.start()
        t = time.monotonic()
        while not rx.requests and time.monotonic() < t + 2.5:
            time.sleep(0.01)
        assert [r.body["JobId"] for r in rx.requests] == ["a-good"]
        assert slow.max_open <= 2
    finally:
        d.stop()
        slow.close()
        rx.close()
        rt.close()


def test_destination_patterns_match_every_spelling() -> None:
    from openvod.notify.delivery import _dest_patterns

    pats = _dest_patterns([destination("http://Example.com/a"), destination("https://[::1]:8443/x")])
    import sqlite3

    from tests.conftest import PG_URL, TEST_DATABASE, _PgCompat

    # the patterns run on the suite's database: LIKE and its escape must mean the same on both
    db: Any = _PgCompat(PG_URL) if TEST_DATABASE == "postgresql" else sqlite3.connect(":memory:")

    def matches(url: str) -> bool:
        return any(db.execute("select lower(cast(? as text)) like ? escape '\\'", (url, p)).fetchone()[0]
                   for p in pats)

    assert matches("http://example.com/cb") and matches("HTTP://EXAMPLE.COM:80/cb?x") and matches("http://example.com")
    assert matches("https://[::1]:8443/cb")
    assert not matches("http://example.com.evil/cb") and not matches("http://example.com:81/cb")
    assert not matches("https://example.com/cb")
    db.close()
