"""Scale-out end to end (``-m scaleout``): PostgreSQL, SeaweedFS (S3 blobs), 2 API nodes
(``serve --role api``), 2 Celery workers (``openvod worker``), Redis or RabbitMQ as the broker.

Jobs of the three types go through both official SDKs, alternating between the API nodes; one
worker is SIGKILLed (its whole process tree: a lost machine) while it runs jobs, a new worker
takes its place, and one API node restarts. Every job must end ``success`` exactly once (one success transition, one
callback event row), and results and signed URLs must read the same from either node. A replayed
request is refused by the other node.

OPENVOD_SCALEOUT_JOBS (default 24) sets how many jobs run; the full version of the issue is
``OPENVOD_SCALEOUT_JOBS=100`` (docs/scale-out.md).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
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

from tests.conftest import REPO, Server, _PgCompat, free_port, pg_database, run_cli, wait_for
from tests.media import make_video
from tests.receiver import CallbackReceiver
from tests.scaleout.conftest import AMQP_URL, REDIS_URL
from tests.sdk import OldClient, new_client, v1_params, v1_request
from tests.seaweed import SeaweedFS

pytestmark = pytest.mark.scaleout

N_JOBS = int(os.environ.get("OPENVOD_SCALEOUT_JOBS", "24"))


def _reachable(url: str) -> bool:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=3) as c:
            c.ensure_connection(max_retries=1)
        return True
    except Exception:
        return False


class Worker:
    """``openvod worker`` in its own session, so the whole process tree can be killed like a lost machine."""

    def __init__(self, name: str, data_dir: Path, env: dict[str, str], queues: str, concurrency: int = 2):
        self.name, self.data_dir, self.env, self.concurrency = name, data_dir, env, concurrency
        self.queues = queues
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.data_dir / f"worker-{int(time.time() * 1000)}.log", "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "openvod.cli", "worker", "--data-dir", str(self.data_dir),
             "--queues", self.queues, "--concurrency", str(self.concurrency), "--hostname", f"{self.name}@%h"],
            stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=REPO, start_new_session=True)
        return self

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # warm shutdown: running jobs finish first
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


@pytest.fixture(scope="module", params=["redis", "rabbitmq"])
def cluster(request: pytest.FixtureRequest, seaweed: SeaweedFS,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One deployment per broker, shared by the tests of this module."""
    broker = REDIS_URL if request.param == "redis" else AMQP_URL
    if not _reachable(broker):
        pytest.skip(f"no {request.param} broker at {broker}")
    tmp_path = tmp_path_factory.mktemp(f"cluster-{request.param}")
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
        "OPENVOD_SCALE__BROKER_URL": broker,
        # Queues of this run only: the broker may hold another run's messages.
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
    apis = [Server(tmp_path / f"api{i}", free_port(), env=dict(common), args=["--role", "api"]) for i in (1, 2)]
    for a in apis:
        a.start(timeout=120)
    wenv = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "OPENVOD_PLUGINS": '["tests.plugins:register"]', **common}
    queues = ",".join(f"{q}-{vhost_queue_prefix}" for q in ("dna", "tag", "image"))
    workers = [Worker(f"w{i}", tmp_path / f"worker{i}", wenv, queues) for i in (1, 2)]
    for w in workers:
        w.start()
    state = {"apis": apis, "workers": workers, "env": wenv, "runlog": runlog, "queues": queues,
             "db_url": db_url, "tmp": tmp_path, "broker": request.param}
    yield state
    for w in state["workers"]:
        w.stop()
    for a in apis:
        a.stop()


def _children(pid: int) -> set[int]:
    """``pid`` and every process below it."""
    out = subprocess.run(["ps", "-o", "pid=,ppid=", "-A"], capture_output=True, text=True).stdout
    kids: dict[int, list[int]] = {}
    for line in out.splitlines():
        a, b = line.split()
        kids.setdefault(int(b), []).append(int(a))
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        found.add(p)
        todo.extend(kids.get(p, []))
    return found


def _runs(runlog: Path) -> list[tuple[str, int, float]]:
    if not runlog.exists():
        return []
    out = []
    for line in runlog.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3:
            out.append((parts[0], int(parts[1]), float(parts[2])))
    return out


