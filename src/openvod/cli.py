"""The ``openvod`` command.

Commands that read or change a server's data (``keys``, ``upload``, ``dna groups``, ``tag export``,
``face``) refuse to run when the data folder does not exist, instead of creating an empty one
wherever they are run: only ``serve`` and ``keys create`` create it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from openvod.cli_common import CliError, account_id
from openvod.cli_console import add_parsers as add_console_parsers
from openvod.config import Settings, load_settings


def version() -> str:
    try:
        from importlib.metadata import version as dist_version

        return dist_version("openvod")
    except Exception:  # not installed (run from a checkout with PYTHONPATH)
        from openvod import __version__

        return __version__


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


def _runtime(args: argparse.Namespace, create: bool = False):  # type: ignore[no-untyped-def]
    """The runtime over the data folder; refuses a data folder that does not exist unless ``create``."""
    from openvod.server import open_runtime

    s = _settings(args)
    if not s.data_dir.is_dir():
        if not create:
            raise CliError(
                f"no data folder at {s.data_dir.resolve()}: give the server's folder with --data-dir "
                "(or OPENVOD_DATA_DIR), or run `openvod serve` there first to create it")
        print(f"openvod: creating data folder {s.data_dir.resolve()}", file=sys.stderr)
    return open_runtime(s)[0]


def cmd_serve(args: argparse.Namespace) -> int:
    if getattr(args, "role", "all") == "api":
        from openvod.roles import serve_api

        serve_api(_settings(args))
        return 0
    from openvod.server import serve

    serve(_settings(args))
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from openvod.roles import worker

    queues = [q.strip() for q in args.queues.split(",") if q.strip()]
    worker(_settings(args), queues, args.concurrency or (os.cpu_count() or 1), hostname=args.hostname or "",
           pool=args.pool)
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    rt = _runtime(args, create=args.keys_cmd == "create")
    if args.keys_cmd == "create":
        k = rt.accounts.create_key(args.account)
        if args.json:
            print(json.dumps({"AccessKeyId": k.access_key_id, "AccessKeySecret": k.secret}))
        else:
            print(f"account {k.account_name}\nAccessKeyId     {k.access_key_id}\nAccessKeySecret {k.secret}")
    elif args.keys_cmd == "list":
        keys = rt.accounts.list_keys(args.account)
        if args.account and not keys and rt.accounts.find_account(args.account) is None:
            raise CliError(f"no account named {args.account!r}")
        if args.json:
            print(json.dumps([
                {"AccessKeyId": k.access_key_id, "AccessKeySecret": k.secret, "Account": k.account_name, "Status": k.status}
                for k in keys
            ]))
        else:
            if not keys:
                print("no AccessKey pairs (create one with `openvod keys create --account NAME`)", file=sys.stderr)
            for k in keys:
                print(f"{k.access_key_id}\t{k.secret}\t{k.account_name}\t{k.status}")
    else:
        status = "Inactive" if args.keys_cmd == "disable" else "Active"
        if not rt.accounts.set_key_status(args.access_key_id, status):
            print(f"no such AccessKeyId: {args.access_key_id}", file=sys.stderr)
            return 1
        print(f"{args.access_key_id} {status}")
    return 0


def cmd_upload(args: argparse.Namespace) -> int:
    if getattr(args, "endpoint", None):  # over the wire: CreateUploadVideo + the OSS dialect (cli_upload.py)
        from openvod.cli_upload import run

        return run(args)
    from openvod.errors import VodError
    from openvod.services.media import validate_metadata

    rt = _runtime(args)
    acc = account_id(rt, args.account, create=args.create_account)
    rc = 0
    out: list[dict[str, Any]] = []
    for f in args.files:
        p = Path(f).expanduser().resolve()
        if not p.exists():
            out.append({"File": f, "Code": "InvalidFileURL.NotFound", "Error": f"no such file: {p}"})
            rc = 1
            continue
        if not p.is_file():
            out.append({"File": f, "Code": "InvalidFileURL.NotAFile", "Error": f"not a regular file: {p}"})
            rc = 1
            continue
        try:
            meta = validate_metadata({"FileURL": str(p), "Title": args.title or p.stem}, 0)
        except VodError as exc:
            out.append({"File": f, "Code": exc.code, "Error": exc.message})
            rc = 1
            continue
        # The operator names the file explicitly, so it may live anywhere on this machine (for this call
        # only: the settings are not changed).
        done, failed = rt.media.register_detailed(acc, [meta], template_group_id="VOD_NO_TRANSCODE",
                                                  allowed_roots=[p.parent])
        for r in done:
            out.append({"File": f, "MediaId": r.media_id, "NewRegister": r.new_register})
        for fl in failed:
            out.append({"File": f, "Code": fl.code, "Error": fl.message})
            rc = 1
    if args.json:
        print(json.dumps(out))
    else:
        for o in out:
            if "MediaId" in o:
                print(f"{o['File']}\t{o['MediaId']}" + ("" if o["NewRegister"] else "\t(already registered)"))
            else:
                print(f"{o['File']}\tFAILED: {o['Error']}", file=sys.stderr)
    return rc


def cmd_dna(args: argparse.Namespace) -> int:
    """``openvod dna compare A B`` and ``openvod dna groups``."""
    if args.dna_cmd == "compare":
        from openvod.cli_dna import compare_files
        from openvod.pipeline import DecodeError

        try:
            out = compare_files(args.a, args.b, _settings(args).dna)
        except (DecodeError, OSError) as exc:
            print(f"cannot fingerprint: {exc}", file=sys.stderr)
            return 2
        if args.json:
            print(json.dumps(out, indent=1))
            return 0
        if not out["VideoDNA"]:
            print(f"{args.a} does not copy {args.b}")
            return 0
        e = out["VideoDNA"][0]
        t = e.get("Transform", {})
        print(f"{args.a} copies {args.b}: similarity {e['Similarity']}, {len(e['Detail'])} segment(s), "
              f"flip={t.get('Flip')} speed={t.get('Speed')}"
              + (f" crop={t['CropBox']}" if "CropBox" in t else "") + (f" pip={t['PiPBox']}" if "PiPBox" in t else ""))
        for d in e["Detail"]:
            i, r = d["Input"], d["Duplication"]
            print(f"  input {i['Start']}s +{i['Duration']}s  <->  library {r['Start']}s +{r['Duration']}s  "
                  f"(similarity {d['Similarity']})")
        return 0
    from openvod.cli_dna import duplicate_groups

    groups = duplicate_groups(_runtime(args), args.account)
    if args.json:
        print(json.dumps(groups, indent=1))
        return 0
    if not groups:
        print("no duplicate groups")
    for n, g in enumerate(groups, 1):
        lib = g["DNADBId"] or "(default library)"
        print(f"group {n}: account {g['Account']}, {lib}, {len(g['Videos'])} videos")
        for v in g["Videos"]:
            print(f"  {v['MediaId']}  {v['Title']}")
        for pr in g["Pairs"]:
            print(f"    {pr['A']} ~ {pr['B']}  similarity {pr['Similarity']}, {pr['MatchedDuration']}s matched")
    return 0


def cmd_cover(args: argparse.Namespace) -> int:
    """Pick covers / GIF highlights of a local file with the AIImage analyzer, without a server."""
    from openvod.analyzers.image.images import make_images
    from openvod.analyzers.image.picker import NoUsableFrame
    from openvod.engine.analyzer_options import image_job_options
    from openvod.pipeline import DecodeError

    s = _settings(args).aiimage
    fmt = args.format
    opts = image_job_options(s)
    count = opts.count(fmt, args.count or None)
    try:
        images, analysis = make_images(Path(args.file), fmt, count, opts.images)
    except (NoUsableFrame, DecodeError) as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 1
    out_dir = Path(args.out) if args.out else None
    if out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for rank, img in enumerate(images, start=1):
        row: dict[str, Any] = {"Rank": rank, "Format": img.format, "Score": img.score, "Bytes": len(img.data),
                               **img.detail}
        if out_dir:
            path = out_dir / f"{Path(args.file).stem}-cover-{rank:02d}.{img.format}"
            path.write_bytes(img.data)
            row["Path"] = str(path)
        rows.append(row)
    if args.json:
        print(json.dumps({"File": args.file, "Images": rows, "Stats": analysis.stats}, ensure_ascii=False))
        return 0
    st = analysis.stats
    print(f"{args.file}: {analysis.info.width}x{analysis.info.height}, {analysis.info.duration:.1f}s, "
          f"{st['Samples']} samples, {st['Shots']} shots, {st['Candidates']} candidates")
    for r in rows:
        shot = r.get("Shot") or {}
        print(f"#{r['Rank']} {r['Format']} score {r['Score']:.3f} at {r['Time']}s "
              f"(shot {shot.get('Index', '-')}: {shot.get('Start', '?')}-{shot.get('End', '?')}s) "
              f"{r['Width']}x{r['Height']}, {r['Bytes']} bytes" + (f" -> {r['Path']}" if "Path" in r else ""))
        print(f"   why: {r['Why']}")
        print("   " + "  ".join(f"{k} {v:.2f}" for k, v in r["Breakdown"].items()))
    if not out_dir:
        print("(use --out DIR to save the images)")
    return 0


JSON_HELP = "print JSON instead of text"
ACCOUNT_HELP = "account name (default: default)"


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="openvod", description="Self-hosted, wire-compatible ApsaraVideo VOD AI server.",
        epilog="Run `openvod COMMAND --help` for a command's options. Settings: README.md.")
    ap.add_argument("--version", action="version", version=f"openvod {version()}")
    sub = ap.add_subparsers(dest="cmd", metavar="COMMAND")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data-dir", help="data folder (default ./openvod-data or OPENVOD_DATA_DIR)")
        p.add_argument("--config", help="TOML config file (or OPENVOD_CONFIG)")

    p = sub.add_parser("serve", help="start the API server with its worker pool")
    common(p)
    p.add_argument("--host", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8080)")
    p.add_argument("--workers", type=int, help="worker processes (default: number of cores)")
    p.add_argument("--role", choices=("all", "api"), default="all",
                   help="all: API and in-process workers (default); api: an API node of a scaled-out "
                        "deployment (jobs go to `openvod worker` through Celery; docs/scale-out.md)")
    p.set_defaults(fn=cmd_serve)

    p = sub.add_parser("worker", help="a Celery worker of a scaled-out deployment (docs/scale-out.md)")
    common(p)
    p.add_argument("--queues", default="dna,tag,image,urlpull", help="queues to take jobs from (default: all)")
    p.add_argument("--concurrency", type=int, help="jobs at once (pool processes; default: number of cores)")
    p.add_argument("--hostname", help="Celery node name (default celery@<host>)")
    p.add_argument("--pool", default="prefork", choices=("prefork", "solo", "threads"), help="Celery pool")
    p.set_defaults(fn=cmd_worker)

    p = sub.add_parser("keys", help="manage AccessKey pairs")
    ks = p.add_subparsers(dest="keys_cmd", required=True, metavar="create|list|disable|enable")
    c = ks.add_parser("create", help="create a key pair for an account (created if new)")
    common(c)
    c.add_argument("--account", default="default", help="account name, created if new (default: default)")
    c.add_argument("--json", action="store_true", help=JSON_HELP)
    c = ks.add_parser("list", help="list key pairs with their secrets")
    common(c)
    c.add_argument("--account", help="only this account (default: all)")
    c.add_argument("--json", action="store_true", help=JSON_HELP)
    for name in ("disable", "enable"):
        c = ks.add_parser(name, help=f"{name} a key pair")
        common(c)
        c.add_argument("access_key_id", help="the AccessKeyId")
    p.set_defaults(fn=cmd_keys)

    add_console_parsers(sub, common, _runtime)

    p = sub.add_parser("upload", help="register local video files, or upload them to a server with --endpoint")
    common(p)
    p.add_argument("files", nargs="+", help="video files (anywhere on this machine)")
    p.add_argument("--account", default="default", help=ACCOUNT_HELP + "; it must exist")
    p.add_argument("--create-account", action="store_true", help="create the account if it does not exist")
    p.add_argument("--title", help="video title (default: the file name without extension)")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    from openvod.cli_upload import add_arguments as add_upload_arguments

    add_upload_arguments(p)
    p.set_defaults(fn=cmd_upload)

    p = sub.add_parser("dna", help="video fingerprints: compare two files, report duplicate groups")
    ds = p.add_subparsers(dest="dna_cmd", required=True, metavar="compare|groups")
    c = ds.add_parser("compare", help="which segments of video A copy video B (no server needed)")
    common(c)
    c.add_argument("a", help="the input video")
    c.add_argument("b", help="the library video")
    c.add_argument("--json", action="store_true", help="print the AIMediaDNA Data shape")
    c = ds.add_parser("groups", help="groups of library videos that copy each other")
    common(c)
    c.add_argument("--account", help="only this account (default: all)")
    c.add_argument("--json", action="store_true", help=JSON_HELP)
    p.set_defaults(fn=cmd_dna)

    p = sub.add_parser("cover", help="pick cover images or GIF highlights of a local video (no server)")
    p.add_argument("file", help="the video file")
    p.add_argument("--format", choices=["png", "gif"], default="png", help="png covers or gif highlights (default png)")
    p.add_argument("--count", type=int, choices=range(1, 11), metavar="N", help="images to return (1-10)")
    p.add_argument("--out", help="folder to write the images to")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    p.add_argument("--config", help="TOML config file (or OPENVOD_CONFIG); its [aiimage] group applies")
    p.set_defaults(fn=cmd_cover)

    from openvod.cli_tag import add_parsers as add_tag_parsers

    add_tag_parsers(sub, common, _settings, _runtime)
    from openvod.cli_audit import add_parsers as add_audit_parsers

    add_audit_parsers(sub, common, _runtime)
    from openvod.cli_jobs import add_parsers as add_jobs_parsers

    add_jobs_parsers(sub, common, _runtime)
    return ap


def main(argv: list[str] | None = None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    if getattr(args, "fn", None) is None:
        ap.print_help()
        return 0
    try:
        return int(args.fn(args) or 0)
    except CliError as exc:
        print(f"openvod: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`openvod … | head`): stop quietly, and keep Python from complaining
        # again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
