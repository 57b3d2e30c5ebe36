"""``openvod jobs list|cancel|requeue``: the operator's view of the job queue (engine/jobops.py).

They work on the database the configuration names, from any machine of a deployment: the lease in
the database is the truth, so they need no running server. A requeued job is published on its
Celery queue when ``scale.broker_url`` is set (a publish that fails is repeated by the API nodes'
sweep); the embedded server's worker pool claims it at its next poll.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable
from typing import Any

from openvod.cli_common import CliError

STATUSES = ("init", "processing", "success", "fail")


def add_parsers(sub: Any, common: Callable[[argparse.ArgumentParser], None],
                runtime: Callable[[argparse.Namespace], Any]) -> None:
    """Register ``openvod jobs …``."""
    p = sub.add_parser("jobs", help="list, cancel and requeue jobs (any role, on the shared database)")
    js = p.add_subparsers(dest="jobs_cmd", required=True, metavar="list|cancel|requeue")
    c = js.add_parser("list", help="jobs, newest first")
    common(c)
    c.add_argument("--status", help=f"comma list of {', '.join(STATUSES)} (default: all)")
    c.add_argument("--type", help="comma list of job types, e.g. AIVideoTag,AIMediaDNA,AIImage (default: all)")
    c.add_argument("--account", help="only this account (default: all)")
    c.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    c.add_argument("--json", action="store_true", help="print JSON instead of text")
    c = js.add_parser("cancel", help="end queued or running jobs `fail` with Code JobCancelled (callback sent once)")
    common(c)
    c.add_argument("job_ids", nargs="+", metavar="JOBID", help="job ids (JobId of SubmitAIJob or SubmitAIImageJob)")
    c.add_argument("--account", help="refuse jobs of other accounts")
    c.add_argument("--json", action="store_true", help="print JSON instead of text")
    c = js.add_parser("requeue", help="run failed or stuck jobs again from scratch (running jobs are refused)")
    common(c)
    c.add_argument("job_ids", nargs="+", metavar="JOBID", help="job ids (JobId of SubmitAIJob or SubmitAIImageJob)")
    c.add_argument("--account", help="refuse jobs of other accounts")
    c.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(fn=lambda a: cmd_jobs(a, runtime))


def _account(rt: Any, name: str | None) -> str | None:
    if name is None:
        return None
    found = rt.accounts.find_account(name)
    if not found:
        raise CliError(f"no account named {name!r}")
    return str(found)


def _iso(t: float | None) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if t else "-"


def _split(v: str | None) -> list[str]:
    return [x.strip() for x in (v or "").split(",") if x.strip()]


def _publish(rt: Any, ids: list[str]) -> str:
    """Wake the workers of the requeued jobs; a sentence saying how."""
    if not ids:
        return ""
    if not rt.settings.scale.broker_url:
        return "the server's worker pool claims them at its next poll"
    from openvod.engine.celery_app import make_celery, publish_now

    try:
        n = publish_now(rt, make_celery(rt.settings), ids)
    except Exception as exc:  # the broker is away: the sweep of an API node publishes them later
        return (f"could not publish on the broker ({type(exc).__name__}: {exc}); an API node's sweep publishes "
                f"them within scale.republish_after_s ({rt.settings.scale.republish_after_s:g} s)")
    return f"published {n} wake-up(s) on the broker"


def cmd_jobs(args: argparse.Namespace, runtime: Callable[[argparse.Namespace], Any]) -> int:
    from openvod.engine import jobops

    rt = runtime(args)
    try:
        return _run(args, rt, jobops)
    finally:
        rt.close()


def _run(args: argparse.Namespace, rt: Any, jobops: Any) -> int:
    acc = _account(rt, args.account)
    if args.jobs_cmd == "list":
        statuses = _split(args.status)
        bad = [s for s in statuses if s not in STATUSES]
        if bad:
            raise CliError(f"unknown status {bad[0]!r} (one of {', '.join(STATUSES)})")
        rows = jobops.list_jobs(rt, statuses, _split(args.type), acc, max(1, args.limit))
        if args.json:
            print(json.dumps(rows))
            return 0
        if not rows:
            print("no jobs", file=sys.stderr)
        for r in rows:
            extra = f"{r['code']}: {r['message']}" if r["status"] == "fail" else (r["claimed_by"] or "")
            print(f"{r['id']}\t{r['type']}\t{r['status']}\t{_iso(r['created_at'])}\tattempts {r['attempts']}\t{extra}")
        return 0
    act = jobops.cancel if args.jobs_cmd == "cancel" else jobops.requeue
    outcomes = [act(rt, j, acc) for j in args.job_ids]
    woke = _publish(rt, [o.job_id for o in outcomes if o.ok]) if args.jobs_cmd == "requeue" else ""
    if args.json:
        print(json.dumps({"Jobs": [{"JobId": o.job_id, "Ok": o.ok, "Status": o.status, "Message": o.message}
                                   for o in outcomes], "Wake": woke}))
    else:
        for o in outcomes:
            print(f"{o.job_id}\t{'ok' if o.ok else 'REFUSED'}\t{o.status or '-'}\t{o.message}",
                  file=sys.stdout if o.ok else sys.stderr)
        if woke:
            print(woke)
    return 0 if all(o.ok for o in outcomes) else 1
