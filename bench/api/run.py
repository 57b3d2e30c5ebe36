"""API benchmark: SubmitAIJob and ListAIJob throughput and p50/p99 latency at 1, 16 and 100 clients.

Runs openvod on the embedded default (SQLite, local blobs, in-process workers with a no-op
analyzer so the API is what is measured) and, side by side, a bare uvicorn ASGI app that answers a
fixed body (the floor of the HTTP stack). The load generator is wrk (Debian package, installed if
missing) replaying pre-signed V1 GET requests, each with its own SignatureNonce; closed loop, one
connection per client.

    .venv/bin/python -m bench.api.run [--seconds 5] [--clients 1,16,100] [--processes 1] [--think-ms 100]

Besides the closed loop (each client sends its next request as soon as the answer arrives: the
saturation throughput), ListAIJob also runs paced (``--think-ms``, default 100 ms between polls per
client), which is how SDK users poll jobs. "vs floor" is openvod's closed-loop throughput divided
by the bare uvicorn app's at the same concurrency, measured in the same run.

Prints a table and writes bench/api/results/latest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import httpx

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from openvod.api import signing  # noqa: E402


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, capture_output=True)
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or "wrk"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def signed_path(ak: str, sk: str, action: str, params: dict[str, str]) -> str:
    p = {
        "Action": action,
        "Version": "2017-03-21",
        "Format": "JSON",
        "AccessKeyId": ak,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": uuid.uuid4().hex,
        "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **params,
    }
    p["Signature"] = signing.v1_sign(sk, signing.v1_string_to_sign("GET", p))
    return "/?" + urlencode(p)


def run_wrk(wrk: str, url: str, clients: int, seconds: float, reqs_file: Path | None,
            think_ms: int = 0) -> dict[str, float]:
    threads = min(2, clients)
    cmd = [wrk, f"-t{threads}", f"-c{clients}", f"-d{int(seconds)}s", "--latency", url]
    env = {**os.environ, "WRK_THREADS": str(threads), "THINK_MS": str(think_ms)}
    if reqs_file:
        cmd[1:1] = ["-s", str(Path(__file__).with_name("replay.lua"))]
        env["REQS_FILE"] = str(reqs_file)
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout

    def lat(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return {"rps": rps, "p50_ms": lat("50"), "p99_ms": lat("99"), "requests": total,
            "errors": int(bad.group(1)) if bad else 0}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--clients", default="1,16,100")
    ap.add_argument("--max-rps", type=int, default=6000, help="upper bound used to size the pre-signed request pool")
    ap.add_argument("--processes", type=int, default=1, help="openvod api.processes (API processes on the port)")
    ap.add_argument("--think-ms", type=int, default=100,
                    help="also run ListAIJob with each client pausing this long between polls (0: skip)")
    args = ap.parse_args()
    clients = [int(x) for x in args.clients.split(",")]
    wrk = ensure_wrk()
    py = sys.executable
    tmp = Path(tempfile.mkdtemp(prefix="openvod-bench-"))
    data = tmp / "data"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "OPENVOD_PLUGINS": '["bench.api.plugin:register"]',
        "OPENVOD_ENGINE__WORKERS": "1",
        "OPENVOD_API__RATE_LIMIT_QPS": "0",
        "OPENVOD_API__PROCESSES": str(args.processes),
        "OPENVOD_LOG_LEVEL": "WARNING",
        "OPENVOD_MEDIA__ALLOWED_ROOTS": json.dumps([str(tmp)]),
    }
    key = json.loads(subprocess.run([py, "-m", "openvod.cli", "keys", "create", "--account", "bench", "--json",
                                     "--data-dir", str(data)], capture_output=True, text=True, env=env,
                                    check=True).stdout)
    ak, sk = key["AccessKeyId"], key["AccessKeySecret"]
    port, base_port = free_port(), free_port()
    srv = subprocess.Popen([py, "-m", "openvod.cli", "serve", "--data-dir", str(data), "--port", str(port)],
                           env=env, stdout=subprocess.DEVNULL, stderr=open(tmp / "server.log", "wb"))
    base = subprocess.Popen([py, "-m", "uvicorn", "bench.api.baseline_app:app", "--port", str(base_port),
                             "--log-level", "warning", "--no-access-log"], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results: dict[str, object] = {"clients": clients, "seconds": args.seconds, "processes": args.processes,
                                  "rows": []}
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/healthz")
        wait_http(f"http://127.0.0.1:{base_port}/")
        from tests.media import make_video

        video = make_video(tmp / "bench.mp4", seconds=1.0)
        r = httpx.get(url + signed_path(ak, sk, "RegisterMedia", {
            "RegisterMetadatas": json.dumps([{"FileURL": str(video), "Title": "bench"}])}))
        media_id = r.json()["RegisteredMediaList"][0]["MediaId"]
        job_ids = []
        for _ in range(10):
            r = httpx.get(url + signed_path(ak, sk, "SubmitAIJob", {"MediaId": media_id, "Types": "AIVideoTag"}))
            job_ids.append(r.json()["AIJobList"]["AIJob"][0]["JobId"])
        pool = int(args.max_rps * (args.seconds + 2))
        rows = []

        def drain() -> None:
            """Let the worker finish the jobs a SubmitAIJob run queued, so runs do not overlap."""
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                m = re.search(r"^openvod_queue_depth ([\d.]+)", httpx.get(url + "/metrics").text, re.M)
                if m and float(m.group(1)) == 0:
                    return
                time.sleep(0.5)

        plan = [("ListAIJob", {"JobIds": ",".join(job_ids)}), ("SubmitAIJob", {"MediaId": media_id, "Types": "AIVideoTag"})]
        for action, params in plan:
            for c in clients:
                reqs = tmp / f"{action}-{c}.txt"
                reqs.write_text("\n".join(signed_path(ak, sk, action, params) for _ in range(pool)) + "\n")
                row = {"action": action, "clients": c, **run_wrk(wrk, url, c, args.seconds, reqs)}
                rows.append(row)
                print(json.dumps(row), flush=True)
                drain()
                if action == "ListAIJob" and args.think_ms:
                    reqs.write_text("\n".join(signed_path(ak, sk, action, params) for _ in range(pool)) + "\n")
                    row = {"action": f"ListAIJob poll/{args.think_ms}ms", "clients": c,
                           **run_wrk(wrk, url, c, args.seconds, reqs, args.think_ms)}
                    rows.append(row)
                    print(json.dumps(row), flush=True)
        for c in clients:
            b = {"action": "baseline (bare uvicorn)", "clients": c,
                 **run_wrk(wrk, f"http://127.0.0.1:{base_port}/", c, args.seconds, None)}
            rows.append(b)
            print(json.dumps(b), flush=True)
        results["rows"] = rows
    finally:
        srv.terminate()
        base.terminate()
        srv.wait(30)
        base.wait(30)
    print()
    print(f"{'action':<26}{'clients':>8}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'vs floor':>10}")
    floor = {r["clients"]: r["rps"] for r in results["rows"] if r["action"].startswith("baseline")}  # type: ignore[index,union-attr]
    for r in results["rows"]:  # type: ignore[union-attr]
        paced = "poll/" in r["action"]
        ratio = r["rps"] / floor[r["clients"]] if floor.get(r["clients"]) and not paced else float("nan")
        print(f"{r['action']:<26}{r['clients']:>8}{r['rps']:>10.0f}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}"
              f"{r['errors']:>8}{ratio:>10.2f}")
    out = Path(__file__).with_name("results")
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
