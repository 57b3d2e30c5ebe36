"""Fingerprint libraries across workers on PostgreSQL + SeaweedFS: the scenario of
tests/analyzers/test_dna_library_sync.py with three nodes (own data folders, one database, one
bucket), and concurrent writers of one library while another worker follows the change log."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from openvod.analyzers.dna.fingerprint import Fingerprint, FingerprintOptions
from openvod.analyzers.dna.search import MatchParams
from openvod.config import Settings
from openvod.services.fingerprints import Library, delete_video
from openvod.store.db import init_schema, make_engine
from openvod.store.tables import dna_library_log
from tests.analyzers.test_dna_library_sync import SMALL_INDEX, _codes, _fp, _state, make_prints, \
    two_workers_and_a_fresh_one
from tests.conftest import pg_database
from tests.seaweed import SeaweedFS

pytestmark = pytest.mark.scaleout


def _node(tmp: Path, name: str, db_url: str, fs: SeaweedFS, prefix: str) -> Settings:
    return Settings(data_dir=tmp / name, database_url=db_url, dna=SMALL_INDEX, blobs={
        "backend": "s3", "url_signing_key": "k" * 32, "s3": {
            "endpoint_url": fs.endpoint, "bucket": "dna-test", "prefix": prefix, "create_bucket": True,
            "access_key_id": "any", "secret_access_key": "any"}})


@pytest.fixture(scope="module")
def prints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Fingerprint]:
    return make_prints(tmp_path_factory.mktemp("dnaprints"))


def test_two_workers_and_a_fresh_one_on_postgresql_and_seaweedfs(seaweed: SeaweedFS, tmp_path: Path,
                                                                 prints: dict[str, Fingerprint]) -> None:
    db_url = pg_database(f"ovt_dna_{uuid.uuid4().hex[:10]}")
    prefix = f"dna-{uuid.uuid4().hex[:6]}"
    nodes = [_node(tmp_path, n, db_url, seaweed, prefix) for n in ("a", "b", "c")]
    two_workers_and_a_fresh_one(*nodes, prints)
    # The snapshot lives in the bucket, and no node keeps a cached copy of it.
    from openvod.storage import make_blob_store

    store = make_blob_store(nodes[0])
    objects = store.s3.list_objects_v2(Bucket="dna-test", Prefix=f"{prefix}/dna-index/")["Contents"]
    assert len(objects) == 1 and objects[0]["Key"].startswith(f"{prefix}/dna-index/acc1/")
    assert not any(p.is_file() for n in ("a", "b", "c") for p in (tmp_path / n / "blob-cache" / "data").rglob("*.npz"))


def test_concurrent_writers_and_a_follower_on_postgresql(tmp_path: Path) -> None:
    """Eight writers add, replace and delete videos of one library at once (each through its own
    connection pool, as separate workers would) while a follower syncs in a loop: the per-library
    versions stay gapless, and the follower ends with exactly what a full rebuild reads."""
    engine = make_engine(pg_database(f"ovt_dnac_{uuid.uuid4().hex[:10]}"), pool_size=12, max_overflow=4)
    init_schema(engine)
    opts, params = FingerprintOptions(), MatchParams()

    def lib() -> Library:
        return Library(engine, "acc", "lib", opts, params, flat_limit=200, nprobe=64)

    follower, stop, errors = lib(), threading.Event(), []

    def follow() -> None:
        while not stop.is_set():
            try:
                follower.sync()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    def write(w: int) -> None:
        try:
            mine = lib()
            for i in range(12):
                media = (w * 3 + i) % 10  # writers overlap on the same videos
                if i % 4 == 3:
                    delete_video(engine, "acc", f"m{media}", "lib" if i % 8 == 3 else None)
                else:
                    mine.add(f"m{media}", _fp(_codes(media, (w + i) % 4)))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    t = threading.Thread(target=follow)
    t.start()
    writers = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    stop.set()
    t.join()
    assert not errors, errors
    follower.sync()
    rebuilt = lib()
    rebuilt.sync()
    assert _state(follower) == _state(rebuilt) and follower.stats["full_loads"] == 1
    with engine.connect() as conn:
        c = dna_library_log.c
        n, top = conn.execute(select(func.count(), func.max(c.version)).where(c.account_id == "acc",
                                                                               c.db_id == "lib")).one()
    assert int(n) == int(top) > 60
    engine.dispose()
