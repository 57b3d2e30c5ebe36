"""``openvod console-user add|passwd|remove|list``: the users of the web console (``/console``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from openvod.cli_common import CliError, account_id


def add_parsers(sub: Any, common: Callable[[argparse.ArgumentParser], None],
                runtime: Callable[[argparse.Namespace], Any]) -> None:
    """Register the ``console-user`` sub-commands."""
    p = sub.add_parser("console-user", help="users of the web console (/console), one account each")
    cs = p.add_subparsers(dest="cu_cmd", required=True, metavar="add|passwd|remove|list")
    c = cs.add_parser("add", help="add a user who signs in to the console and sees one account")
    common(c)
    c.add_argument("username", help="the name the user signs in with")
    c.add_argument("--account", default="default", help="account name (default: default); it must exist")
    c.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    c = cs.add_parser("passwd", help="set a user's password (signs out its sessions)")
    common(c)
    c.add_argument("username", help="the console user")
    c.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    c = cs.add_parser("remove", help="remove a user and its sessions")
    common(c)
    c.add_argument("username", help="the console user")
    c = cs.add_parser("list", help="list users and their accounts")
    common(c)
    p.set_defaults(fn=lambda a: cmd_console_user(a, runtime))


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    import getpass

    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise CliError("the passwords differ")
    return first


def cmd_console_user(args: argparse.Namespace, runtime: Callable[[argparse.Namespace], Any]) -> int:
    from openvod.console.auth import ConsoleAuth, ConsoleUserError

    rt = runtime(args)
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
