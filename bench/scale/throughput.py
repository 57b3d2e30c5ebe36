"""Jobs per minute with 1 and with 2 Celery workers, side by side in one run, and what a job costs the
database, the object store and the CPUs.

One deployment (PostgreSQL, SeaweedFS, private Redis broker, one API node ``serve --role api``) runs
rounds alternating 1 worker / 2 workers (``openvod worker --concurrency 1`` each, so 2 workers = 2
processes on this 2-core machine), ``--rounds`` times each, so load drift from other work hits both.
Each round: start the workers, warm them up (one job of each type), pause them (SIGSTOP), submit
``--jobs`` jobs of the test suite's mix (4 AIVideoTag : 1 AIMediaDNA : 1 AIImage, test analyzers
of tests/plugins.py: a real decode of a ``--clip-seconds`` 320x240 clip, PNG covers written to the
object store) from 8 client threads, resume the workers (SIGCONT) and time resume -> last
completion (the workers' drain rate, not one API node's submission rate). Callbacks go to a local receiver (the outbox delivery is part
of a job's cost). Per job it counts: PostgreSQL rows written per table (pg_stat_user_tables) and
transactions (pg_stat_database), objects and bytes written to the bucket, CPU seconds of the worker
and API process trees.

    nice -n 10 .venv/bin/python -m bench.scale.throughput [--jobs 60] [--rounds 2]

Writes bench/scale/results/throughput.json.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3

from bench.scale.common import Deployment, cpu_seconds, loadavg, wait_done
from tests.media import make_video
from tests.receiver import CallbackReceiver
from tests.sdk import v1_request

MIX = ["AIVideoTag", "AIMediaDNA", "AIVideoTag", "AIImage", "AIVideoTag", "AIVideoTag"]


def bucket_usage(dep: Deployment) -> tuple[int, int]:
    s3 = boto3.client("s3", endpoint_url=dep.seaweed.endpoint, aws_access_key_id="any",
                      aws_secret_access_key="any", region_name="us-east-1")
    n = size = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket="openvod-bench", Prefix=dep.prefix + "/"):
        for o in page.get("Contents", []):
            n += 1
            size += int(o["Size"])
    return n, size


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=60, help="jobs per round")
    ap.add_argument("--rounds", type=int, default=2, help="rounds of each worker count")
    ap.add_argument("--clip-seconds", type=float, default=10.0, help="length of the 320x240 test clip")
    args = ap.parse_args()
    dep = Deployment(api_nodes=1).start()
    rx = CallbackReceiver(path="/cb")
    rows: list[dict[str, Any]] = []
    try:
        api = dep.apis[0]
        key = dep.key()
        ok = v1_request(api.url, key, "SetMessageCallback", {"CallbackType": "HTTP", "CallbackURL": rx.url,
                                                             "EventTypeList": "AIComplete,AIMediaDNAComplete"})
        assert ok.status_code == 200, ok.text
        video = make_video(dep.root / "clip.mp4", seconds=args.clip_seconds)
        r = v1_request(api.url, key, "RegisterMedia", {
            "RegisterMetadatas": json.dumps([{"FileURL": str(video), "Title": "bench"}])})
        mid = r.json()["RegisteredMediaList"][0]["MediaId"]
        tid = v1_request(api.url, key, "AddAITemplate", {
            "TemplateName": "covers", "TemplateType": "AIImage",
            "TemplateConfig": json.dumps({"Format": "png", "SetDefaultCover": "false"})}).json()["TemplateId"]

        def submit(kind: str) -> str:
            if kind == "AIImage":
                resp = v1_request(api.url, key, "SubmitAIImageJob", {"VideoId": mid, "AITemplateId": tid})
                return str(resp.json()["JobId"])
            resp = v1_request(api.url, key, "SubmitAIJob", {"MediaId": mid, "Types": kind})
            return str(resp.json()["AIJobList"]["AIJob"][0]["JobId"])

        pool = ThreadPoolExecutor(8)
        plan = [1, 2] * args.rounds
        for n_workers in plan:
            for _ in range(n_workers):
                dep.add_worker(concurrency=1)
            wait_done(dep, list(pool.map(submit, ["AIVideoTag", "AIMediaDNA", "AIImage"] * n_workers)), 600)
            time.sleep(1.5)  # counters of the warm-up published
            # Workers paused (SIGSTOP of their process groups) while the jobs are submitted, so the
            # window measures the workers, not the submission rate of one API node.
            w0, a0, t0, c0, s0 = (cpu_seconds(dep.worker_pids()), cpu_seconds(dep.api_pids()),
                                  dep.table_writes(), dep.commits(), bucket_usage(dep))
            for w in dep.workers:
                os.killpg(w.proc.pid, signal.SIGSTOP)  # type: ignore[union-attr]
            try:
                ids = list(pool.map(submit, [MIX[i % len(MIX)] for i in range(args.jobs)]))
                load0 = loadavg()
                start = time.time()
            finally:
                for w in dep.workers:
                    os.killpg(w.proc.pid, signal.SIGCONT)  # type: ignore[union-attr]
            wait_done(dep, ids)
            last = max(float(x[0]) for x in dep.sql("select completed_at from jobs where id = any(?)", (ids,)))
            window = last - start
            w1, a1 = cpu_seconds(dep.worker_pids()), cpu_seconds(dep.api_pids())
            # Callbacks delivered (their outbox updates are part of the job), then counters published.
            deadline = time.monotonic() + 60
            while len({h.body.get("JobId") for h in rx.requests} & set(ids)) < len(ids) and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(1.5)
            t1, c1, s1 = dep.table_writes(), dep.commits(), bucket_usage(dep)
            bad = dep.sql("select count(*) from jobs where id = any(?) and status <> 'success'", (ids,))[0][0]
            row = {
                "workers": n_workers, "jobs": len(ids), "failed": int(bad), "window_s": round(window, 2),
                "jobs_per_min": round(len(ids) / window * 60, 1),
                "worker_cpu_s_per_job": round((w1 - w0) / len(ids), 3),
                "api_cpu_s_per_job": round((a1 - a0) / len(ids), 3),
                "db_rows_written_per_job": round(sum(t1.get(t, 0) - t0.get(t, 0) for t in t1) / len(ids), 2),
                "db_rows_by_table_per_job": {t: round((t1[t] - t0.get(t, 0)) / len(ids), 2)
                                             for t in sorted(t1) if t1[t] != t0.get(t, 0)},
                "db_transactions_per_job": round((c1 - c0) / len(ids), 1),
                "objects_written_per_job": round((s1[0] - s0[0]) / len(ids), 2),
                "bytes_written_per_job": round((s1[1] - s0[1]) / len(ids)),
                "load_start": round(load0, 2), "load_end": round(loadavg(), 2),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
            dep.stop_workers()
        pool.shutdown()
    finally:
        rx.close()
        dep.stop()
    by = {k: [r["jobs_per_min"] for r in rows if r["workers"] == k] for k in (1, 2)}
    summary = {"jobs_per_min_1_worker": statistics.median(by[1]), "jobs_per_min_2_workers": statistics.median(by[2]),
               "ratio_2_over_1": round(statistics.median(by[2]) / statistics.median(by[1]), 2), "rounds": rows}
    summary["clip_seconds"] = args.clip_seconds
    print(json.dumps({k: v for k, v in summary.items() if k != "rounds"}))
    out = Path(__file__).with_name("results")
    out.mkdir(exist_ok=True)
    (out / "throughput.json").write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
