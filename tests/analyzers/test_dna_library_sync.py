"""Fingerprint libraries across workers: the change log applied incrementally, index snapshots in the
blob store, a fresh worker that loads one and replays the tail (SQLite + the local blob folder here;
tests/scaleout/test_dna_libraries.py runs the same scenario on PostgreSQL + SeaweedFS)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from openvod.analyzers.dna.fingerprint import Fingerprint, FingerprintOptions, fingerprint_file
from openvod.analyzers.dna.search import MatchParams
from openvod.config import Settings
from openvod.runtime import Runtime
from openvod.services import dna_log
from openvod.services.dna_log import published
from openvod.services.dna_snapshot import SnapshotStore
from openvod.services.fingerprints import Library, delete_video
from openvod.storage.blobs import LocalBlobStore
from openvod.store.db import init_schema, make_engine
from openvod.store.tables import dna_index_snapshots, dna_library_log
from tests.analyzers.test_dna_clips import make_copy, make_source
from tests.conftest import db_env, db_url, settings_db

SMALL_INDEX = {"index_flat_limit": 50, "index_nprobe": 64}  # a few clips make an IVF index (snapshots)


def make_prints(d: Path) -> dict[str, Fingerprint]:
    src = make_source(d / "src.mp4", seconds=12.0, seed=11)
    make_source(d / "other.mp4", seconds=10.0, seed=12)
    make_copy(d / "copy.mp4", src, 2.0, 9.0, crf=30)
    return {k: fingerprint_file(d / f"{k}.mp4") for k in ("src", "other", "copy")}


@pytest.fixture(scope="module")
def prints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Fingerprint]:
    return make_prints(tmp_path_factory.mktemp("dnasync"))


def keys(found: list[Any]) -> list[str]:
    return [m.key for m in found]


def two_workers_and_a_fresh_one(sa: Settings, sb: Settings, sc: Settings, prints: dict[str, Fingerprint]) -> None:
    """Workers A and B (two Runtimes on one database and one blob store) and a fresh worker C."""
    acc, db = "acc1", "lib-x"
    a, b = Runtime(sa), Runtime(sb)
    try:
        la, lb = a.fingerprints.library(acc, db), b.fingerprints.library(acc, db)
        assert lb.search(prints["copy"]) == []  # B has served the (empty) library once
        assert lb.stats["full_loads"] == 1
        la.add("m-src", prints["src"])
        la.add("m-other", prints["other"])
        # B's next query sees A's videos: the two log rows applied, nothing re-read.
        assert keys(lb.search(prints["copy"], exclude_media="m-copy")) == ["m-src"]
        assert lb.stats["full_loads"] == 1 and lb.stats["replayed"] == 2
        # Other accounts and other DNADBIds are other libraries.
        assert b.fingerprints.library("acc2", db).search(prints["copy"]) == []
        assert b.fingerprints.library(acc, "other-db").search(prints["copy"]) == []
        # A deletion through A (DeleteVideo: every library of the account) reaches B's index.
        assert a.fingerprints.delete_video(acc, "m-src", None) == 1
        assert lb.search(prints["copy"]) == [] and "m-src" not in lb.media_ids().values()
        assert lb.stats["full_loads"] == 1 and lb.stats["replayed"] == 3
        la.add("m-src", prints["src"])
        # B published a snapshot when its index became IVF (version 2, in the background); A's first
        # sync loads it and replays versions 3 and 4 instead of reading the library.
        lb.wait_snapshot()
        la.sync()
        assert la.stats["snapshot_loads"] == 1 and la.stats["full_loads"] == 0 and la.stats["replayed"] == 2
        assert keys(lb.search(prints["copy"], exclude_media="m-copy")) == ["m-src"]
        with a.engine.connect() as conn:
            old = published(conn, acc, db, la.version)
        assert old is not None and old.version == 2 and old.blob_key.startswith("dna-index/acc1/")
        # A newer snapshot replaces it (and its blob goes); one of the same version does not.
        assert la.save_snapshot() and not lb.save_snapshot()
        with a.engine.connect() as conn:
            snap = published(conn, acc, db, la.version)
        assert snap is not None and snap.version == 4 and snap.videos == 2 and a.blobs.exists(snap.blob_key)
        assert not a.blobs.exists(old.blob_key)
        # The tail after the snapshot: one video added, one deleted.
        la.add("m-copy", prints["copy"])
        assert a.fingerprints.delete_video(acc, "m-other", db) == 1
        c = Runtime(sc)
        try:
            lc = c.fingerprints.library(acc, db)
            assert keys(lc.search(prints["src"], exclude_media="m-src")) == ["m-copy"]
            assert lc.stats["snapshot_loads"] == 1 and lc.stats["full_loads"] == 0 and lc.stats["replayed"] == 2
            assert lc.index.builds == 0 and lc.index.kind == "ivf"  # loaded, never trained
            assert keys(lb.search(prints["src"], exclude_media="m-src")) == ["m-copy"]
            assert sorted(lc.media_ids().values()) == ["m-copy", "m-src"] == sorted(lb.media_ids().values())
        finally:
            c.close()
    finally:
        a.close()
        b.close()


def test_two_workers_and_a_fresh_one_on_sqlite_and_local_blobs(tmp_path: Path, prints: dict[str, Fingerprint]) -> None:
    s = Settings(data_dir=tmp_path, dna=SMALL_INDEX)  # one machine: one database file, one blob folder
    two_workers_and_a_fresh_one(s, s, s, prints)


def test_a_snapshot_key_outside_the_account_is_never_followed(tmp_path: Path, prints: dict[str, Fingerprint]) -> None:
    rt = Runtime(Settings(data_dir=tmp_path, database_url=settings_db(tmp_path), dna=SMALL_INDEX))
    try:
        lib = rt.fingerprints.library("acc1", "")
        lib.add("m-src", prints["src"])
        lib.add("m-other", prints["other"])
        lib.sync()
        lib.wait_snapshot()
        with rt.engine.begin() as conn:  # a pointer that names another account's folder
            snap = published(conn, "acc1", "", lib.version)
            assert snap is not None
            conn.execute(dna_index_snapshots.update().where(dna_index_snapshots.c.account_id == "acc1")
                         .values(blob_key=snap.blob_key.replace("dna-index/acc1/", "dna-index/acc2/")))
            assert published(conn, "acc1", "", lib.version) is None
        fresh = Library(rt.engine, "acc1", "", lib.opts, lib.params, flat_limit=50, nprobe=64,
                        snapshots=rt.fingerprints.snapshots)
        assert keys(fresh.search(prints["copy"])) == ["m-src"]
        assert fresh.stats["snapshot_loads"] == 0 and fresh.stats["full_loads"] == 1
    finally:
        rt.close()



FRESH_PROCESS = """
import json, sys
from pathlib import Path
from openvod.analyzers.dna.fingerprint import Fingerprint
from openvod.config import Settings
from openvod.runtime import Runtime
rt = Runtime(Settings(data_dir=Path(sys.argv[1]), dna={"index_flat_limit": 50, "index_nprobe": 64}), migrate=False)
lib = rt.fingerprints.library("acc1", "")
found = lib.search(Fingerprint.from_bytes(Path(sys.argv[2]).read_bytes()))
print(json.dumps({"keys": [m.key for m in found], "builds": lib.index.builds, **lib.stats}))
"""


def test_a_fresh_worker_process_loads_the_snapshot(tmp_path: Path, prints: dict[str, Fingerprint]) -> None:
    """Another process (as a new worker is) serves its first query from the published snapshot."""
    import json
    import subprocess
    import sys

    rt = Runtime(Settings(data_dir=tmp_path, database_url=settings_db(tmp_path), dna=SMALL_INDEX))
    try:
        lib = rt.fingerprints.library("acc1", "")
        lib.add("m-src", prints["src"])
        lib.add("m-other", prints["other"])
        lib.sync()
        lib.wait_snapshot()
        lib.add("m-late", prints["src"])  # after the snapshot: replayed from the log
    finally:
        rt.close()
    (tmp_path / "query.fp").write_bytes(prints["copy"].to_bytes())
    out = subprocess.run([sys.executable, "-c", FRESH_PROCESS, str(tmp_path), str(tmp_path / "query.fp")],
                         capture_output=True, text=True, check=True, timeout=120,
                         env={**os.environ, **db_env(tmp_path)})  # PostgreSQL mode: the same database
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert sorted(got["keys"]) == ["m-late", "m-src"]
    assert got["snapshot_loads"] == 1 and got["full_loads"] == 0 and got["replayed"] == 1 and got["builds"] == 0


# ---------------------------------------------------------------------------------------------- property
def _fp(codes: np.ndarray) -> Fingerprint:
    n = 8
    return Fingerprint(times=(np.arange(n) / 4.0).astype(np.float32), thumbs=np.zeros((n, 32, 32), np.uint8),
                       flat=np.ones(n, bool), code_frame=np.zeros(codes.shape[0], np.int32),
                       code_geom=np.full((codes.shape[0], 3), 0.5, np.float32), codes=codes, codes_flip=codes,
                       duration=2.0, width=64, height=64, box=(0.0, 0.0, 1.0, 1.0))


def _codes(media: int, variant: int) -> np.ndarray:
    rng = np.random.default_rng(1000 * media + variant)
    return rng.integers(0, 256, size=(4 + 9 * variant, 8), dtype=np.uint8)


def _state(lib: Library) -> dict[str, bytes]:
    """What the index holds: media id -> its codes (and the FAISS index agrees on the total)."""
    media = lib.media_ids()
    assert lib.index.videos() == set(media) and lib.index.ntotal == sum(lib.index._codes[v].shape[0] for v in media)
    return {m: lib.index._codes[v].tobytes() for v, m in media.items()}


def _hits(lib: Library, queries: np.ndarray) -> list[tuple[int, str, int]]:
    qrow, vid, row, _ = lib.index.search(queries, 0)
    media = lib.media_ids()
    return sorted((int(q), media[int(v)], int(r)) for q, v, r in zip(qrow, vid, row, strict=True))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, SnapshotStore]:
    d = tmp_path_factory.mktemp("dnaprop")
    engine = make_engine(db_url(d))
    init_schema(engine)
    return engine, SnapshotStore(engine, LocalBlobStore(d / "blobs"))


OPS = st.lists(st.tuples(st.sampled_from(["add", "add", "del", "del_all", "sync", "snapshot"]),
                         st.integers(0, 5), st.integers(0, 3), st.sampled_from(["", "db2"])), max_size=30)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_incremental_apply_equals_a_full_rebuild(store: tuple[Engine, SnapshotStore], ops: list[Any]) -> None:
    """Any sequence of adds, replacements and deletes (one library, or all of the account's), applied
    by a worker that syncs now and then, and by a fresh worker from the latest snapshot plus the log,
    gives exactly the index a full rebuild from the store gives."""
    engine, snaps = store
    acc = uuid.uuid4().hex[:12]
    opts, params = FingerprintOptions(), MatchParams()

    def lib(db: str, snapshots: SnapshotStore | None = snaps) -> Library:
        return Library(engine, acc, db, opts, params, flat_limit=30, nprobe=64, snapshots=snapshots)

    followers = {"": lib(""), "db2": lib("db2")}
    for op, media, variant, db in ops:
        if op == "add":
            lib(db, None).add(f"m{media}", _fp(_codes(media, variant)))
        elif op == "del":
            delete_video(engine, acc, f"m{media}", db)
        elif op == "del_all":
            delete_video(engine, acc, f"m{media}", None)
        elif op == "sync":
            followers[db].sync()
        else:  # a worker that publishes a snapshot of what it has (then keeps following)
            followers[db].save_snapshot()
    queries = np.concatenate([_codes(m, v)[:2] for m in range(6) for v in range(4)])
    for db, follower in followers.items():
        follower.sync()
        follower.wait_snapshot()
        rebuilt = lib(db, None)
        rebuilt.sync()
        fresh = lib(db)
        fresh.sync()
        assert _state(follower) == _state(rebuilt) == _state(fresh)
        assert _hits(follower, queries) == _hits(rebuilt, queries) == _hits(fresh, queries)
        assert fresh.stats["full_loads"] + fresh.stats["snapshot_loads"] == 1
        event(f"{follower.index.kind} index, fresh worker from {'a snapshot' if fresh.stats['snapshot_loads'] else 'the store'}")
    with engine.connect() as conn:  # every change is in the log, numbered without gaps per library
        for db in ("", "db2"):
            c = dna_library_log.c
            n, top = conn.execute(select(func.count(), func.max(c.version)).where(c.account_id == acc,
                                                                                   c.db_id == db)).one()
            assert int(n) == int(top or 0)


def test_a_worker_behind_the_trimmed_log_re_reads_the_library(store: tuple[Engine, SnapshotStore],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    engine, snaps = store
    monkeypatch.setattr(dna_log, "LOG_KEEP", 3)
    monkeypatch.setattr(dna_log, "TRIM_EVERY", 2)
    acc = uuid.uuid4().hex[:12]

    def lib(snapshots: SnapshotStore | None = snaps) -> Library:
        return Library(engine, acc, "", FingerprintOptions(), MatchParams(), flat_limit=60, nprobe=64,
                       snapshots=snapshots)

    writer, follower = lib(None), lib()
    for m in range(4):
        writer.add(f"m{m}", _fp(_codes(m, 2)))
    follower.sync()  # its index becomes IVF: a snapshot of version 4 is published
    follower.wait_snapshot()
    assert follower.index.kind == "ivf" and follower.stats["snapshot_saves"] == 1
    for m in range(4, 10):
        writer.add(f"m{m}", _fp(_codes(m, 1)))
    delete_video(engine, acc, "m1", "")
    with engine.connect() as conn:
        assert [c.version for c in dna_log.changes_after(conn, acc, "", 0)] == [8, 9, 10, 11]
    follower.sync()  # at version 4: versions 5-7 are gone
    fresh = lib()
    fresh.sync()  # loads the snapshot of version 4, cannot replay, re-reads the row ids
    rebuilt = lib(None)
    rebuilt.sync()
    assert _state(follower) == _state(fresh) == _state(rebuilt) and len(_state(rebuilt)) == 9
    assert follower.stats["full_loads"] == 2 and fresh.stats["snapshot_loads"] == 1 and fresh.stats["full_loads"] == 1


def test_the_face_library_is_shared_without_an_index(tmp_path: Path) -> None:
    """The face library keeps no per-worker index: each identify reads the account's people in its
    transaction, so a person added, merged or removed through one worker is what the next job on
    any other worker matches against."""
    s = Settings(data_dir=tmp_path, database_url=settings_db(tmp_path))
    a, b = Runtime(s), Runtime(s)
    try:
        anne = np.full(128, 0.1, np.float32)
        bob = np.full(128, -0.1, np.float32)
        pid = a.faces.library("acc1", "dlib").add_person("Anne", [("anne.jpg", anne)])
        seen = b.faces.for_account("acc1").identify("dlib", [anne + 0.01], 0.5, [""])
        assert seen[0].person_id == pid and seen[0].known
        assert b.faces.for_account("acc2").identify("dlib", [anne], 0.5, [""])[0].created  # other account
        new = b.faces.for_account("acc1").identify("dlib", [bob], 0.5, [""])[0]
        assert new.created and a.faces.library("acc1", "dlib").merge_people(pid, new.person_id)
        assert b.faces.for_account("acc1").identify("dlib", [bob], 0.5, [""])[0].person_id == pid
        assert a.faces.library("acc1", "dlib").remove_person(pid)
        assert b.faces.for_account("acc1").identify("dlib", [anne], 0.5, [""])[0].created
    finally:
        a.close()
        b.close()
