"""``openvod audit words add|remove|list``: an account's custom moderation words (docs/audit.md)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from openvod.errors import VodError

LABELS = ("spam", "ad", "abuse", "politics", "contraband", "porn", "terrorism", "logo")


def add_parsers(sub: Any, common: Callable[[argparse.ArgumentParser], None],
                runtime: Callable[[argparse.Namespace], Any]) -> None:
    p = sub.add_parser("audit", help="AIMediaAudit: the account's custom word library")
    ps = p.add_subparsers(dest="audit_cmd", required=True)
    w = ps.add_parser("words", help="add, remove or list custom words")
    ws = w.add_subparsers(dest="words_cmd", required=True)
    for name, helptext in (("add", "add words with a label"), ("remove", "remove words of a label")):
        c = ws.add_parser(name, help=helptext)
        common(c)
        c.add_argument("--account", required=True, help="account name")
        c.add_argument("--label", required=True, choices=LABELS, help="what a hit means")
        c.add_argument("words", nargs="+", help="the words (phrases: quote them)")
        c.set_defaults(fn=lambda a: cmd_words(a, runtime(a)))
    c = ws.add_parser("list", help="the account's custom words")
    common(c)
    c.add_argument("--account", required=True, help="account name")
    c.add_argument("--json", action="store_true", help="print JSON")
    c.set_defaults(fn=lambda a: cmd_words(a, runtime(a)))


def cmd_words(args: argparse.Namespace, rt: Any) -> int:
    acc = rt.accounts.find_account(args.account)
    if not acc:
        print(f"openvod: no account named {args.account!r}", file=sys.stderr)
        return 2
    if args.words_cmd in ("add", "remove"):
        try:
            if args.words_cmd == "add":
                n = rt.audit.add_words(acc, args.label, args.words)
            else:
                n = rt.audit.remove_words(acc, args.label, args.words)
        except VodError as exc:
            print(f"openvod: {exc.code}: {exc.message}", file=sys.stderr)
            return 2
        print(f"added {n} word(s) to {args.label}" if args.words_cmd == "add"
              else f"removed {n} word(s) from {args.label}")
    else:
        words = rt.audit.custom_words(acc)
        if args.json:
            print(json.dumps([{"Word": w, "Label": lab} for w, lab in words], ensure_ascii=False))
        else:
            for w, lab in words:
                print(f"{lab}\t{w}")
    return 0
