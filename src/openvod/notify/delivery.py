"""Deliver outbox events over HTTP: signed, retried with backoff, concurrent, fair between accounts.

An event is claimed with a compare-and-set on ``next_attempt_at`` so several API servers can run
deliverers side by side without sending an event twice at once. A delivery that fails for any
reason (HTTP status, a URL that cannot be parsed or is refused by the SSRF guard, DNS, connect, TLS,
timeout, or an unexpected exception) counts as an attempt; after ``max_attempts`` the event is
marked ``dead`` and kept for inspection. One bad event never blocks the others.

Delivery is at least once (a receiver that answers 200 too late, or a deliverer killed between the
send and recording it, gets the event again), so every request carries ``X-Openvod-Dedupe-Key``:
``<JobId>:<EventType>``, the same on every retry and redelivery of one event and different for any
two events (the outbox holds one row per job, event type and ``seq``; upload events get a fresh id
of their own in ``job_id``). A job run again by ``openvod jobs requeue`` ends with a new event whose
``seq`` is 1, 2, …: its key is ``<JobId>:<EventType>:<seq>``. The key is a header only: the JSON
body keeps the cloud's schema.

Sends run on a pool of ``concurrency`` threads. A destination (scheme, host, port) never gets more
than ``per_destination`` sends at once and an account never more than ``per_account``, and free
slots are handed out round-robin between accounts, so one tenant's hanging receiver ties up at
most a few threads and never delays another tenant's callbacks. Connections go to the address the
SSRF guard vetted (:mod:`openvod.netconnect`), so DNS rebinding cannot redirect a callback.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine, func, select, update

from openvod.config import Settings
from openvod.net import UnsafeTarget
from openvod.netconnect import pinned_client
from openvod.store.tables import outbox


class _Store(Protocol):
    """What the deliverer uses of the runtime: the database and the callback settings."""

    engine: Engine
    settings: Settings

log = logging.getLogger(__name__)


def vod_signature(url: str, timestamp: int, key: str) -> str:
    """X-VOD-SIGNATURE = md5(CallbackURL|timestamp|key), lower-case hex (spec §13.4)."""
    return hashlib.md5(f"{url}|{timestamp}|{key}".encode()).hexdigest()


DEDUPE_HEADER = "X-Openvod-Dedupe-Key"


def dedupe_key(job_id: str, event_type: str, seq: int = 0) -> str:
    """The value of ``X-Openvod-Dedupe-Key``: stable across retries, unique per (job, event type, run)."""
    return f"{job_id}:{event_type}" + (f":{seq}" if seq else "")


def destination(url: str) -> str:
    """The connection target a per-destination limit counts: ``scheme://host:port`` (the URL if unparsable)."""
    try:
        p = urlsplit(url)
        port = p.port or (443 if p.scheme == "https" else 80)
        return f"{p.scheme}://{(p.hostname or '').lower()}:{port}"
    except ValueError:
        return "invalid:" + url


def _dest_patterns(dests: list[str]) -> list[str]:
    """LIKE patterns (on the lower-cased URL) matching every URL of these destinations."""
    out: list[str] = []
    for d in dests:
        if d.startswith("invalid:"):
            continue
        scheme, _, hostport = d.partition("://")
        host, _, port = hostport.rpartition(":")
        esc = host.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        netlocs = [f"{esc}:{port}"]
        if (scheme, port) in (("http", "80"), ("https", "443")):
            netlocs.append(esc)
        if ":" in host:  # IPv6 literal: written in brackets
            netlocs = [f"[{esc}]:{port}"] + ([f"[{esc}]"] if len(netlocs) > 1 else [])
        for n in netlocs:
            out += [f"{scheme}://{n}/%", f"{scheme}://{n}?%", f"{scheme}://{n}"]
    return out


@dataclass
class _InFlight:
    account_id: str
    dest: str
    url: str


