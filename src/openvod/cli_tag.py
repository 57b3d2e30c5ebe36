"""``openvod tag …`` and ``openvod face …``: AIVideoTag from the command line.

* ``openvod tag run FILE [--types Face,ASR,…] [--srt out.srt] [--json]`` — tag a local file, no server.
* ``openvod tag export (--media-id M | --job-id J) [--account A] [--format json|srt|vtt] [-o FILE]``
  — a finished job's detail or subtitles.
* ``openvod face add --account A --name NAME IMAGE…`` — a named person with example photographs.
* ``openvod face list|name|remove`` — the account's face library.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def add_parsers(sub: Any, common: Callable[[argparse.ArgumentParser], None],
                settings: Callable[[argparse.Namespace], Any], runtime: Callable[[argparse.Namespace], Any]) -> None:
    """Register the ``tag`` and ``face`` sub-commands."""
    p = sub.add_parser("tag", help="AIVideoTag: tag a local file, export a job's detail or subtitles")
    ts = p.add_subparsers(dest="tag_cmd", required=True)
    c = ts.add_parser("run", help="tag a local video file (no server, nothing stored)")
    common(c)
    c.add_argument("file", help="the video file")
    c.add_argument("--types", default="Face,ASR,OCR,Category,Annotation",
                   help="comma-separated AnalyseTypes (default: all five)")
    c.add_argument("--srt", help="also write the transcript as SubRip here")
    c.add_argument("--vtt", help="also write the transcript as WebVTT here")
    c.add_argument("--json", action="store_true", help="print the detail as JSON")
    c.set_defaults(fn=lambda a: cmd_tag_run(a, settings(a)))
    c = ts.add_parser("export", help="a finished job's detail (json) or transcript (srt, vtt)")
    common(c)
    c.add_argument("--account", default="default", help="account name (default: default)")
    c.add_argument("--media-id", default="", help="the video's latest successful AIVideoTag job")
    c.add_argument("--job-id", default="", help="this AIVideoTag job")
    c.add_argument("--format", default="json", choices=("json", "srt", "vtt"),
                   help="detail as JSON, or the transcript as SubRip / WebVTT (default json)")
    c.add_argument("-o", "--out", help="write here instead of standard output")
    c.set_defaults(fn=lambda a: cmd_tag_export(a, runtime(a)))

    p = sub.add_parser("face", help="the account's face library (named people for AIVideoTag Face)")
    fs = p.add_subparsers(dest="face_cmd", required=True)
    c = fs.add_parser("add", help="add a named person from example photographs (one face each)")
    common(c)
    c.add_argument("--account", default="default", help="account name, created if new (default: default)")
    c.add_argument("--name", required=True, help="the person's name (becomes the Person Tag)")
    c.add_argument("images", nargs="+", help="photographs showing exactly one face each")
    c.add_argument("--json", action="store_true", help="print JSON instead of text")
    c = fs.add_parser("list", help="named and unknown people")
    common(c)
    c.add_argument("--account", default="default", help="account name (default: default)")
    c.add_argument("--json", action="store_true", help="print JSON instead of text")
    c = fs.add_parser("name", help="give a person (e.g. an Unknown-… one) a name")
    common(c)
    c.add_argument("--account", default="default", help="account name (default: default)")
    c.add_argument("person_id", help="the PersonId, or the Tag the results show (e.g. Unknown-d9168ae4)")
    c.add_argument("name", help="the new name")
    c = fs.add_parser("remove", help="remove a person from the library")
    common(c)
    c.add_argument("--account", default="default", help="account name (default: default)")
    c.add_argument("person_id", help="the PersonId, or the Tag the results show (e.g. Unknown-d9168ae4)")
    p.set_defaults(fn=lambda a: cmd_face(a, runtime(a)))


def cmd_tag_run(args: argparse.Namespace, settings: Any) -> int:
    from openvod.analyzers.tag.engine import MissingStreams, analyse
    from openvod.engine.analyzer_options import tag_options
    from openvod.analyzers.tag.subtitles import to_srt, to_vtt
    from openvod.analyzers.tag.wire import build_data, build_detail
    from openvod.models.cache import ModelCache, ModelUnavailable
    from openvod.pipeline import DecodeError

    types = [t.strip() for t in args.types.split(",") if t.strip()]
    try:
        res = analyse(Path(args.file), types, tag_options(settings.tag), ModelCache())
    except (MissingStreams, DecodeError, ModelUnavailable) as exc:
        print(f"{args.file}: {exc}", file=sys.stderr)
        return 1
    detail = build_detail(res, {}, "openvod-videotag")
    data = build_data(res, True, {}, "openvod-videotag")
    sentences = data.get("OrigASRData", {}).get("AsrTextList", [])
    if args.srt:
        Path(args.srt).write_text(to_srt(sentences), encoding="utf-8")
    if args.vtt:
        Path(args.vtt).write_text(to_vtt(sentences), encoding="utf-8")
    if args.json:
        print(json.dumps({"Data": data, "Detail": detail}, ensure_ascii=False, indent=1))
        return 0
    for key in ("Keyword", "Location", "Time"):
        for t in data.get(key, []):
            print(f"{key:9s} {t['Tag']}  @ {', '.join(t['Times'][:8])} ms")
    for c in data.get("Category", []):
        print(f"Category  {c['Tag']}  ({c['Confidence']})")
    for f in detail.get("Faces", []):
        spans = ", ".join(f"{a['StartTime']}-{a['EndTime']}" for a in f["Appearances"])
        print(f"Person    #{f['Person']}  @ {spans} ms")
    for s in sentences:
        print(f"ASR       {s['StartTime']}-{s['EndTime']} ms  {s['Text']}")
    print("seconds: " + json.dumps(detail["Seconds"]))
    return 0


def cmd_tag_export(args: argparse.Namespace, rt: Any) -> int:
    from openvod.cli_common import account_id as existing_account
    from openvod.errors import VodError

    account_id = existing_account(rt, args.account)
    try:
        out = rt.tag_export.export(account_id, args.media_id, args.job_id, args.format)
    except VodError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    text = json.dumps(out, ensure_ascii=False, indent=1) if args.format == "json" else out["Subtitle"]
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


def _embed_images(images: list[str], backend: str) -> list[tuple[str, Any]]:
    import numpy as np
    from PIL import Image, ImageOps

    from openvod.analyzers.tag.face import FaceModels, FaceOptions
    from openvod.models.cache import ModelCache

    fm = FaceModels(FaceOptions(backend=backend, det_max_side=1024), ModelCache())
    out = []
    for path in images:
        rgb = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
        faces = fm.detect(rgb)
        if len(faces) != 1:
            print(f"{path}: {len(faces)} faces found; an example image must show exactly one", file=sys.stderr)
            continue
        out.append((Path(path).name, fm.embed(rgb, faces[0][0])))
    return out


def cmd_face(args: argparse.Namespace, rt: Any) -> int:
    from openvod.analyzers.tag.face import choose_backend
    from openvod.services.faces import FaceLibrary, person_record
    from openvod.cli_common import account_id as existing_account

    account_id = existing_account(rt, args.account, create=args.face_cmd == "add")
    backend = choose_backend(rt.settings.tag.face_backend)
    lib = FaceLibrary(rt.engine, account_id, backend)
    if args.face_cmd == "add":
        embeddings = _embed_images(args.images, backend)
        if not embeddings:
            print("no usable example image", file=sys.stderr)
            return 1
        pid = lib.add_person(args.name, embeddings)
        if args.json:
            print(json.dumps({"PersonId": pid, "Name": args.name, "Examples": len(embeddings)}))
        else:
            print(f"{pid}\t{args.name}\t{len(embeddings)} example(s)")
        return 0
    if args.face_cmd == "list":
        records = [person_record(p) for p in lib.people()]
        if args.json:
            print(json.dumps(records, ensure_ascii=False))
        else:
            for p in records:
                print(f"{p['PersonId']}\t{p['Tag']}\t{p['Source']}\t{p['Backend']}\tsamples={p['Samples']}")
        return 0
    people = lib.people()
    person = resolve_person(people, args.person_id)
    if person is None:
        shown = ", ".join(p.tag for p in people[:10]) or "none"
        print(f"no such person: {args.person_id} (give a PersonId or Tag from `openvod face list`; "
              f"people: {shown})", file=sys.stderr)
        return 1
    if args.face_cmd == "name":
        lib.name_person(person.id, args.name)
        print(f"{person.id}\t{person.tag} -> {args.name.strip()}")
    else:
        lib.remove_person(person.id)
        print(f"removed {person.id}\t{person.tag}")
    return 0


def resolve_person(people: list[Any], ref: str) -> Any:
    """The person a PersonId or a displayed Tag (a name or ``Unknown-<8 hex>``) refers to, if exactly one."""
    ref = ref.strip()
    by_id = [p for p in people if p.id == ref]
    if by_id:
        return by_id[0]
    by_tag = [p for p in people if p.tag == ref] or [p for p in people if p.tag.lower() == ref.lower()]
    return by_tag[0] if len(by_tag) == 1 else None
