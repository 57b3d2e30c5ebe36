"""Run openvod's DNA matcher over the benchmark: fingerprint the library, index it, query every video.

    python -m bench.dna.run_openvod bench/dna/results/data [--out bench/dna/results/openvod.json]

Uses the same code path as a worker (fingerprint -> CodeIndex -> search.search) with default
settings. Fingerprints are cached under ``<data>/fp-cache`` keyed by the fingerprint options, so
re-scoring after a matching change does not decode again (``--no-cache`` to force).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from openvod.analyzers.dna.fingerprint import Fingerprint, FingerprintOptions, fingerprint_file
from openvod.analyzers.dna.index import CodeIndex
from openvod.analyzers.dna.search import search, single_threaded_blas
from openvod.config import DNASettings
from openvod.engine.analyzer_options import fingerprint_options, match_params


def load_fp(path: Path, cache: Path | None, opts: FingerprintOptions) -> tuple[Fingerprint, float]:
    if cache is not None:
        key = hashlib.sha1((opts.key() + str(path.resolve()) + str(path.stat().st_mtime)).encode()).hexdigest()[:16]
        f = cache / f"{path.stem}-{key}.fp"
        if f.exists():
            return Fingerprint.from_bytes(f.read_bytes()), -1.0
    t = time.perf_counter()
    fp = fingerprint_file(path, opts)
    dt = time.perf_counter() - t
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        tmp = f.with_name(f"{f.name}.{os.getpid()}.tmp")  # several runs may share one data folder
        tmp.write_bytes(fp.to_bytes())
        os.replace(tmp, f)
    return fp, dt


def main(argv: list[str] | None = None) -> int:
    with single_threaded_blas():
        return _main(argv)


def _main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--no-cache", action="store_true")
    ap.add_argument("--only", help="comma-separated query ids or classes")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="override a DNASettings field (tuning; choose values on the tuning split only)")
    args = ap.parse_args(argv)
    manifest = json.loads((args.data / "manifest.json").read_text())
    settings = DNASettings(**{k: json.loads(v) for k, v in (x.split("=", 1) for x in args.set)})
    opts = fingerprint_options(settings)
    params = match_params(settings)
    cache = None if args.no_cache else args.data / "fp-cache"

    index = CodeIndex(flat_limit=settings.index_flat_limit, nprobe=settings.index_nprobe)
    lib: dict[int, tuple[str, Fingerprint]] = {}
    t0 = time.perf_counter()
    for i, item in enumerate(manifest["library"]):
        fp, _ = load_fp(args.data / item["file"], cache, opts)
        lib[i] = (item["id"], fp)
        index.add(i, fp.codes)
    print(f"library fingerprinted/loaded: {len(lib)} videos, {index.ntotal} codes ({time.perf_counter() - t0:.1f}s)", flush=True)

    only = set(args.only.split(",")) if args.only else None
    predictions: dict[str, list[dict[str, Any]]] = {}
    details: dict[str, Any] = {}
    latencies = []
    cpu: list[float] = []  # CPU seconds of each search (wall times are inflated on a loaded machine)
    failed: dict[str, str] = {}
    for q in manifest["queries"]:
        if only and q["id"] not in only and q["class"] not in only:
            continue
        t = time.perf_counter()
        try:
            fp, _ = load_fp(args.data / q["file"], cache, opts)
            t = time.perf_counter()
            c = time.process_time()
            matches = search(fp, index, lambda v: lib.get(v), params)
            cpu.append(time.process_time() - c)
        except Exception as exc:  # a failed job: counted, never hidden
            failed[q["id"]] = f"{type(exc).__name__}: {exc}"
            print(f"  FAILED {q['id']}: {failed[q['id']]}", flush=True)
            continue
        latencies.append(time.perf_counter() - t)
        predictions[q["id"]] = [
            {"ref": m.key, "q": [s.q0, s.q1], "r": [s.r0, s.r1]} for m in matches for s in m.segments
        ]
        details[q["id"]] = [
            {"ref": m.key, "similarity": round(m.similarity, 3),
             "rotation": m.rotation,
             "segments": [{"q": [round(s.q0, 2), round(s.q1, 2)], "r": [round(s.r0, 2), round(s.r1, 2)],
                           "sim": round(s.similarity, 3), "speed": round(s.speed, 3),
                           "motion": round(s.motion, 3), "correlation": round(s.correlation, 3),
                           "symmetry": round(s.symmetry, 3), "reversed": s.reversed} for s in m.segments],
             "transform": {k: (round(v, 3) if isinstance(v, float) else v) for k, v in vars(m.transform).items()}}
            for m in matches
        ]
    out = {"method": "openvod", "settings": settings.model_dump(), "predictions": predictions, "details": details,
           "failed": failed,
           "query_latency_s": {"mean": sum(latencies) / max(1, len(latencies)), "max": max(latencies, default=0.0)},
           "query_cpu_s": {"mean": sum(cpu) / max(1, len(cpu)), "total": sum(cpu)}}
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(out, indent=1))
    print(f"queries: {len(predictions)}; mean search {out['query_latency_s']['mean'] * 1000:.1f} ms; "
          f"search CPU {sum(cpu):.1f} s (mean {out['query_cpu_s']['mean'] * 1000:.1f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
