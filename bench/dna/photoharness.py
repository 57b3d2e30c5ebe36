"""Photometric harness: strong gamma / contrast / brightness copies (also at a low bitrate) of screen
recordings, photos, title cards and plasma shots of a library, each matched against its source with
the default settings; prints bounds errors and every verification measure (thresholds off).

    PYTHONPATH=src:. python -m bench.dna.photoharness /work/data/dna/tuning3/data --work out/photo [--set k=v ...]

Library videos are only read (the tuning split); copies and fingerprints go under ``--work``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
from pathlib import Path

import numpy as np

from openvod.analyzers.dna.fingerprint import Fingerprint, FingerprintOptions, fingerprint_file
from openvod.analyzers.dna.search import compare, single_threaded_blas
from openvod.config import DNASettings
from openvod.engine.analyzer_options import fingerprint_options, match_params

# (library video, start, end): shots that lose contrast easily (text on flat backgrounds, photos, soft plasma)
CLIPS = [("lib001", 11.0, 20.5), ("lib002", 0.5, 8.5), ("lib003", 22.0, 32.0), ("lib004", 26.0, 36.0),
         ("lib006", 10.0, 20.0), ("lib007", 22.0, 33.0), ("lib008", 10.5, 20.5), ("lib012", 28.0, 38.0),
         ("lib014", 1.0, 11.0), ("lib015", 19.0, 29.0), ("lib000", 29.5, 37.5), ("lib013", 26.5, 37.5)]
# name: (ffmpeg eq arguments, extra encoder arguments)
TRANSFORMS = {
    "c065": ("contrast=0.65", []),
    "c05": ("contrast=0.5", []),
    "c06g16": ("contrast=0.6:gamma=1.6", []),
    "c07g06": ("contrast=0.7:gamma=0.6", []),
    "b40c15": ("brightness=0.157:contrast=1.5", []),
    "bm40g16": ("brightness=-0.157:gamma=1.6", []),
    "bm40c06": ("brightness=-0.157:contrast=0.6", []),
    "c06lowbr": ("contrast=0.6:gamma=1.4", ["-b:v", "120k", "-s", "426x240"]),
    "s256": ("contrast=1", ["-s", "256x144", "-crf", "28"]),
    "s854": ("contrast=1", ["-s", "854x480", "-crf", "26"]),
    "s256c07": ("contrast=0.7:brightness=0.1", ["-s", "256x144", "-b:v", "60k"]),
}


def make_copy(src: Path, a: float, b: float, eq: str, extra: list[str], out: Path) -> None:
    if out.exists():
        return
    tmp = out.with_suffix(".tmp.mp4")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-ss", f"{a}", "-t", f"{b - a}", "-i", str(src), "-vf", f"eq={eq}",
                    "-an", "-c:v", "libx264", "-preset", "veryfast", *(extra or ["-crf", "26"]), str(tmp)], check=True)
    tmp.rename(out)


def cached_fp(path: Path, opts: FingerprintOptions, cache: Path) -> Fingerprint:
    f = cache / (path.stem + ".fp")
    if f.exists():
        fp = Fingerprint.from_bytes(f.read_bytes())
        if fp.options_key == opts.key():
            return fp
    fp = fingerprint_file(path, opts)
    f.write_bytes(fp.to_bytes())
    return fp


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("data", type=Path)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--set", nargs="*", default=[])
    ap.add_argument("--only", default="")
    args = ap.parse_args(argv)
    over = {}
    for kv in args.set:
        k, v = kv.split("=", 1)
        over[k] = type(getattr(DNASettings(), k))(v)
    s = DNASettings(**over)
    opts = fingerprint_options(s)
    params = match_params(s)
    raw = dataclasses.replace(params, min_motion=0, min_correlation=-1, min_pair_correlation=-1, min_similarity=0,
                              min_symmetry=0, min_short_correlation=-1, motion_noise_ratio=0, min_offspeed_correlation=-1)
    cache = args.work / "fp"
    cache.mkdir(parents=True, exist_ok=True)
    rows, ok_all = [], 0
    with single_threaded_blas():
        for lib, a, b in CLIPS:
            r = cached_fp(args.data / "library" / f"{lib}.mp4", opts, cache)
            for name, (eq, extra) in TRANSFORMS.items():
                if args.only and args.only not in f"{lib}_{name}":
                    continue
                qp = args.work / f"{lib}_{int(a)}_{name}.mp4"
                make_copy(args.data / "library" / f"{lib}.mp4", a, b, eq, extra, qp)
                q = cached_fp(qp, opts, cache)
                m = compare(q, r, params)
                mr = compare(q, r, raw)
                flat = float(q.flat.mean())
                err = None
                if m is not None:
                    segs = [sg for sg in m.segments if sg.r1 > a and sg.r0 < b]
                    if segs:
                        q0, q1 = min(sg.q0 for sg in segs), max(sg.q1 for sg in segs)
                        r0, r1 = min(sg.r0 for sg in segs), max(sg.r1 for sg in segs)
                        err = max(abs(q0 - 0), abs(q1 - (b - a)), abs(r0 - a), abs(r1 - b))
                meas = ""
                if mr is not None:
                    lg = max(mr.segments, key=lambda sg: sg.duration)
                    meas = (f"sim {lg.similarity:.3f} mot {lg.motion:.3f} corr {lg.correlation:.3f} sym {lg.symmetry:.2f} "
                            f"q {lg.q0:.1f}-{lg.q1:.1f} slope {lg.slope:.3f}")
                good = err is not None and err < 1.0
                ok_all += good
                rows.append({"clip": f"{lib}_{int(a)}", "t": name, "err": err, "flat": flat})
                print(f"{lib}@{a:<5} {name:9s} {'OK ' if good else 'BAD'} err {err if err is None else round(err, 2)!s:6} "
                      f"flat {flat:.2f} | {meas}", flush=True)
    print(f"TOTAL within 1 s: {ok_all}/{len(rows)}")
    (args.work / "result.json").write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
