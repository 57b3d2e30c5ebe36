"""Query latency against libraries of 100, 1,000 and 10,000 videos.

    python -m bench.dna.latency bench/dna/results/data [--sizes 100,1000,10000] [--queries 20]

Each library lives in its own SQLite store, exactly as a worker sees it: the benchmark's real library
videos plus synthetic ones up to the size (random 64-bit codes at the real videos' mean code rate,
with blank thumbnails; they are what makes the index large). The measured time is ``Library.search``
for real query fingerprints: store sync check, ANN retrieval, loading and verifying candidates.
Index build without a saved index is reported separately; "fresh" is the first query of a new
``Library`` (what a fresh worker process has) once the built index was published as a snapshot in
a local-folder blob store: it loads it, replays the change log after it, and searches
(bench/scale/fresh_worker.py measures the same in a new process, from SeaweedFS).

Each size also reports how many queries found exactly what they find among the real videos alone (same
library videos and segments, to 0.1 s): a faster setting (a smaller ``index_nprobe``, fewer codes per
query) has to keep that at every size, since the synthetic rows only add index load and candidates.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert

from bench.dna.run_openvod import load_fp
from openvod.analyzers.dna.fingerprint import Fingerprint
from openvod.analyzers.dna.index import CodeIndex
from openvod.analyzers.dna.search import search, single_threaded_blas
from openvod.config import DNASettings
from openvod.engine.analyzer_options import fingerprint_options, match_params
from openvod.services.dna_snapshot import SnapshotStore
from openvod.services.fingerprints import Library, fingerprint_version
from openvod.storage.blobs import LocalBlobStore
from openvod.store.db import init_schema, make_engine
from openvod.store.tables import dna_videos


def synthetic(rng: np.random.Generator, codes_per_s: float, duration: float, template: Fingerprint) -> Fingerprint:
    n = int(duration * 4)
    m = max(1, int(codes_per_s * duration))
    return Fingerprint(
        times=(np.arange(n) / 4.0).astype(np.float32),
        thumbs=np.zeros((n, 32, 32), np.uint8),
        flat=np.ones(n, bool),
        code_frame=np.sort(rng.integers(0, n, m)).astype(np.int32),
        code_geom=np.tile(np.array([[0.5, 0.5, 0.5]], np.float32), (m, 1)),
        codes=rng.integers(0, 256, size=(m, 8), dtype=np.uint8),
        codes_flip=rng.integers(0, 256, size=(m, 8), dtype=np.uint8),
        duration=duration, width=480, height=270, box=(0.0, 0.0, 1.0, 1.0), options_key=template.options_key,
    )


def outcome(matches: list[Any]) -> list[tuple[str, float, float, float, float]]:
    """A search result as comparable data: (library video, q0, q1, r0, r1) per segment, to 0.1 s."""
    return sorted((str(m.key), round(g.q0, 1), round(g.q1, 1), round(g.r0, 1), round(g.r1, 1)) for m in matches for g in m.segments)


def build_store(path: Path, real: list[tuple[str, Fingerprint]], size: int, seed: int) -> Any:
    engine = make_engine(f"sqlite:///{path}")
    init_schema(engine)
    rng = np.random.default_rng(seed)
    codes_per_s = sum(fp.codes.shape[0] for _, fp in real) / sum(fp.duration for _, fp in real)
    version = fingerprint_version(fingerprint_options(DNASettings()))
    rows = []
    blank = None
    for i in range(size):
        if i < len(real):
            key, fp = real[i]
        else:
            key, fp = f"synthetic{i:06d}", synthetic(rng, codes_per_s, float(rng.uniform(15, 40)), real[0][1])
        blob = fp.to_bytes() if i < len(real) or blank is None else blank
        if i >= len(real) and blank is None:
            blank = blob  # synthetic rows share one stored picture set; their codes differ
        rows.append({"account_id": "bench", "db_id": "", "media_id": key, "job_id": "", "version": version,
                     "duration": fp.duration, "n_codes": int(fp.codes.shape[0]), "codes": fp.codes.tobytes(),
                     "fingerprint": blob, "created_at": 0.0})
        if len(rows) >= 2000:
            with engine.begin() as conn:
                conn.execute(insert(dna_videos), rows)
            rows = []
    if rows:
        with engine.begin() as conn:
            conn.execute(insert(dna_videos), rows)
    return engine


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path)
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--queries", type=int, default=20)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--profile", type=int, default=0, metavar="N",
                    help="print the N most expensive functions (cumulative) of the warm queries at each size")
    args = ap.parse_args(argv)
    manifest = json.loads((args.data / "manifest.json").read_text())
    s = DNASettings()
    opts, params = fingerprint_options(s), match_params(s)
    cache = args.data / "fp-cache"
    real = [(x["id"], load_fp(args.data / x["file"], cache, opts)[0]) for x in manifest["library"]]
    queries = [load_fp(args.data / q["file"], cache, opts)[0] for q in manifest["queries"][:: max(1, len(manifest["queries"]) // args.queries)]]
    # What the queries find in a library of the real videos alone: at every size the same queries must find the
    # same (the synthetic videos only add index load and candidates), or a speed-up costs recall.
    index = CodeIndex(flat_limit=s.index_flat_limit, nprobe=s.index_nprobe)
    for i, (_, fp) in enumerate(real):
        index.add(i, fp.codes)
    with single_threaded_blas():
        reference = [outcome(search(q, index, lambda v: real[v] if 0 <= v < len(real) else None, params)) for q in queries]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in [int(x) for x in args.sizes.split(",")]:
            engine = build_store(Path(tmp) / f"lib{size}.db", real, size, size)
            snapshots = SnapshotStore(engine, LocalBlobStore(Path(tmp) / f"blobs{size}"))

            def library() -> Library:
                return Library(engine, "bench", "", opts, params, flat_limit=s.index_flat_limit, nprobe=s.index_nprobe,
                               snapshots=snapshots)

            # A worker with no saved index: reads every row's codes, builds (and, if IVF, saves) the index.
            lib = library()
            t = time.perf_counter()
            lib.sync()
            build = time.perf_counter() - t
            lib.wait_snapshot()  # published in the background (IVF)
            lib.search(queries[0])  # warm the fingerprint cache path once
            lat, cpu, same = [], [], 0
            prof = cProfile.Profile() if args.profile else None
            for q, ref in zip(queries, reference, strict=True):
                t, c = time.perf_counter(), time.process_time()
                if prof is not None:
                    prof.enable()
                found = lib.search(q)
                if prof is not None:
                    prof.disable()
                same += outcome(found) == ref
                lat.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
            if prof is not None:
                pstats.Stats(prof).sort_stats("cumulative").print_stats(args.profile)
            lat.sort()
            # A fresh worker (a new Library, as a new worker process has): its first query loads the saved
            # index (IVF) or builds the flat one from the store, then searches.
            fresh = library()
            t = time.perf_counter()
            fresh.search(queries[1 % len(queries)])
            fresh_first = time.perf_counter() - t
            row = {"videos": size, "codes": lib.index.ntotal, "index": lib.index.kind, "index_build_s": round(build, 2),
                   "fresh_first_query_s": round(fresh_first, 3), "fresh_loaded_saved_index": fresh.index.builds == 0,
                   "query_mean_ms": round(1000 * statistics.mean(lat), 1), "query_p50_ms": round(1000 * lat[len(lat) // 2], 1),
                   "query_p95_ms": round(1000 * lat[min(len(lat) - 1, int(0.95 * len(lat)))], 1), "queries": len(lat),
                   # CPU time is what the query costs on an idle core (this benchmark shares its machine).
                   "query_cpu_mean_ms": round(1000 * statistics.mean(cpu), 1),
                   # queries whose result (library videos and segments, to 0.1 s) is the one found among the real videos alone
                   "same_result_as_real_library": f"{same}/{len(queries)}"}
            results.append(row)
            print(f"  {size:>6} videos, {row['codes']:>8} codes ({row['index']}, built in {row['index_build_s']}s): "
                  f"warm query mean {row['query_mean_ms']} ms, p50 {row['query_p50_ms']} ms, p95 {row['query_p95_ms']} ms, "
                  f"CPU mean {row['query_cpu_mean_ms']} ms; fresh worker first query {row['fresh_first_query_s']} s "
                  f"(saved index loaded: {row['fresh_loaded_saved_index']}); same result as the real videos alone: "
                  f"{row['same_result_as_real_library']}", flush=True)
            engine.dispose()
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
