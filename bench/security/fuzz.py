"""The long fuzz run: every RPC Action and the OSS object endpoint, with the strategies of
tests/security/test_fuzz.py and tests/security/test_oss_fuzz.py, against one ``openvod serve``
subprocess; counts every request sent and every answer's status, and keeps going after a failure
(each Action's first failing example, shrunk by hypothesis, is reported; the run then moves on).

    nice -n 15 .venv/bin/python -m bench.security.fuzz [--examples 520] [--oss-examples 1200] [--seed 0]

``--examples`` is per Action (hypothesis stops early for an Action whose parameter space is small, so the
count is what was sent, not examples x Actions). Seeded: the same ``--seed`` sends the same requests
(hypothesis ``derandomize`` for seed 0, else a fixed ``seed``). Writes bench/security/results/fuzz.json.
Exit status 1 when any answer was a 5xx or malformed.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
import traceback
from pathlib import Path
from tempfile import mkdtemp
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import tests.security.test_fuzz as rpc_fuzz  # noqa: E402
import tests.security.test_oss_fuzz as oss_fuzz  # noqa: E402
from tests.conftest import Server, free_port  # noqa: E402

STATUS: collections.Counter[int] = collections.Counter()


def counted(fn: Any) -> Any:
    def wrapper(*a: Any, **kw: Any) -> Any:
        r = fn(*a, **kw)
        STATUS[r.status_code] += 1
        return r
    return wrapper


def run_family(name: str, strategy: Any, check: Any, examples: int, rng_seed: int) -> str | None:
    """Run one hypothesis search; the shrunk failure's text, or None."""
    deco = settings(max_examples=examples, derandomize=rng_seed == 0, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck), print_blob=True)

    @deco
    @given(x=strategy)
    def run(x: Any) -> None:
        check(x)

    if rng_seed:
        run = seed(rng_seed)(run)
    try:
        run()
        return None
    except Exception as exc:  # a failing example: keep it and go on with the next family
        return f"{name}: {type(exc).__name__}: {str(exc)[:1500]}\n{traceback.format_exc(limit=2)[-600:]}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=520, help="per RPC Action")
    ap.add_argument("--oss-examples", type=int, default=1200, help="per object-endpoint family (object, post)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", default="", help="comma-separated Actions (and/or oss-object, oss-post)")
    ap.add_argument("--from-action", default="", help="only the Actions sorting at or after this one")
    ap.add_argument("--no-rpc", action="store_true", help="only the object endpoint")
    ap.add_argument("--no-oss", action="store_true", help="only the RPC Actions")
    ap.add_argument("--out", default="fuzz.json", help="results file under bench/security/results/")
    args = ap.parse_args()
    only = {x for x in args.only.split(",") if x}
    rpc_fuzz.send = counted(rpc_fuzz.send)
    oss_fuzz.send_raw = counted(oss_fuzz.send_raw)
    root = Path(mkdtemp(prefix="openvod-fuzz-"))
    srv = Server(root / "data", free_port()).start()
    failures: list[str] = []
    per: dict[str, int] = {}
    t0, c0 = time.time(), time.process_time()
    try:
        key = srv.key("fuzzer")
        creds = oss_fuzz.creds.__wrapped__(srv) if hasattr(oss_fuzz.creds, "__wrapped__") else None
        if creds is None:  # pytest fixtures keep the function under a private name
            creds = oss_fuzz.creds.__pytest_wrapped__.obj(srv)  # type: ignore[attr-defined]
        for action in sorted(rpc_fuzz.ACTIONS):
            if (only and action not in only) or args.no_rpc or action < args.from_action:
                continue
            before = sum(STATUS.values())

            def check(x: Any, action: str = action) -> None:
                params, transport = x
                rpc_fuzz.check(rpc_fuzz.send(srv, key, action, params, transport), action, params)

            strategy = st.tuples(rpc_fuzz.params_for(action), st.sampled_from(["post", "get", "v3"]))
            f = run_family(action, strategy, check, args.examples, args.seed)
            per[action] = sum(STATUS.values()) - before
            print(f"{action}: {per[action]} requests{' FAILED' if f else ''}", flush=True)
            if f:
                failures.append(f)
        for family in ("object", "post"):
            if (only and f"oss-{family}" not in only) or args.no_oss:
                continue
            before = sum(STATUS.values())
            strategy = st.tuples(oss_fuzz.object_request(creds) if family == "object"
                                 else oss_fuzz.post_object_request(creds), st.booleans())

            def check_o(x: Any) -> None:
                (method, path, query, headers, body), vhost = x
                where = f"{method} {path} {query!r} {headers!r} body={body[:200]!r}"
                oss_fuzz.check_oss(oss_fuzz.send_raw(srv, method, path, query, headers, body, vhost), where)

            f = run_family(f"oss-{family}", strategy, check_o, args.oss_examples, args.seed)
            per[f"oss-{family}"] = sum(STATUS.values()) - before
            print(f"oss-{family}: {per[f'oss-{family}']} requests{' FAILED' if f else ''}", flush=True)
            if f:
                failures.append(f)
    finally:
        srv.stop()
    total = sum(STATUS.values())
    five = sum(n for s, n in STATUS.items() if s >= 500)
    result = {"requests": total, "status": dict(sorted(STATUS.items())), "5xx": five, "per_family": per,
              "failures": failures, "seed": args.seed, "examples": args.examples, "oss_examples": args.oss_examples,
              "wall_s": round(time.time() - t0, 1), "client_cpu_s": round(time.process_time() - c0, 1)}
    out = Path(__file__).with_name("results")
    out.mkdir(exist_ok=True)
    (out / args.out).write_text(json.dumps(result, indent=1))
    print(f"{total} requests, status counts {dict(sorted(STATUS.items()))}, 5xx: {five}, failing families: "
          f"{len(failures)}")
    for f in failures:
        print("----\n" + f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
