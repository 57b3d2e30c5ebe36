"""Fingerprint libraries in the store: add, search, delete, isolation, atomic writes, index sync."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from openvod.analyzers.dna.fingerprint import Fingerprint, FingerprintOptions, fingerprint_file
from openvod.analyzers.dna.index import CodeIndex
from openvod.analyzers.dna.search import MatchParams
from openvod.services import fingerprints as libmod
from openvod.services.dna_log import published
from openvod.services.dna_snapshot import SnapshotStore
from openvod.services.fingerprints import Library, delete_video, libraries
from openvod.storage.blobs import LocalBlobStore
from openvod.store.db import init_schema, make_engine
from openvod.store.tables import dna_videos
from tests.analyzers.test_dna_clips import make_copy, make_source
from tests.conftest import db_url


@pytest.fixture(scope="module")
def prints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Fingerprint]:
    d = tmp_path_factory.mktemp("dnalib")
    src = make_source(d / "src.mp4", seconds=12.0, seed=11)
    make_source(d / "other.mp4", seconds=10.0, seed=12)
    make_copy(d / "copy.mp4", src, 2.0, 9.0, crf=30)
    return {k: fingerprint_file(d / f"{k}.mp4") for k in ("src", "other", "copy")}


@pytest.fixture()
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    e = make_engine(db_url(tmp_path))
    init_schema(e)
    yield e
    e.dispose()


def _lib(engine, account: str = "acc1", db: str = "") -> Library:  # type: ignore[no-untyped-def]
    return Library(engine, account, db, FingerprintOptions(), MatchParams())


def _count(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(dna_videos)).scalar_one())


def test_add_search_delete(engine, prints: dict[str, Fingerprint]) -> None:  # type: ignore[no-untyped-def]
    lib = _lib(engine)
    lib.add("m-src", prints["src"])
    lib.add("m-other", prints["other"])
    found = lib.search(prints["copy"], exclude_media="m-copy")
    assert [m.key for m in found] == ["m-src"]
    assert delete_video(engine, "acc1", "m-src", "") == 1
    assert lib.search(prints["copy"]) == []
    assert _count(engine) == 1


def test_a_video_never_matches_itself_and_a_rerun_replaces_it(engine, prints: dict[str, Fingerprint]) -> None:  # type: ignore[no-untyped-def]
    lib = _lib(engine)
    lib.add("m-src", prints["src"])
    lib.add("m-src", prints["src"])  # a re-run of the same job
    assert _count(engine) == 1
    assert lib.search(prints["src"], exclude_media="m-src") == []


def test_accounts_and_libraries_are_isolated(engine, prints: dict[str, Fingerprint]) -> None:  # type: ignore[no-untyped-def]
    _lib(engine, "acc1").add("m-src", prints["src"])
    _lib(engine, "acc1", "db-x").add("m-other", prints["other"])
    assert _lib(engine, "acc2").search(prints["copy"]) == []
    assert _lib(engine, "acc1", "db-x").search(prints["copy"]) == []
    assert [m.key for m in _lib(engine, "acc1").search(prints["copy"])] == ["m-src"]
    assert libraries(engine) == [("acc1", ""), ("acc1", "db-x")]
    assert libraries(engine, "acc2") == []
    # Deleting from every library of the account (DeleteVideo) does not touch another account.
    _lib(engine, "acc2").add("m-src", prints["src"])
    delete_video(engine, "acc1", "m-src")
    assert [m.key for m in _lib(engine, "acc2").search(prints["copy"])] == ["m-src"]


def test_failed_write_leaves_the_previous_fingerprint(engine, prints: dict[str, Fingerprint], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    lib = _lib(engine)
    lib.add("m-src", prints["src"])
    real_insert = libmod.insert

    def exploding_insert(table):  # type: ignore[no-untyped-def]
        raise RuntimeError("worker killed mid-insert")

    monkeypatch.setattr(libmod, "insert", exploding_insert)
    with pytest.raises(RuntimeError):
        lib.add("m-src", prints["other"])  # the delete of the old row is rolled back too
    monkeypatch.setattr(libmod, "insert", real_insert)
    with engine.connect() as c:
        row = c.execute(select(dna_videos.c.fingerprint, dna_videos.c.n_codes)).one()
    assert Fingerprint.from_bytes(row.fingerprint).codes.shape[0] == row.n_codes == prints["src"].codes.shape[0]


def test_two_workers_see_each_others_changes(engine, prints: dict[str, Fingerprint]) -> None:  # type: ignore[no-untyped-def]
    w1, w2 = _lib(engine), _lib(engine)  # two processes' caches over one store
    assert w2.search(prints["copy"]) == []
    w1.add("m-src", prints["src"])
    assert [m.key for m in w2.search(prints["copy"])] == ["m-src"]
    assert w2.index.ntotal == prints["src"].codes.shape[0]
    delete_video(engine, "acc1", "m-src", "")
    assert w2.search(prints["copy"]) == [] and w2.index.ntotal == 0


def test_stale_fingerprint_versions_are_ignored(engine, prints: dict[str, Fingerprint]) -> None:  # type: ignore[no-untyped-def]
    _lib(engine).add("m-src", prints["src"])
    other_opts = Library(engine, "acc1", "", FingerprintOptions(sample_fps=2.0), MatchParams())
    other_opts.sync()
    assert other_opts.media_ids() == {}


def test_code_index_flat_and_ivf() -> None:
    rng = np.random.default_rng(0)
    idx = CodeIndex(flat_limit=2000, nprobe=64)
    codes = {v: rng.integers(0, 256, size=(300, 8), dtype=np.uint8) for v in range(10)}
    for v in range(5):
        idx.add(v, codes[v])
    assert idx.kind == "flat"
    for v in range(5, 10):
        idx.add(v, codes[v])
    assert idx.kind == "ivf" and idx.ntotal == 3000
    q = codes[7][:20].copy()
    q[:, 0] ^= 0b101  # two bits off
    qrow, vid, row, dist = idx.search(q, 4)
    hits = {(int(a), int(b), int(c)) for a, b, c in zip(qrow, vid, row, strict=True)}
    assert {(i, 7, i) for i in range(20)} <= hits and dist.max() <= 4
    idx.remove(7)
    _, vid, _, _ = idx.search(q, 4)
    assert 7 not in set(vid.tolist()) and idx.ntotal == 2700


def test_code_index_bulk_add_matches_one_by_one() -> None:
    rng = np.random.default_rng(1)
    codes = {v: rng.integers(0, 256, size=(200, 8), dtype=np.uint8) for v in range(12)}
    one, bulk = CodeIndex(flat_limit=1000, nprobe=64), CodeIndex(flat_limit=1000, nprobe=64)
    for v, c in codes.items():
        one.add(v, c)
    bulk.add_many(codes)
    assert one.kind == bulk.kind == "ivf" and one.ntotal == bulk.ntotal == 2400
    q = codes[3][:30]
    a, b = one.search(q, 0), bulk.search(q, 0)
    assert sorted(zip(a[0].tolist(), a[1].tolist(), a[2].tolist(), strict=True)) == \
        sorted(zip(b[0].tolist(), b[1].tolist(), b[2].tolist(), strict=True))


def test_a_fresh_worker_loads_the_saved_index(engine, prints: dict[str, Fingerprint], tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """An IVF index is published as a snapshot in the blob store once built; a new Library (a fresh
    worker) loads it instead of training, then replays only the change log after its version."""
    blobs = LocalBlobStore(tmp_path / "blobs")
    snaps = SnapshotStore(engine, blobs)

    def lib() -> Library:
        return Library(engine, "acc1", "", FingerprintOptions(), MatchParams(), flat_limit=50, nprobe=64,
                       snapshots=snaps)

    first = lib()
    first.add("m-src", prints["src"])
    first.add("m-other", prints["other"])
    before = [(m.key, [(s.q0, s.r0) for s in m.segments]) for m in first.search(prints["copy"])]
    first.wait_snapshot()  # published off the query path
    assert first.index.kind == "ivf" and first.stats["snapshot_saves"] == 1
    with engine.connect() as c:
        snap = published(c, "acc1", "", first.version)
    assert snap is not None and snap.version == 2 and snap.videos == 2 and blobs.exists(snap.blob_key)
    assert snap.blob_key.startswith("dna-index/acc1/")
    assert [k for k, _ in before] == ["m-src"]

    fresh = lib()
    after = [(m.key, [(s.q0, s.r0) for s in m.segments]) for m in fresh.search(prints["copy"])]
    assert after == before
    assert fresh.index.builds == 0 and fresh.index.kind == "ivf"  # loaded, not trained again
    assert fresh.stats == {"full_loads": 0, "snapshot_loads": 1, "replayed": 0, "snapshot_saves": 0}
    # A video deleted and one added by another worker after the snapshot are both seen (log replay).
    assert delete_video(engine, "acc1", "m-src", "") == 1
    first.add("m-copy", prints["copy"])
    later = lib()
    assert [m.key for m in later.search(prints["src"])] == ["m-copy"]
    assert later.index.builds == 0 and set(later.media_ids().values()) == {"m-other", "m-copy"}
    assert later.stats["snapshot_loads"] == 1 and later.stats["replayed"] == 2 and later.stats["full_loads"] == 0
    # A damaged snapshot is ignored: the index is rebuilt from the store.
    blobs.put_bytes(snap.blob_key, b"not an index")
    rebuilt = lib()
    assert [m.key for m in rebuilt.search(prints["src"])] == ["m-copy"]
    assert rebuilt.stats["full_loads"] == 1 and rebuilt.stats["snapshot_loads"] == 0
