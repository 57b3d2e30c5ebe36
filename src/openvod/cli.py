"""The ``openvod`` command."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from openvod.config import Settings, load_settings


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = args.data_dir
    api: dict[str, Any] = {}
    if getattr(args, "host", None):
        api["host"] = args.host
    if getattr(args, "port", None):
        api["port"] = args.port
    s = load_settings(getattr(args, "config", None), **overrides)
    if api:
        s = s.model_copy(update={"api": s.api.model_copy(update=api)})
    if getattr(args, "workers", None):
        s = s.model_copy(update={"engine": s.engine.model_copy(update={"workers": args.workers})})
    return s


def _runtime(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from openvod.runtime import Runtime

    return Runtime(_settings(args))


def cmd_serve(args: argparse.Namespace) -> int:
    from openvod.server import serve

    serve(_settings(args))
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    rt = _runtime(args)
    if args.keys_cmd == "create":
        k = rt.accounts.create_key(args.account)
        if args.json:
            print(json.dumps({"AccessKeyId": k.access_key_id, "AccessKeySecret": k.secret}))
        else:
            print(f"account {k.account_name}\nAccessKeyId     {k.access_key_id}\nAccessKeySecret {k.secret}")
    elif args.keys_cmd == "list":
        keys = rt.accounts.list_keys(args.account)
        if args.json:
            print(json.dumps([
                {"AccessKeyId": k.access_key_id, "AccessKeySecret": k.secret, "Account": k.account_name, "Status": k.status}
                for k in keys
            ]))
        else:
            for k in keys:
                print(f"{k.access_key_id}\t{k.account_name}\t{k.status}")
    else:
        status = "Inactive" if args.keys_cmd == "disable" else "Active"
        if not rt.accounts.set_key_status(args.access_key_id, status):
            print(f"no such AccessKeyId: {args.access_key_id}", file=sys.stderr)
            return 1
        print(f"{args.access_key_id} {status}")
    return 0


def cmd_upload(args: argparse.Namespace) -> int:
    from openvod.errors import VodError
    from openvod.services.media import validate_metadata

    rt = _runtime(args)
    account_id = rt.accounts.ensure_account(args.account)
    rc = 0
    out = []
    for f in args.files:
        p = Path(f).expanduser().resolve()
        try:
            meta = validate_metadata({"FileURL": str(p), "Title": args.title or p.stem}, 0)
        except VodError as exc:
            print(f"{f}: {exc.message}", file=sys.stderr)
            rc = 1
            continue
        # The operator names the file explicitly, so it may live anywhere on this machine.
        rt.settings.media.allowed_roots = [str(p.parent)]
        done, failed = rt.media.register(account_id, [meta], template_group_id="VOD_NO_TRANSCODE")
        for r in done:
            out.append({"File": f, "MediaId": r.media_id, "NewRegister": r.new_register})
        for _ in failed:
            out.append({"File": f, "Error": "not a readable video"})
            rc = 1
    if args.json:
        print(json.dumps(out))
    else:
        for o in out:
            print(f"{o['File']}\t{o.get('MediaId') or 'FAILED: ' + o['Error']}")
    return rc


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="openvod", description="Self-hosted ApsaraVideo VOD AI server.")
    sub = ap.add_subparsers(dest="cmd", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data-dir", help="data folder (default ./openvod-data or OPENVOD_DATA_DIR)")
        p.add_argument("--config", help="TOML config file (or OPENVOD_CONFIG)")

    p = sub.add_parser("serve", help="start the API server with its worker pool")
    common(p)
    p.add_argument("--host", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8080)")
    p.add_argument("--workers", type=int, help="worker processes (default: number of cores)")
    p.set_defaults(fn=cmd_serve)

    p = sub.add_parser("keys", help="manage AccessKey pairs")
    ks = p.add_subparsers(dest="keys_cmd", required=True)
    c = ks.add_parser("create", help="create a key pair for an account (created if new)")
    common(c)
    c.add_argument("--account", default="default")
    c.add_argument("--json", action="store_true")
    c = ks.add_parser("list", help="list key pairs")
    common(c)
    c.add_argument("--account")
    c.add_argument("--json", action="store_true")
    for name in ("disable", "enable"):
        c = ks.add_parser(name, help=f"{name} a key pair")
        common(c)
        c.add_argument("access_key_id")
    p.set_defaults(fn=cmd_keys)

    p = sub.add_parser("upload", help="register local video files (prints their MediaIds)")
    common(p)
    p.add_argument("files", nargs="+")
    p.add_argument("--account", default="default")
    p.add_argument("--title")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_upload)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.fn(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
