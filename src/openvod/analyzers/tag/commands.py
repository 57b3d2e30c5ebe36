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
    c.add_argument("file")
    c.add_argument("--types", default="Face,ASR,OCR,Category,Annotation")
    c.add_argument("--srt", help="also write the transcript as SubRip here")
    c.add_argument("--vtt", help="also write the transcript as WebVTT here")
    c.add_argument("--json", action="store_true", help="print the detail as JSON")
    c.set_defaults(fn=lambda a: cmd_tag_run(a, settings(a)))
    c = ts.add_parser("export", help="a finished job's detail (json) or transcript (srt, vtt)")
    common(c)
    c.add_argument("--account", default="default")
    c.add_argument("--media-id", default="")
    c.add_argument("--job-id", default="")
    c.add_argument("--format", default="json", choices=("json", "srt", "vtt"))
    c.add_argument("-o", "--out", help="write here instead of standard output")
    c.set_defaults(fn=lambda a: cmd_tag_export(a, runtime(a)))

    p = sub.add_parser("face", help="the account's face library (named people for AIVideoTag Face)")
    fs = p.add_subparsers(dest="face_cmd", required=True)
    c = fs.add_parser("add", help="add a named person from example photographs (one face each)")
    common(c)
    c.add_argument("--account", default="default")
    c.add_argument("--name", required=True)
    c.add_argument("images", nargs="+")
    c.add_argument("--json", action="store_true")
    c = fs.add_parser("list", help="named and unknown people")
    common(c)
    c.add_argument("--account", default="default")
    c.add_argument("--json", action="store_true")
    c = fs.add_parser("name", help="give a person (e.g. an Unknown-… one) a name")
    common(c)
    c.add_argument("--account", default="default")
    c.add_argument("person_id")
    c.add_argument("name")
    c = fs.add_parser("remove", help="remove a person from the library")
    common(c)
    c.add_argument("--account", default="default")
    c.add_argument("person_id")
    p.set_defaults(fn=lambda a: cmd_face(a, runtime(a)))


def cmd_tag_run(args: argparse.Namespace, settings: Any) -> int:
    from openvod.analyzers.tag.engine import MissingStreams, analyse
    from openvod.analyzers.tag.handler import options_from_settings
    from openvod.analyzers.tag.subtitles import to_srt, to_vtt
    from openvod.analyzers.tag.wire import build_data, build_detail
    from openvod.models.cache import ModelCache, ModelUnavailable
    from openvod.pipeline.decode import DecodeError

    types = [t.strip() for t in args.types.split(",") if t.strip()]
    try:
        res = analyse(Path(args.file), types, options_from_settings(settings.tag), ModelCache())
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
    print(f"seconds: {detail['Seconds']}")
    return 0


def cmd_tag_export(args: argparse.Namespace, rt: Any) -> int:
    from openvod.analyzers.tag.export import export
    from openvod.errors import VodError

    account_id = rt.accounts.ensure_account(args.account)
    try:
        out = export(rt, account_id, args.media_id, args.job_id, args.format)
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
    from openvod.analyzers.tag.library import FaceLibrary, person_record

    account_id = rt.accounts.ensure_account(args.account)
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
        people = [person_record(p) for p in lib.people()]
        if args.json:
            print(json.dumps(people, ensure_ascii=False))
        else:
            for p in people:
                print(f"{p['PersonId']}\t{p['Tag']}\t{p['Source']}\t{p['Backend']}\tsamples={p['Samples']}")
        return 0
    ok = lib.name_person(args.person_id, args.name) if args.face_cmd == "name" else lib.remove_person(args.person_id)
    if not ok:
        print(f"no such person: {args.person_id}", file=sys.stderr)
        return 1
    return 0
