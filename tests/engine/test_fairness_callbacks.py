"""Multi-tenant fairness, the slow-receiver half (issue 10): account A's callback receiver hangs and
A has 20 finished jobs queued for it; account B's callback still arrives on its first attempt,
sooner than one of A's sends can time out, through a real server."""

from __future__ import annotations

import json
from pathlib import Path

from alibabacloud_vod20170321 import models as m

from tests.conftest import Server, db_connect, free_port, wait_for
from tests.engine.test_delivery import Hanging
from tests.media import make_video
from tests.receiver import CallbackReceiver
from tests.sdk import new_client

TIMEOUT_S = 3.0


def test_hanging_receiver_does_not_delay_another_accounts_callback(tmp_path: Path) -> None:
    srv = Server(tmp_path / "data", free_port(), env={
        "OPENVOD_CALLBACKS__TIMEOUT_S": str(TIMEOUT_S),
        "OPENVOD_CALLBACKS__PER_DESTINATION": "2",
        "OPENVOD_CALLBACKS__BACKOFF_INITIAL_S": "30",
    }).start()
    slow, rx = Hanging(), CallbackReceiver()
    try:
        a = new_client(srv.endpoint, srv.key("tenant-a"))
        b = new_client(srv.endpoint, srv.key("tenant-b"))
        clip = make_video(tmp_path / "f.mp4", seconds=0.5)
        meta = json.dumps([{"FileURL": str(clip), "Title": "f"}])
        mids = {}
        for name, c, url in (("a", a, slow.url), ("b", b, rx.url)):
            c.set_message_callback(m.SetMessageCallbackRequest(callback_type="HTTP", callback_url=url,
                                                               event_type_list="AIComplete"))
            mids[name] = c.register_media(m.RegisterMediaRequest(register_metadatas=meta)).body.registered_media_list[0].media_id
        a_jobs = [a.submit_aijob(m.SubmitAIJobRequest(media_id=mids["a"], types="AIVideoTag")).body.aijob_list.aijob[0].job_id
                  for _ in range(20)]
        db = db_connect(srv.data_dir)
        q = f"select count(*) from outbox where job_id in ({','.join('?' * len(a_jobs))})"
        wait_for(lambda: db.execute(q, a_jobs).fetchone()[0] == 20, timeout=120)
        wait_for(lambda: slow.accepted >= 2, timeout=30)  # A's sends are hanging now
        b_job = b.submit_aijob(m.SubmitAIJobRequest(media_id=mids["b"], types="AIVideoTag")).body.aijob_list.aijob[0].job_id
        wait_for(lambda: rx.requests, timeout=60)
        assert rx.requests[0].body["JobId"] == b_job

        def b_row():  # type: ignore[no-untyped-def]
            r = db.execute("select status, attempts, created_at, delivered_at from outbox where job_id=?",
                           (b_job,)).fetchone()
            return r if r and r[0] == "delivered" else None

        status, attempts, created, delivered = wait_for(b_row, timeout=10)
        delay = delivered - created
        assert attempts == 1, attempts  # on schedule: the first attempt, no retry
        assert delay < TIMEOUT_S, f"B's callback waited {delay:.2f} s behind A's hanging receiver"
        assert slow.max_open <= 2  # A never held more than its per-destination share
        a_sent = db.execute(q.replace("count(*)", "coalesce(sum(attempts),0)"), a_jobs).fetchone()[0]
        assert a_sent < 20  # A's events are still draining slowly: B really overtook them
        db.close()
    finally:
        slow.close()
        rx.close()
        srv.stop()
