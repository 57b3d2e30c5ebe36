"""Scale-out end to end (``-m scaleout``): PostgreSQL, SeaweedFS (S3 blobs), 2 API nodes
(``serve --role api``), 2 Celery workers (``openvod worker``), a private Redis or RabbitMQ as the broker.

Jobs of the three types go through both official SDKs, alternating between the API nodes. While
they run: one worker is SIGKILLed (its whole process tree: a lost machine) and a new worker takes
its place, the broker restarts (a private one, started by the test: the machine's shared broker
is never touched), and one API node restarts. Every job must end ``success`` exactly once (one
success, one callback event row, one result per job and analyzer version), every callback arrives
at least once with a stable dedupe key, and every read Action and signed URL answers the same from
either node. A replayed request is refused by the other node.

OPENVOD_SCALEOUT_JOBS (default 100) sets how many jobs run (docs/scale-out.md).
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from alibabacloud_vod20170321 import models as m

from openvod.api import signing

from tests.brokers import PrivateBroker, private_broker, reachable
from tests.conftest import REPO, Key, Server, _PgCompat, free_port, pg_database, run_cli, wait_for
from tests.media import make_video
from tests.receiver import CallbackReceiver
from tests.scaleout.cluster import (
    Worker, callback_keys, children, dedupe_header_shipped, read_everywhere, runs)
from tests.scaleout.conftest import AMQP_URL, REDIS_URL
from tests.sdk import OldClient, new_client, v1_params
from tests.seaweed import SeaweedFS

pytestmark = pytest.mark.scaleout

N_JOBS = int(os.environ.get("OPENVOD_SCALEOUT_JOBS", "100"))



@pytest.fixture(scope="module", params=["redis", "rabbitmq"])
def cluster(request: pytest.FixtureRequest, seaweed: SeaweedFS,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One deployment per broker, shared by the tests of this module. The broker is a private one
    (tests/brokers.py) unless OPENVOD_TEST_REDIS_URL / OPENVOD_TEST_AMQP_URL name one: then it is not
    restarted."""
    kind = request.param
    tmp_path = tmp_path_factory.mktemp(f"cluster-{kind}")
    explicit = os.environ.get("OPENVOD_TEST_REDIS_URL" if kind == "redis" else "OPENVOD_TEST_AMQP_URL")
    broker: PrivateBroker | None = None
    apis: list[Server] = []
    workers: list[Worker] = []
    try:
        if not explicit:
            broker = private_broker(kind, tmp_path / "broker")
        url = broker.url if broker else (REDIS_URL if kind == "redis" else AMQP_URL)
        if not reachable(url):
            pytest.skip(f"no {kind} broker at {url}")
        vhost_queue_prefix = uuid.uuid4().hex[:8]
        db_url = pg_database(f"ovscale_{vhost_queue_prefix}")
        runlog = tmp_path / "runs.log"
        common = {
            "OPENVOD_DATABASE_URL": db_url,
            "OPENVOD_BLOBS__BACKEND": "s3",
            "OPENVOD_BLOBS__S3__ENDPOINT_URL": seaweed.endpoint,
            "OPENVOD_BLOBS__S3__BUCKET": "openvod-scaleout",
            "OPENVOD_BLOBS__S3__PREFIX": vhost_queue_prefix,
            "OPENVOD_BLOBS__S3__ACCESS_KEY_ID": "any",
            "OPENVOD_BLOBS__S3__SECRET_ACCESS_KEY": "any",
            "OPENVOD_BLOBS__URL_SIGNING_KEY": uuid.uuid4().hex,
            "OPENVOD_SCALE__BROKER_URL": url,
            # Queues of this run only: a shared broker may hold another run's messages.
            "OPENVOD_SCALE__QUEUES": json.dumps({t: f"{q}-{vhost_queue_prefix}" for t, q in
                                                 (("AIMediaDNA", "dna"), ("AIVideoTag", "tag"), ("AIImage", "image"))}),
            "OPENVOD_SCALE__NONCE_STORE": "database",
            "OPENVOD_SCALE__SWEEP_INTERVAL_S": "1",
            "OPENVOD_SCALE__REPUBLISH_AFTER_S": "5",
            "OPENVOD_ENGINE__LEASE_S": "4",
            "OPENVOD_ENGINE__HEARTBEAT_S": "1",
            "OPENVOD_TEST_JOB_SECONDS": "1",
            "OPENVOD_TEST_RUNLOG": str(runlog),
            "OPENVOD_LOG_JSON": "false",
        }
        apis += [Server(tmp_path / f"api{i}", free_port(), env=dict(common), args=["--role", "api"]) for i in (1, 2)]
        for a in apis:
            a.start(timeout=180)
        wenv = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                "OPENVOD_PLUGINS": '["tests.plugins:register"]', **common}
        queues = ",".join(f"{q}-{vhost_queue_prefix}" for q in ("dna", "tag", "image"))
        workers += [Worker(f"w{i}", tmp_path / f"worker{i}", wenv, queues) for i in (1, 2)]
        for w in workers:
            w.start()
        yield {"apis": apis, "workers": workers, "env": wenv, "runlog": runlog, "queues": queues,
               "db_url": db_url, "tmp": tmp_path, "broker": broker, "kind": kind}
    finally:  # every process this fixture started, whatever failed
        for w in workers:
            w.stop()
        for a in apis:
            a.stop()
        if broker is not None:
            broker.stop()


