"""Multi-tenant fairness, template half: does a 3,000-template account slow another account's polling?

Starts ``openvod serve`` (SQLite, test plug-ins), gives account A 3,000 AI templates, then measures
account B's ListAIJob latency (one client polling back to back) in alternating phases:
``quiet`` (nobody else), ``loaded`` (A's clients list their templates back to back: the default
page and pages of 100) and ``control`` (A's clients poll ListAIJob instead: the same request rate
without A's data, to separate "A's data is big" from "A sends many requests on 2 cores"). Phases alternate ``--rounds`` times so drift on a shared machine hits both;
the report gives B's p50/p99 per phase and the loaded/quiet ratios of the medians across rounds.

    nice -n 15 .venv/bin/python -m bench.security.fairness [--templates 3000] [--polls 300] [--rounds 3] [--a-clients 4]

Before paging (commit 7d0c15b) one unpaged ListAITemplate of 3,000 templates was 1.17 MB and ran on
the event loop; B's median went from 4.6 to 165 ms. The target: B's p99 moves by at most 2x.
Writes bench/security/results/fairness.json.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import multiprocessing as mp
import time
import uuid
from pathlib import Path
from tempfile import mkdtemp

import httpx

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.conftest import Server, free_port  # noqa: E402
from tests.sdk import v1_params  # noqa: E402

from openvod.api import signing  # noqa: E402


def signed_get(client: httpx.Client, url: str, key, action: str, params: dict[str, str]) -> httpx.Response:  # type: ignore[no-untyped-def]
    p = v1_params(key, action, params)
    p["Signature"] = signing.v1_sign(key.secret, signing.v1_string_to_sign("GET", p))
    return client.get(url + "/", params=p)


def seed_templates(srv: Server, account_name: str, n: int) -> None:
    """Insert ``n`` AIImage templates for the account straight into the database (setup speed)."""
    with sqlite3.connect(srv.data_dir / "openvod.db") as db:
        acc = db.execute("SELECT id FROM accounts WHERE name = ?", (account_name,)).fetchone()[0]
        t = time.time()
        cfg = json.dumps({"Format": "png", "SetDefaultCover": "false", "Count": 3})
        db.executemany(
            "INSERT INTO ai_templates (id, account_id, name, type, config, source, is_default, created_at, modified_at)"
            " VALUES (?, ?, ?, 'AIImage', ?, 'Custom', 0, ?, ?)",
            [(uuid.uuid4().hex, acc, f"template {i} " + "x" * 80, cfg, t + i * 1e-6, t) for i in range(n)],
        )


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def poll_b(url: str, key, n: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    with httpx.Client(timeout=30) as c:
        for _ in range(n):
            t0 = time.perf_counter()
            r = signed_get(c, url, key, "ListAIJob", {"JobIds": uuid.uuid4().hex})
            out.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200, r.text
    return out


def hammer_a(url: str, key, stop, count, bytes_, cheap: bool = False) -> None:  # type: ignore[no-untyped-def]
    """One of A's clients (its own process, so B's poller does not share its interpreter). ``cheap``:
    poll ListAIJob instead (the control: same request rate, no big data)."""
    with httpx.Client(timeout=60) as c:
        page = 1
        while not stop.is_set():
            params = {"TemplateType": "AIImage"}
            if page % 2 == 0:
                params.update(PageNo=str(page % 30 + 1), PageSize="100")
            if cheap:
                r = signed_get(c, url, key, "ListAIJob", {"JobIds": uuid.uuid4().hex})
            else:
                r = signed_get(c, url, key, "ListAITemplate", params)
            assert r.status_code == 200, r.text
            with count.get_lock():
                count.value += 1
            with bytes_.get_lock():
                bytes_.value = max(bytes_.value, len(r.content))
            page += 1


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--templates", type=int, default=3000)
    ap.add_argument("--polls", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--a-clients", type=int, default=4)
    ap.add_argument("--read-processes", type=int, default=None,
                    help="api.read_processes for the server (default: the server's default)")
    args = ap.parse_args()
    root = Path(mkdtemp(prefix="openvod-fair-"))
    env = {"OPENVOD_API__MAX_TEMPLATES_PER_ACCOUNT": str(args.templates + 10)}
    if args.read_processes is not None:
        env["OPENVOD_API__READ_PROCESSES"] = str(args.read_processes)
    srv = Server(root / "data", free_port(), env=env)
    srv.start()
    try:
        a, b = srv.key("tenant-a"), srv.key("tenant-b")
        seed_templates(srv, "tenant-a", args.templates)
        with httpx.Client(timeout=60) as c:
            first = signed_get(c, srv.url, a, "ListAITemplate", {"TemplateType": "AIImage"}).json()
        # Older servers (no paging) answer every template and no Total.
        total = first.get("Total", len(first["TemplateInfoList"]))
        assert total == args.templates, total
        if args.read_processes != 0:  # the read process starts on the first big read: let it get ready
            from tests.security.test_readers import readers_of

            deadline = time.monotonic() + 120
            while not readers_of(srv.proc.pid) and time.monotonic() < deadline:  # type: ignore[union-attr]
                time.sleep(0.2)
            time.sleep(5)
        poll_b(srv.url, b, 50)  # warm-up
        phases: dict[str, list[dict[str, float]]] = {"quiet": [], "loaded": [], "control": []}
        ctx = mp.get_context("fork")
        a_requests, a_bytes, junk = ctx.Value("q", 0), ctx.Value("q", 0), ctx.Value("q", 0)
        for _ in range(args.rounds):
            lat = poll_b(srv.url, b, args.polls)
            phases["quiet"].append({"p50": pct(lat, 0.5), "p99": pct(lat, 0.99)})
            for phase, cheap in (("loaded", False), ("control", True)):
                stop = ctx.Event()
                procs = [ctx.Process(target=hammer_a, args=(srv.url, a, stop, junk if cheap else a_requests,
                                                            junk if cheap else a_bytes, cheap))
                         for _ in range(args.a_clients)]
                for p in procs:
                    p.start()
                time.sleep(1.0)
                lat = poll_b(srv.url, b, args.polls)
                stop.set()
                for p in procs:
                    p.join()
                phases[phase].append({"p50": pct(lat, 0.5), "p99": pct(lat, 0.99)})
        a_requests, a_bytes = [a_requests.value], [a_bytes.value]
        med = {ph: {q: statistics.median(r[q] for r in rs) for q in ("p50", "p99")} for ph, rs in phases.items()}
        result = {
            "templates": args.templates, "polls_per_phase": args.polls, "rounds": args.rounds,
            "a_clients": args.a_clients, "read_processes": args.read_processes, "a_requests": a_requests[0], "a_largest_response_bytes": a_bytes[0],
            "b_ms": med, "ratio_p50": med["loaded"]["p50"] / med["quiet"]["p50"],
            "ratio_p99": med["loaded"]["p99"] / med["quiet"]["p99"], "rounds_detail": phases,
        }
        print(f"B ListAIJob quiet  p50 {med['quiet']['p50']:.1f} ms  p99 {med['quiet']['p99']:.1f} ms")
        print(f"B ListAIJob loaded p50 {med['loaded']['p50']:.1f} ms  p99 {med['loaded']['p99']:.1f} ms "
              f"(A: {args.a_clients} clients, {a_requests[0]} ListAITemplate, largest answer {a_bytes[0]} B)")
        print(f"ratio loaded/quiet: p50 {result['ratio_p50']:.2f}x  p99 {result['ratio_p99']:.2f}x")
        result["ratio_control_p99"] = med["control"]["p99"] / med["quiet"]["p99"]
        result["ratio_loaded_vs_control_p99"] = med["loaded"]["p99"] / med["control"]["p99"]
        print(f"control (A polls ListAIJob at the same concurrency) p50 {med['control']['p50']:.1f} ms  "
              f"p99 {med['control']['p99']:.1f} ms; loaded/control p99 {result['ratio_loaded_vs_control_p99']:.2f}x")
        out = Path(__file__).with_name("results")
        out.mkdir(exist_ok=True)
        (out / "fairness.json").write_text(json.dumps(result, indent=1))
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
