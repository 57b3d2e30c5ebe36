"""Every callback request carries ``X-Openvod-Dedupe-Key``: the same value on a retry and on a
redelivery of one event, a different value for another job or another event type (issue 11)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from sqlalchemy import insert, update

from openvod.notify.delivery import DEDUPE_HEADER, OutboxDeliverer, dedupe_key
from openvod.store.tables import outbox
from tests.engine.test_delivery import make_rt, rows
from tests.receiver import CallbackReceiver


def _add(rt, job: str, event: str, url: str) -> None:  # type: ignore[no-untyped-def]
    t = time.time()
    with rt.engine.begin() as conn:
        conn.execute(insert(outbox).values(
            account_id="acct", job_id=job, event_type=event, url=url, body=json.dumps({"JobId": job, "EventType": event}),
            auth_key="", status="pending", attempts=0, next_attempt_at=t, created_at=t))


def _drain(rt, d: OutboxDeliverer) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(r.status == "pending" for r in rows(rt).values()):
        d.run_once()
        time.sleep(0.02)


def test_dedupe_key_is_stable_across_retries_and_redelivery(tmp_path: Path) -> None:
    rt = make_rt(tmp_path, max_attempts=5, backoff_initial_s=0.01, backoff_factor=1.0, timeout_s=2)
    rx = CallbackReceiver(fail_first=2)  # the first two sends get HTTP 500: retried
    d = OutboxDeliverer(rt)
    try:
        _add(rt, "job1", "AIVideoTagComplete", rx.url)
        _drain(rt, d)
        st = rows(rt)["job1"]
        assert (st.status, st.attempts) == ("delivered", 3)
        keys = [h.headers[DEDUPE_HEADER] for h in rx.requests]
        assert keys == ["job1:AIVideoTagComplete"] * 3
        # A redelivery (the deliverer died after the send, before recording it): same key again.
        with rt.engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.job_id == "job1").values(status="pending", next_attempt_at=0))
        _drain(rt, d)
        assert len(rx.requests) == 4 and rx.requests[-1].headers[DEDUPE_HEADER] == "job1:AIVideoTagComplete"
        # Other events get other keys; the body is the event's own JSON, with no added field.
        _add(rt, "job2", "AIVideoTagComplete", rx.url)
        _add(rt, "job1", "AIMediaDNAComplete", rx.url)
        _drain(rt, d)
        new = {h.headers[DEDUPE_HEADER] for h in rx.requests[4:]}
        assert new == {"job2:AIVideoTagComplete", "job1:AIMediaDNAComplete"}
        assert all(set(h.body) == {"JobId", "EventType"} for h in rx.requests)
    finally:
        d.stop()
        rx.close()
        rt.close()


def test_dedupe_key_format() -> None:
    assert dedupe_key("88c6ca184c0e", "AIMediaDNAComplete") == "88c6ca184c0e:AIMediaDNAComplete"
