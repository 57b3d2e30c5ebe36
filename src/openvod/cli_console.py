"""``openvod console-user``: the web console's users (one account each)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from openvod.cli_common import CliError, account_id
from openvod.console.auth import ConsoleAuth, ConsoleUserError


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    import getpass

    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise CliError("the passwords differ")
    return first


def console_user(args: argparse.Namespace, rt: Any) -> int:
    """``openvod console-user add|passwd|remove|list``."""
    auth = ConsoleAuth(rt)
    try:
        if args.cu_cmd == "add":
            account_id(rt, args.account)  # a clear error for an unknown account
            auth.add_user(args.account, args.username, _read_password(args))
            print(f"console user {args.username} of account {args.account} added; sign in at /console")
        elif args.cu_cmd == "passwd":
            if not auth.set_password(args.username, _read_password(args)):
                raise CliError(f"no console user named {args.username!r}")
            print(f"password of {args.username} changed; its sessions were signed out")
        elif args.cu_cmd == "remove":
            if not auth.remove_user(args.username):
                raise CliError(f"no console user named {args.username!r}")
            print(f"console user {args.username} removed")
        else:
            for name, acc in auth.list_users():
                print(f"{name}\t{acc}")
    except ConsoleUserError as exc:
        raise CliError(str(exc)) from None
    return 0
