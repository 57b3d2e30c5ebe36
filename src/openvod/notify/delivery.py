"""Deliver outbox events over HTTP: signed, retried with backoff, never blocking a job.

An event is claimed with a compare-and-set on ``next_attempt_at`` so several API servers can run
deliverers side by side without sending an event twice at once. A receiver that fails keeps the
event pending until ``max_attempts``; then it is marked ``dead`` and kept for inspection.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import select, update

from openvod.net import UnsafeTarget, check_http_target
from openvod.store.tables import outbox

if TYPE_CHECKING:
    from openvod.runtime import Runtime

log = logging.getLogger(__name__)


def vod_signature(url: str, timestamp: int, key: str) -> str:
    """X-VOD-SIGNATURE = md5(CallbackURL|timestamp|key), lower-case hex (spec §13.4)."""
    return hashlib.md5(f"{url}|{timestamp}|{key}".encode()).hexdigest()


class OutboxDeliverer:
    """Background thread that drains the outbox."""

    def __init__(self, rt: Runtime):
        self.rt = rt
        self.cfg = rt.settings.callbacks
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.client = httpx.Client(timeout=self.cfg.timeout_s, follow_redirects=False)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="callback-delivery", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(self.cfg.timeout_s + 2)
        self.client.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                n = self.run_once()
            except Exception:
                log.exception("outbox pass failed")
                n = 0
            if not n:
                self._stop.wait(self.cfg.poll_interval_s)

    def _backoff(self, attempts: int) -> float:
        return min(self.cfg.backoff_max_s, self.cfg.backoff_initial_s * self.cfg.backoff_factor ** max(0, attempts - 1))

    def run_once(self, limit: int = 20) -> int:
        t = time.time()
        with self.rt.engine.connect() as conn:
            rows = conn.execute(
                select(outbox)
                .where(outbox.c.status == "pending", outbox.c.next_attempt_at <= t)
                .order_by(outbox.c.next_attempt_at)
                .limit(limit)
            ).all()
        sent = 0
        for r in rows:
            if self._stop.is_set():
                break
            # Claim: push next_attempt_at past the send timeout so no other deliverer takes it meanwhile.
            with self.rt.engine.begin() as conn:
                claimed = conn.execute(
                    update(outbox)
                    .where(outbox.c.id == r.id, outbox.c.status == "pending", outbox.c.next_attempt_at == r.next_attempt_at)
                    .values(next_attempt_at=time.time() + self.cfg.timeout_s * 2 + 5)
                ).rowcount
            if claimed:
                self._deliver(r)
                sent += 1
        return sent

    def _deliver(self, r: Any) -> None:
        error = ""
        try:
            check_http_target(r.url, self.cfg.allow_private_targets)
            headers = {"Content-Type": "application/json"}
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
