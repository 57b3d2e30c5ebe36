"""ListAIJob latency at 100 polling clients against 2 API nodes on PostgreSQL.

One deployment (PostgreSQL, SeaweedFS, private Redis broker, 2 API nodes ``serve --role api``, one
worker that finishes 10 jobs first, so ListAIJob returns 10 finished jobs with their Data). Then
100 clients poll ListAIJob (JobIds = the 10 jobs), 50 per node, with two wrk processes at once
(one per node; pre-signed V1 GET requests, each with its own SignatureNonce). Each wrk writes its
latency histogram (bench/api/replay.lua with HIST_FILE), and the two merge into one exact p50/p99.

Modes, each ``--seconds`` long:
- ``poll/100ms``: each client waits 100 ms between polls (how SDK users poll);
- ``closed``: each client sends its next request when the answer arrives (saturation).
and three replay-nonce stores (``scale.nonce_store``): ``local`` (read-only requests are checked in
the node's memory), ``database`` (every request claims its nonce in PostgreSQL: one committed
write per request) and ``redis`` (``SET NX`` in the private Redis, database 1); the API nodes
restart between them.

    nice -n 10 .venv/bin/python -m bench.scale.poll [--seconds 10] [--clients 100]

Writes bench/scale/results/poll.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.api.run import ensure_wrk
from bench.scale.common import Deployment, cpu_seconds, loadavg, wait_done
from openvod.api import signing
from tests.media import make_video
from tests.sdk import v1_request


def signed_path(ak: str, sk: str, params: dict[str, str]) -> str:
    p = {"Action": "ListAIJob", "Version": "2017-03-21", "Format": "JSON", "AccessKeyId": ak,
         "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureNonce": uuid.uuid4().hex,
         "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **params}
    p["Signature"] = signing.v1_sign(sk, signing.v1_string_to_sign("GET", p))
    return "/?" + urlencode(p)


def merged(hists: list[Path]) -> dict[str, Any]:
    """p50/p99 (ms), requests, errors and requests per second over the histograms of several wrk runs."""
    counts: dict[int, int] = {}
    requests = errors = 0
    seconds = 0.0
    kinds: dict[str, int] = {}
    for h in hists:
        for line in h.read_text().splitlines():
            if line.startswith("#"):
                f = line.split()
                requests, errors, seconds = requests + int(f[2]), errors + int(f[4]), max(seconds, float(f[6]))
                for name, value in zip(f[7::2], f[8::2]):
                    kinds[name] = kinds.get(name, 0) + int(value)
            else:
                v, c = line.split()
                counts[int(v)] = counts.get(int(v), 0) + int(c)
    total = sum(counts.values())

    def pct(p: float) -> float:
        need, seen = p * total, 0
        for v in sorted(counts):
            seen += counts[v]
            if seen >= need:
                return v / 1000
        return float("nan")

    return {"p50_ms": pct(0.50), "p99_ms": pct(0.99), "requests": requests, "errors": errors,
            "error_kinds": {k: v for k, v in kinds.items() if v},
            "rps": round(requests / seconds, 1) if seconds else 0.0}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--max-rps", type=int, default=1500, help="per node; sizes the pre-signed request pool")
    args = ap.parse_args()
    wrk = ensure_wrk()
    tmp = Path(tempfile.mkdtemp(prefix="openvod-poll-"))
    dep = Deployment(api_nodes=2).start()
    rows = []
    try:
        a = dep.apis[0]
        key = dep.key()
        video = make_video(dep.root / "clip.mp4", seconds=1.0)
        mid = v1_request(a.url, key, "RegisterMedia", {"RegisterMetadatas": json.dumps(
            [{"FileURL": str(video), "Title": "poll"}])}).json()["RegisteredMediaList"][0]["MediaId"]
        ids = [v1_request(dep.apis[i % 2].url, key, "SubmitAIJob", {"MediaId": mid, "Types": "AIVideoTag"}
                          ).json()["AIJobList"]["AIJob"][0]["JobId"] for i in range(10)]
        dep.add_worker(concurrency=1)
        wait_done(dep, ids, 600)
        dep.stop_workers()
        params = {"JobIds": ",".join(ids)}
        check = v1_request(a.url, key, "ListAIJob", params).json()["AIJobList"]["AIJob"]
        assert len(check) == 10 and all(j["Status"] == "success" and j["Data"] for j in check), check
        per_node = args.clients // len(dep.apis)
        for store in ("local", "database", "redis"):
            for srv in dep.apis:  # restart the nodes with this nonce store
                srv.stop()
                srv.env["OPENVOD_SCALE__NONCE_STORE"] = store
                srv.env["OPENVOD_SCALE__REDIS_URL"] = dep.broker.url.rsplit("/", 1)[0] + "/1"
                srv.start(timeout=180)
            for mode, think in (("poll/100ms", 100), ("closed", 0)):
                procs, hists = [], []
                pool = args.max_rps * (args.seconds + 3)
                for n, srv in enumerate(dep.apis):
                    reqs = tmp / f"reqs-{n}.txt"
                    reqs.write_text("\n".join(signed_path(key.id, key.secret, params) for _ in range(pool)) + "\n")
                    hist = tmp / f"hist-{store}-{think}-{n}.txt"
                    hists.append(hist)
                    env = {"WRK_THREADS": "1", "THINK_MS": str(think), "REQS_FILE": str(reqs), "HIST_FILE": str(hist),
                           "PATH": "/usr/bin:/bin"}
                    procs.append(subprocess.Popen(
                        [wrk, "-t1", f"-c{per_node}", f"-d{args.seconds}s", "--timeout", "30s", "-s",
                         str(Path(__file__).parent.parent / "api" / "replay.lua"), srv.url], env=env,
                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
                load0, cpu0 = loadavg(), cpu_seconds(dep.api_pids())
                for p in procs:
                    p.wait(args.seconds + 120)
                cpu1 = cpu_seconds(dep.api_pids())
                row = {"nonce_store": store, "mode": mode, "clients": per_node * len(dep.apis), **merged(hists),
                       "load_start": round(load0, 2), "load_end": round(loadavg(), 2)}
                row["api_cpu_ms_per_request"] = round((cpu1 - cpu0) * 1000 / max(1, row["requests"]), 2)
                rows.append(row)
                print(json.dumps(row), flush=True)
    finally:
        dep.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    out = Path(__file__).with_name("results")
    out.mkdir(exist_ok=True)
    (out / "poll.json").write_text(json.dumps({"seconds": args.seconds, "rows": rows}, indent=2))
    print(f"\n{'nonce store':<12}{'mode':<12}{'clients':>8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
          f"{'API CPU ms/req':>16}{'load':>8}")
    for r in rows:
        print(f"{r['nonce_store']:<12}{r['mode']:<12}{r['clients']:>8}{r['rps']:>9.0f}{r['p50_ms']:>9.1f}"
              f"{r['p99_ms']:>9.1f}{r['errors']:>8}{r['api_cpu_ms_per_request']:>16}{r['load_end']:>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
