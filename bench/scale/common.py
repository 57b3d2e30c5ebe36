"""A scaled-out deployment on one machine for the benchmarks: a fresh PostgreSQL database, SeaweedFS
(S3 blobs), a private Redis broker, N API nodes and M Celery workers, with the test analyzers
(tests/plugins.py: real but cheap work, a decode of the clip), plus counters: CPU seconds of each
process tree and PostgreSQL's per-table write counters."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.brokers import PrivateRedis  # noqa: E402
from tests.conftest import Key, Server, _PgCompat, free_port, pg_database, run_cli  # noqa: E402
from tests.scaleout.cluster import Worker, children  # noqa: E402
from tests.seaweed import SeaweedFS  # noqa: E402

CLK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: set[int]) -> float:
    """user + system CPU seconds of the live processes ``pids`` (from /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLK


def loadavg() -> float:
    return os.getloadavg()[0]


class Deployment:
    def __init__(self, api_nodes: int = 2, extra_env: dict[str, str] | None = None):
        self.root = Path(tempfile.mkdtemp(prefix="openvod-scale-"))
        self.seaweed = SeaweedFS(self.root / "weed")
        self.broker = PrivateRedis(self.root / "redis")
        self.n_api = api_nodes
        self.extra_env = extra_env or {}
        self.apis: list[Server] = []
        self.workers: list[Worker] = []
        self.prefix = uuid.uuid4().hex[:8]
        self.db_url = ""
        self.env: dict[str, str] = {}

    def start(self) -> Deployment:
        self.seaweed.start()
        self.broker.start()
        self.db_url = pg_database(f"ovbench_{self.prefix}")
        self.queues = {t: f"{q}-{self.prefix}" for t, q in (("AIMediaDNA", "dna"), ("AIVideoTag", "tag"),
                                                             ("AIImage", "image"))}
        common = {
            "OPENVOD_DATABASE_URL": self.db_url,
            "OPENVOD_BLOBS__BACKEND": "s3",
            "OPENVOD_BLOBS__S3__ENDPOINT_URL": self.seaweed.endpoint,
            "OPENVOD_BLOBS__S3__BUCKET": "openvod-bench",
            "OPENVOD_BLOBS__S3__PREFIX": self.prefix,
            "OPENVOD_BLOBS__S3__ACCESS_KEY_ID": "any",
            "OPENVOD_BLOBS__S3__SECRET_ACCESS_KEY": "any",
            "OPENVOD_BLOBS__URL_SIGNING_KEY": uuid.uuid4().hex,
            "OPENVOD_SCALE__BROKER_URL": self.broker.url,
            "OPENVOD_SCALE__QUEUES": json.dumps(self.queues),
            "OPENVOD_SCALE__SWEEP_INTERVAL_S": "1",
            "OPENVOD_ENGINE__LEASE_S": "30",
            "OPENVOD_ENGINE__HEARTBEAT_S": "10",
            "OPENVOD_TEST_JOB_SECONDS": "0",
            "OPENVOD_API__RATE_LIMIT_QPS": "0",
            "OPENVOD_LOG_LEVEL": "WARNING",
            "OPENVOD_LOG_JSON": "false",
            **self.extra_env,
        }
        self.apis = [Server(self.root / f"api{i}", free_port(), env=dict(common), args=["--role", "api"])
                     for i in range(self.n_api)]
        for a in self.apis:
            a.start(timeout=180)
        self.env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                    "OPENVOD_PLUGINS": '["tests.plugins:register"]', **common}
        return self

    def add_worker(self, concurrency: int = 1) -> Worker:
        w = Worker(f"w{len(self.workers)}", self.root / f"worker{len(self.workers)}", self.env,
                   ",".join(self.queues.values()), concurrency=concurrency).start()
        self.workers.append(w)
        return w

    def stop_workers(self) -> None:
        for w in self.workers:
            w.stop()
        self.workers = []

    def key(self, account: str = "bench") -> Key:
        r = run_cli(self.apis[0].data_dir, "keys", "create", "--account", account, "--json", env=self.env)
        if r.returncode != 0:
            raise RuntimeError(r.stderr)
        d = json.loads(r.stdout)
        return Key(d["AccessKeyId"], d["AccessKeySecret"])

    def api_pids(self) -> set[int]:
        return set().union(*(children(a.proc.pid) for a in self.apis if a.proc))

    def worker_pids(self) -> set[int]:
        return set().union(*(children(w.proc.pid) for w in self.workers if w.proc)) if self.workers else set()

    def sql(self, query: str, params: Any = ()) -> list[Any]:
        db = _PgCompat(self.db_url)
        try:
            return list(db.execute(query, params).fetchall())
        finally:
            db.close()

    def table_writes(self) -> dict[str, int]:
        """Rows inserted + updated + deleted per table since the database was made (pg_stat_user_tables;
        PostgreSQL publishes a backend's counters within a second of its transaction's end)."""
        return {r[0]: int(r[1]) for r in self.sql(
            "select relname, n_tup_ins + n_tup_upd + n_tup_del from pg_stat_user_tables")}

    def commits(self) -> int:
        return int(self.sql("select xact_commit from pg_stat_database where datname = current_database()")[0][0])

    def stop(self) -> None:
        self.stop_workers()
        for a in self.apis:
            a.stop()
        self.broker.stop()
        self.seaweed.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def pending(dep: Deployment, job_ids: list[str]) -> int:
    done = dep.sql("select count(*) from jobs where id = any(?) and status in ('success', 'fail')", (job_ids,))
    return len(job_ids) - int(done[0][0])


def wait_done(dep: Deployment, job_ids: list[str], timeout: float = 1800) -> None:
    deadline = time.monotonic() + timeout
    while pending(dep, job_ids):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{pending(dep, job_ids)} of {len(job_ids)} jobs unfinished after {timeout}s")
        time.sleep(0.25)