def _pending(db_url: str, job_ids: list[str]) -> int:
    db = _PgCompat(db_url)
    try:
        done = db.execute("select count(*) from jobs where id = any(?) and status in ('success', 'fail')",
                          (job_ids,)).fetchone()[0]
    finally:
        db.close()
    return len(job_ids) - int(done)


def test_jobs_survive_faults_across_two_api_nodes(cluster: dict[str, Any]) -> None:
    a, b = cluster["apis"]
    tmp: Path = cluster["tmp"]
    runlog: Path = cluster["runlog"]
    r = run_cli(a.data_dir, "keys", "create", "--account", "acme", "--json", env=cluster["env"])
    assert r.returncode == 0, r.stderr
    k = json.loads(r.stdout)
    key = Key(k["AccessKeyId"], k["AccessKeySecret"])
    new_a, new_b = new_client(a.endpoint, key), new_client(b.endpoint, key)
    old_a, old_b = OldClient(a.endpoint, key), OldClient(b.endpoint, key)
    # The first deliveries fail (HTTP 500): their events are delivered again, with the same dedupe key.
    rx = CallbackReceiver(fail_first=5, path="/vod/callback")
    faults: dict[str, Any] = {}
    broker_thread: threading.Thread | None = None
    try:
        new_b.set_message_callback(m.SetMessageCallbackRequest(callback_type="HTTP", callback_url=rx.url,
                                                               event_type_list="AIComplete,AIMediaDNAComplete"))
        (tmp / "media").mkdir(exist_ok=True)
        video = make_video(tmp / "media" / "clip.mp4", seconds=1.0)
        # Registered through node A, so node B and the workers read it from the object store.
        body = new_a.register_media(m.RegisterMediaRequest(register_metadatas=json.dumps(
            [{"FileURL": str(video), "Title": "clip"}]))).body
        assert body.failed_file_urls == [], body
        mid = body.registered_media_list[0].media_id
        tid = new_b.add_aitemplate(m.AddAITemplateRequest(
            template_name="covers", template_type="AIImage",
            template_config=json.dumps({"Format": "png", "SetDefaultCover": "false"}))).body.template_id

        def submit(i: int) -> tuple[str, str]:
            """Job ``i``: its type, node and SDK rotate (Tea V3 / old core V1 on node A / node B)."""
            kind = "AIMediaDNA" if i % 6 == 0 else "AIImage" if i % 6 == 3 else "AIVideoTag"
            new, old = (new_a, old_b) if i % 2 == 0 else (new_b, old_a)
            if kind == "AIImage":
                if i % 4 == 3:
                    return str(old.call("SubmitAIImageJob", VideoId=mid, AITemplateId=tid)["JobId"]), kind
                return str(new.submit_aiimage_job(m.SubmitAIImageJobRequest(video_id=mid, aitemplate_id=tid)).body.job_id), kind
            if i % 4 < 2:
                return str(new.submit_aijob(m.SubmitAIJobRequest(media_id=mid, types=kind)).body.aijob_list.aijob[0].job_id), kind
            return str(old.call("SubmitAIJob", MediaId=mid, Types=kind)["AIJobList"]["AIJob"][0]["JobId"]), kind

        jobs: dict[str, str] = {}  # job id -> type
        w1 = cluster["workers"][0]
        broker: PrivateBroker | None = cluster["broker"]
        t_submit = time.monotonic()
        for i in range(N_JOBS):
            if i == N_JOBS // 4:
                # A lost machine: worker 1 and its pool die while they run jobs; a new worker joins.
                wait_for(lambda: any(pid in children(w1.proc.pid) for _, pid, _ in runs(runlog)), timeout=180)
                w1_pids = children(w1.proc.pid)
                faults["killed_worker_jobs"] = {j for j, pid, _ in runs(runlog) if pid in w1_pids}
                w1.kill()
                replacement = Worker("w3", tmp / "worker3", cluster["env"], cluster["queues"])
                cluster["workers"].append(replacement)
                replacement.start()
            if i == N_JOBS // 2 and broker is not None:
                # The broker restarts (down 2 s) while both API nodes keep accepting jobs.
                faults["pending_at_broker_restart"] = _pending(cluster["db_url"], list(jobs))
                broker_thread = threading.Thread(target=lambda: faults.update(broker_down_s=broker.restart(2.0)))
                broker_thread.start()
            if i == 3 * N_JOBS // 4:
                # An API node restarts while the jobs run (its clients keep their endpoint).
                faults["pending_at_api_restart"] = _pending(cluster["db_url"], list(jobs))
                b.stop()
                b.start(timeout=180)
            jid, kind = submit(i)
            jobs[jid] = kind
        faults["submit_s"] = round(time.monotonic() - t_submit, 1)
        if broker_thread is not None:
            broker_thread.join(300)
            assert "broker_down_s" in faults, f"the {cluster['kind']} broker did not restart"
            assert faults["pending_at_broker_restart"] > 0, faults  # it restarted while jobs ran
        assert faults["pending_at_api_restart"] > 0, faults

        t_wait = time.monotonic()
        wait_for(lambda: _pending(cluster["db_url"], list(jobs)) == 0, timeout=180 + 6 * N_JOBS, interval=1.0)
        faults["drain_s"] = round(time.monotonic() - t_wait, 1)
        print(f"\n[{cluster['kind']}] {N_JOBS} jobs; faults {faults}")

        # Statuses through the SDKs, alternating nodes: ListAIJob for AI jobs, GetAIImageJobs for AIImage.
        st: dict[str, str] = {}
        ai = [j for j, kind in jobs.items() if kind != "AIImage"]
        img = [j for j, kind in jobs.items() if kind == "AIImage"]
        for n, i in enumerate(range(0, len(ai), 10)):
            c = new_a if n % 2 == 0 else new_b
            st.update({j.job_id: j.status for j in
                       c.list_aijob(m.ListAIJobRequest(job_ids=",".join(ai[i:i + 10]))).body.aijob_list.aijob})
        for n, i in enumerate(range(0, len(img), 10)):
            c = new_b if n % 2 == 0 else new_a
            st.update({j.job_id: j.status for j in
                       c.get_aiimage_jobs(m.GetAIImageJobsRequest(job_ids=",".join(img[i:i + 10]))).body.aiimage_job_list})
        not_ok = {j: s for j, s in st.items() if s != "success"}
        assert len(st) == len(jobs) and not not_ok, f"{len(st)}/{len(jobs)} answered; not success: {not_ok}"

        # Exactly once: one success per job, one callback event row per job, one result per
        # (job, analyzer version): AIImage jobs keep the images of one run only.
        db = _PgCompat(cluster["db_url"])
        try:
            rows = db.execute("select id, status, attempts, analyzer from jobs where id = any(?)",
                              (list(jobs),)).fetchall()
            events = dict(db.execute("select job_id, count(*) from outbox where job_id = any(?) group by job_id",
                                     (list(jobs),)).fetchall())
            images = db.execute("select job_id, version, count(*) from ai_images where job_id = any(?) "
                                "group by job_id, version", (list(jobs),)).fetchall()
        finally:
            db.close()
        assert len(rows) == len(jobs) and all(r[1] == "success" and r[3] for r in rows), rows
        bad_events = {j: events.get(j) for j in jobs if events.get(j) != 1}
        assert not bad_events, f"jobs without exactly one callback event row: {bad_events}"
        per_job: dict[str, list[tuple[str, int]]] = {}
        for j, version, n in images:
            per_job.setdefault(j, []).append((version, int(n)))
        assert set(per_job) == set(img), set(img) ^ set(per_job)
        assert all(len(v) == 1 for v in per_job.values()), {j: v for j, v in per_job.items() if len(v) != 1}
        counts = {v[0][1] for v in per_job.values()}
        assert len(counts) == 1 and min(counts) >= 1, f"AIImage jobs kept different image counts: {per_job}"
        # The killed worker's jobs ran again elsewhere; no job ran more than twice.
        by_job: dict[str, list[int]] = {}
        for j, pid, _ in runs(runlog):
            by_job.setdefault(j, []).append(pid)
        killed = faults["killed_worker_jobs"]
        assert killed and any(len(by_job[j]) >= 2 for j in killed), (killed, by_job)
        assert max(r[2] for r in rows) <= 2, sorted(r[2] for r in rows)

        # Every callback arrives at least once; all deliveries of a job carry one dedupe key, unique per job.
        wait_for(lambda: set(jobs) <= {h.body.get("JobId") for h in rx.requests if h.code == 200}, timeout=120)
        keys = callback_keys([h for h in rx.requests if h.body.get("JobId") in jobs])
        redelivered = [j for j in jobs if sum(h.body.get("JobId") == j for h in rx.requests) >= 2]
        assert redelivered, "no callback was delivered twice (the receiver failed the first 5)"
        if dedupe_header_shipped():
            bad = {j: ks for j, ks in keys.items() if len(ks) != 1 or "" in ks}
            assert not bad, f"jobs whose deliveries carried no or several dedupe keys: {bad}"
            flat = [next(iter(ks)) for ks in keys.values()]
            assert len(set(flat)) == len(flat) == len(jobs), "a dedupe key is shared by two jobs"

        # Every read Action answers the same from either node; every signed URL downloads from both.
        reads: list[tuple[str, dict[str, str]]] = [("ListAIJob", {"JobIds": ",".join(ai[i:i + 10])})
                                                   for i in range(0, len(ai), 10)]
        reads += [("GetAIImageJobs", {"JobIds": ",".join(img[i:i + 10])}) for i in range(0, len(img), 10)]
        reads += [("ListAIImageInfo", {"VideoId": mid}), ("GetMediaDNAResult", {"MediaId": mid}),
                  ("GetAIVideoTagResult", {"MediaId": mid}), ("GetVideoInfo", {"VideoId": mid}),
                  ("GetPlayInfo", {"VideoId": mid})]
        got = read_everywhere([a, b], key, reads)
        assert len(got["ListAIImageInfo"]["AIImageInfoList"]) == sum(n for v in per_job.values() for _, n in v)
        assert got["GetAIVideoTagResult"].get("VideoTagResult"), got["GetAIVideoTagResult"]
        assert "DNAResult" in got["GetMediaDNAResult"], got["GetMediaDNAResult"]
        assert got["GetVideoInfo"]["Video"]["VideoId"] == mid
        # The same through the Tea SDK: a result reads the same from either node.
        data = [c.list_aijob(m.ListAIJobRequest(job_ids=ai[0])).body.aijob_list.aijob[0].data for c in (new_a, new_b)]
        assert data[0] and data[0] == data[1]
    finally:
        if broker_thread is not None:
            broker_thread.join(300)
        rx.close()


def test_replay_on_the_other_api_node_is_refused(cluster: dict[str, Any]) -> None:
    a, b = cluster["apis"]
    r = run_cli(a.data_dir, "keys", "create", "--account", "replay", "--json", env=cluster["env"])
    assert r.returncode == 0, r.stderr
    k = json.loads(r.stdout)
    key = Key(k["AccessKeyId"], k["AccessKeySecret"])
    for action, params in (("ListAIJob", {"JobIds": "nope"}), ("AddAITemplate", {
            "TemplateName": "t", "TemplateType": "AIImage",
            "TemplateConfig": json.dumps({"Format": "png", "SetDefaultCover": "false"})})):
        p = v1_params(key, action, params)
        p["Signature"] = signing.v1_sign(key.secret, signing.v1_string_to_sign("GET", p))
        query = "/?" + urlencode(p)
        first = httpx.get(a.url + query, timeout=30)
        assert first.status_code == 200, first.text
        again = httpx.get(b.url + query, timeout=30)  # the very same signed request, on the other node
        assert again.status_code == 400 and again.json()["Code"] == "SignatureNonceUsed", again.text