class OutboxDeliverer:
    """A dispatcher thread that drains the outbox onto a pool of sender threads."""

    def __init__(self, rt: _Store):
        self.rt = rt
        self.cfg = rt.settings.callbacks
        self.concurrency = max(1, self.cfg.concurrency)
        self.per_destination = max(1, self.cfg.per_destination)
        self.per_account = max(1, min(self.cfg.per_account, self.concurrency))
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._inflight: dict[int, _InFlight] = {}
        self._futures: set[Future[None]] = set()
        self._rr = 0  # rotating start of the round-robin between accounts
        self.pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="callback")
        self.client = pinned_client(self.cfg.allow_private_targets, httpx.Timeout(self.cfg.timeout_s))

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="callback-dispatch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(5)
        self.pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + self.cfg.timeout_s + 2
        for f in list(self._futures):
            try:
                f.result(max(0.0, deadline - time.monotonic()))
            except Exception:
                pass
        self.client.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                n = self.dispatch()
            except Exception:  # e.g. the database is locked or the disk is full: try again later
                log.exception("outbox pass failed")
                n = 0
            if not n:
                self._wake.wait(self.cfg.poll_interval_s)
                self._wake.clear()

    # ------------------------------------------------------------------ dispatch
    def _claim_hold_s(self) -> float:
        # Longer than one send can take (connect + write + read timeouts, and a second address).
        return self.cfg.timeout_s * 6 + 5

    def _backoff(self, attempts: int) -> float:
        return min(self.cfg.backoff_max_s, self.cfg.backoff_initial_s * self.cfg.backoff_factor ** max(0, attempts - 1))

    def _candidates(self, blocked_dests: list[str]) -> dict[str, deque[Any]]:
        """Due pending events, at most a few per account (the oldest first), grouped by account.

        Events for a destination already at its limit are left out in SQL, so an account's events
        for a hanging receiver never hide its events for another receiver."""
        t = time.time()
        per_acct = self.per_account * 2 + self.per_destination
        cond = [outbox.c.status == "pending", outbox.c.next_attempt_at <= t]
        for pattern in _dest_patterns(blocked_dests):
            cond.append(func.lower(outbox.c.url).notlike(pattern, escape="\\"))
        rn = (
            func.row_number()
            .over(partition_by=outbox.c.account_id, order_by=(outbox.c.next_attempt_at, outbox.c.id))
            .label("rn")
        )
        inner = select(outbox, rn).where(*cond).subquery()
        q = select(inner).where(inner.c.rn <= per_acct).order_by(inner.c.next_attempt_at, inner.c.id).limit(2000)
        with self.rt.engine.connect() as conn:
            rows = conn.execute(q).all()
        out: dict[str, deque[Any]] = {}
        for r in rows:
            out.setdefault(r.account_id, deque()).append(r)
        return out

    def dispatch(self) -> int:
        """Start sends for due events while slots are free; returns how many were started."""
        with self._lock:
            if len(self._inflight) >= self.concurrency:
                return 0
            dest_count: dict[str, int] = {}
            acct_count: dict[str, int] = {}
            for f in self._inflight.values():
                dest_count[f.dest] = dest_count.get(f.dest, 0) + 1
                acct_count[f.account_id] = acct_count.get(f.account_id, 0) + 1
            blocked = sorted({f.dest for f in self._inflight.values() if dest_count[f.dest] >= self.per_destination})
            busy_ids = set(self._inflight)
        queues = self._candidates(blocked)
        if not queues:
            return 0
        accounts = sorted(queues)
        self._rr = (self._rr + 1) % len(accounts)
        accounts = accounts[self._rr :] + accounts[: self._rr]
        started = 0
        free = self.concurrency - len(busy_ids)
        while free > 0 and accounts and not self._stop.is_set():
            for acct in list(accounts):  # one event per account per round: fair shares
                q = queues[acct]
                row = None
                while q:
                    cand = q.popleft()
                    d = destination(cand.url)
                    if cand.id in busy_ids or dest_count.get(d, 0) >= self.per_destination:
                        continue
                    row = cand
                    break
                if row is None or acct_count.get(acct, 0) >= self.per_account:
                    accounts.remove(acct)
                    continue
                if not self._claim(row):
                    continue  # another deliverer took it
                d = destination(row.url)
                dest_count[d] = dest_count.get(d, 0) + 1
                acct_count[acct] = acct_count.get(acct, 0) + 1
                busy_ids.add(row.id)
                self._start(row, d)
                started += 1
                free -= 1
                if free <= 0:
                    break
        return started

    def _claim(self, r: Any) -> bool:
        """Push ``next_attempt_at`` past the send's longest duration so no other deliverer takes it meanwhile."""
        with self.rt.engine.begin() as conn:
            return bool(
                conn.execute(
                    update(outbox)
                    .where(outbox.c.id == r.id, outbox.c.status == "pending", outbox.c.next_attempt_at == r.next_attempt_at)
                    .values(next_attempt_at=time.time() + self._claim_hold_s())
                ).rowcount
            )

    def _start(self, r: Any, dest: str) -> None:
        with self._lock:
            self._inflight[r.id] = _InFlight(r.account_id, dest, r.url)
        try:
            fut = self.pool.submit(self._send, r)
        except RuntimeError:  # shutting down; the claim expires and the event is retried later
            with self._lock:
                self._inflight.pop(r.id, None)
            return
        self._futures.add(fut)
        fut.add_done_callback(self._futures.discard)

    def _send(self, r: Any) -> None:
        try:
            self._deliver(r)
        except Exception:  # recording the outcome failed (database locked, disk full): the claim expires
            log.exception("could not record a callback outcome", extra={"job_id": r.job_id})
        finally:
            with self._lock:
                self._inflight.pop(r.id, None)
            self._wake.set()

    def run_once(self, timeout: float | None = None) -> int:
        """Start every send that may start now and wait for them to end (tests, one-shot tools)."""
        n = self.dispatch()
        deadline = time.monotonic() + (timeout if timeout is not None else self._claim_hold_s())
        for f in list(self._futures):
            try:
                f.result(max(0.0, deadline - time.monotonic()))
            except Exception:
                pass
        return n

    # ------------------------------------------------------------------ one send
    def _deliver(self, r: Any) -> None:
        error = ""
        try:
            headers = {"Content-Type": "application/json", DEDUPE_HEADER: dedupe_key(r.job_id, r.event_type, r.seq)}
            if r.auth_key:
                ts = int(time.time())
                headers["X-VOD-TIMESTAMP"] = str(ts)
                headers["X-VOD-SIGNATURE"] = vod_signature(r.url, ts, r.auth_key)
            resp = self.client.post(r.url, content=r.body.encode(), headers=headers)
            if resp.status_code == 200:
                with self.rt.engine.begin() as conn:
                    conn.execute(
                        update(outbox)
                        .where(outbox.c.id == r.id)
                        .values(status="delivered", attempts=r.attempts + 1, delivered_at=time.time(), last_error="")
                    )
                log.info("callback delivered", extra={"job_id": r.job_id, "event": r.event_type, "attempt": r.attempts + 1})
                return
            error = f"HTTP {resp.status_code}"
        except UnsafeTarget as exc:
            error = f"refused target: {exc}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # a URL httpx cannot even parse, an IDNA error, anything: still an attempt
            error = f"{type(exc).__name__}: {exc}"
        attempts = r.attempts + 1
        dead = attempts >= self.cfg.max_attempts
        with self.rt.engine.begin() as conn:
            conn.execute(
                update(outbox)
                .where(outbox.c.id == r.id)
                .values(
                    status="dead" if dead else "pending",
                    attempts=attempts,
                    last_error=error[:1000],
                    next_attempt_at=time.time() + self._backoff(attempts),
                )
            )
        log.warning(
            "callback delivery failed",
            extra={"job_id": r.job_id, "event": r.event_type, "attempt": attempts, "error": error, "dead": dead},
        )