def test_jobs_survive_a_killed_worker_across_two_api_nodes(cluster: dict[str, Any]) -> None:
    a, b = cluster["apis"]
    tmp: Path = cluster["tmp"]
    r = run_cli(a.data_dir, "keys", "create", "--account", "acme", "--json", env=cluster["env"])
    assert r.returncode == 0, r.stderr
    k = json.loads(r.stdout)
    from tests.conftest import Key

    key = Key(k["AccessKeyId"], k["AccessKeySecret"])
    new_a, new_b = new_client(a.endpoint, key), new_client(b.endpoint, key)
    old_a, old_b = OldClient(a.endpoint, key), OldClient(b.endpoint, key)
    rx = CallbackReceiver(path="/vod/callback")
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

        jobs: dict[str, str] = {}  # job id -> type
        for i in range(N_JOBS):
            kind = "AIMediaDNA" if i % 6 == 0 else "AIImage" if i % 6 == 3 else "AIVideoTag"
            new, old = (new_a, old_b) if i % 2 == 0 else (new_b, old_a)  # alternate nodes and SDKs
            if kind == "AIImage":
                if i % 4 == 3:
                    jid = old.call("SubmitAIImageJob", VideoId=mid, AITemplateId=tid)["JobId"]
                else:
                    jid = new.submit_aiimage_job(m.SubmitAIImageJobRequest(video_id=mid, aitemplate_id=tid)).body.job_id
            elif i % 4 < 2:
                jid = new.submit_aijob(m.SubmitAIJobRequest(media_id=mid, types=kind)).body.aijob_list.aijob[0].job_id
            else:
                jid = old.call("SubmitAIJob", MediaId=mid, Types=kind)["AIJobList"]["AIJob"][0]["JobId"]
            jobs[str(jid)] = kind

        # A lost machine: worker 1 and its pool die while they run jobs; a new worker joins later.
        w1 = cluster["workers"][0]
        w1_pids = _children(w1.proc.pid)
        runlog: Path = cluster["runlog"]
        wait_for(lambda: any(pid in w1_pids for _, pid, _ in _runs(runlog)), timeout=120)
        w1_pids = _children(w1.proc.pid)
        running_on_w1 = {j for j, pid, _ in _runs(runlog) if pid in w1_pids}
        w1.kill()
        replacement = Worker("w3", tmp / "worker3", cluster["env"], cluster["queues"])
        cluster["workers"].append(replacement)
        replacement.start()
        # An API node restarts while the jobs run (its clients keep their endpoint).
        b.stop()
        b.start(timeout=180)

        def statuses() -> dict[str, str]:
            """Through the SDKs, alternating nodes: ListAIJob for AI jobs, GetAIImageJobs for AIImage."""
            out: dict[str, str] = {}
            ai = [j for j, kind in jobs.items() if kind != "AIImage"]
            img = [j for j, kind in jobs.items() if kind == "AIImage"]
            for n, i in enumerate(range(0, len(ai), 10)):
                c = new_a if n % 2 == 0 else new_b
                lst = c.list_aijob(m.ListAIJobRequest(job_ids=",".join(ai[i:i + 10]))).body.aijob_list.aijob
                out.update({j.job_id: j.status for j in lst})
            for n, i in enumerate(range(0, len(img), 10)):
                c = new_b if n % 2 == 0 else new_a
                lst = c.get_aiimage_jobs(m.GetAIImageJobsRequest(job_ids=",".join(img[i:i + 10]))).body.aiimage_job_list
                out.update({j.job_id: j.status for j in lst})
            return out

        def all_done() -> bool:
            db = _PgCompat(cluster["db_url"])
            try:
                n = db.execute("select count(*) from jobs where id = any(?) and status in ('success', 'fail')",
                               (list(jobs),)).fetchone()[0]
            finally:
                db.close()
            return int(n) == len(jobs)

        wait_for(all_done, timeout=120 + 6 * N_JOBS, interval=1.0)
        st = statuses()
        assert len(st) == len(jobs) and set(st.values()) == {"success"}, st

        # Exactly once: one success per job, one callback event row per job, attempts recorded.
        db = _PgCompat(cluster["db_url"])
        try:
            rows = db.execute("select id, status, attempts from jobs where id = any(?)", (list(jobs),)).fetchall()
            events = dict(db.execute("select job_id, count(*) from outbox where job_id = any(?) group by job_id",
                                     (list(jobs),)).fetchall())
            images = dict(db.execute("select job_id, count(*) from ai_images where job_id = any(?) group by job_id",
                                     (list(jobs),)).fetchall())
        finally:
            db.close()
        assert len(rows) == len(jobs) and all(r[1] == "success" for r in rows)
        assert all(events.get(j) == 1 for j in jobs), events
        # The killed worker's jobs ran again elsewhere; no job ran more than twice.
        runs: dict[str, list[int]] = {}
        for j, pid, _ in _runs(runlog):
            runs.setdefault(j, []).append(pid)
        assert running_on_w1 and any(len(runs[j]) >= 2 for j in running_on_w1), (running_on_w1, runs)
        assert max(r[2] for r in rows) <= 2
        # One result set per AIImage job (the re-run replaced nothing twice).
        for j, kind in jobs.items():
            if kind == "AIImage":
                assert images.get(j, 0) >= 1

        # Every callback arrives (at least once), each with the job's id.
        wait_for(lambda: set(jobs) <= {h.body.get("JobId") for h in rx.requests}, timeout=60)

        # Results and signed URLs read the same from either node.
        tag_job = next(j for j, kind in jobs.items() if kind == "AIVideoTag")
        data = [c.list_aijob(m.ListAIJobRequest(job_ids=tag_job)).body.aijob_list.aijob[0].data for c in (new_a, new_b)]
        assert data[0] and data[0] == data[1]
        img_job = next(j for j, kind in jobs.items() if kind == "AIImage")
        infos = [[i for i in c.list_aiimage_info(m.ListAIImageInfoRequest(video_id=mid)).body.aiimage_info_list
                  if i.job_id == img_job] for c in (new_a, new_b)]
        assert infos[0] and len(infos[0]) == len(infos[1])
        url = infos[0][0].file_url  # signed by node A
        assert "auth_key=" in url
        path = url.split("://", 1)[1].split("/", 1)[1]
        got = [httpx.get(f"{srv.url}/{path}", timeout=30) for srv in (a, b)]  # served by either node
        assert [g.status_code for g in got] == [200, 200] and got[0].content == got[1].content
        assert got[0].content.startswith(b"\x89PNG")
    finally:
        rx.close()


def test_replay_on_the_other_api_node_is_refused(cluster: dict[str, Any]) -> None:
    a, b = cluster["apis"]
    r = run_cli(a.data_dir, "keys", "create", "--account", "replay", "--json", env=cluster["env"])
    assert r.returncode == 0, r.stderr
    k = json.loads(r.stdout)
    from tests.conftest import Key

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
