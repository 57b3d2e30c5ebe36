"""Leftovers of a worker killed mid-publish (services/dna_snapshot.py): an unpublished snapshot blob
of a library is removed by the library's next publish once it is older than ``orphan_age_s``, never
the published one, a young one (another worker publishing now) or another account's; stale local
temporary files are removed by the next write. The same against SeaweedFS: tests/scaleout/test_s3_blobs.py."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from openvod.services.dna_log import published, snapshot_prefix
from openvod.services.dna_snapshot import SnapshotStore
from openvod.storage.blobs import LocalBlobStore
from openvod.store.db import init_schema, make_engine

FPV = "fp1"


def _age(blobs: LocalBlobStore, key: str, seconds: float) -> None:
    t = time.time() - seconds
    os.utime(blobs.path(key), (t, t))


def _snapshot_file(snaps: SnapshotStore, name: str) -> Path:
    snaps.tmp_dir.mkdir(parents=True, exist_ok=True)
    p = snaps.tmp_dir / name
    p.write_bytes(b"snapshot " + name.encode())
    return p


def test_orphan_snapshots_and_temporaries_are_cleaned_in_their_library_only(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    init_schema(engine)
    blobs = LocalBlobStore(tmp_path / "blobs")
    snaps = SnapshotStore(engine, blobs, orphan_age_s=600)
    mine, theirs = snapshot_prefix("acc1", "lib", FPV), snapshot_prefix("acc2", "lib", FPV)
    # A worker killed after storing its snapshot but before publishing it (one hour ago), one killed
    # in the same state in another account, and a snapshot another worker of acc1 is publishing now.
    blobs.put_bytes(mine + "000000000003-dead0001.npz", b"orphan")
    _age(blobs, mine + "000000000003-dead0001.npz", 3600)
    blobs.put_bytes(theirs + "000000000003-dead0002.npz", b"other account")
    _age(blobs, theirs + "000000000003-dead0002.npz", 3600)
    blobs.put_bytes(mine + "000000000004-young001.npz", b"being published")
    # A library's folder holds only its own snapshots: another library of the account is left alone.
    other_lib = snapshot_prefix("acc1", "lib2", FPV) + "000000000001-dead0003.npz"
    blobs.put_bytes(other_lib, b"another library")
    _age(blobs, other_lib, 3600)

    assert snaps.publish(_snapshot_file(snaps, "a.npz"), "acc1", "lib", FPV, 5, 10, 100)
    with engine.connect() as conn:
        v5 = published(conn, "acc1", "lib", FPV)
    assert v5 is not None and v5.version == 5
    keys = {k for k, _, _ in blobs.listing(mine)}
    assert keys == {v5.blob_key, mine + "000000000004-young001.npz"}  # the old orphan went
    assert blobs.exists(theirs + "000000000003-dead0002.npz") and blobs.exists(other_lib)

    # The published snapshot is never removed however old; a publish that loses deletes its own blob.
    _age(blobs, v5.blob_key, 3600)
    _age(blobs, mine + "000000000004-young001.npz", 3600)  # its worker died too, meanwhile
    assert not snaps.publish(_snapshot_file(snaps, "b.npz"), "acc1", "lib", FPV, 4, 9, 90)
    assert {k for k, _, _ in blobs.listing(mine)} == {v5.blob_key}
    assert blobs.path(v5.blob_key).read_bytes() == b"snapshot a.npz"

    # Local temporaries: a stale one (a worker killed between writing and storing) goes on the next
    # write, one being written now stays.
    stale, fresh = _snapshot_file(snaps, "stale.npz"), _snapshot_file(snaps, "fresh.npz.123.4.tmp")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    arrays = {"index": np.zeros(8, np.uint8), "vids": np.zeros(0, np.int64), "counts": np.zeros(0, np.int64),
              "codes": np.zeros((0, 8), np.uint8), "meta": np.frombuffer(b"{}", np.uint8)}
    written = snaps.write(arrays)
    assert written.is_file() and fresh.exists() and not stale.exists()
    assert sorted(p.name for p in snaps.tmp_dir.iterdir()) == sorted([written.name, fresh.name])


def test_cleaning_needs_a_listing_and_tolerates_an_empty_library(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    init_schema(engine)
    snaps = SnapshotStore(engine, LocalBlobStore(tmp_path / "blobs"))
    assert snaps.clean_orphans("acc1", "nothing-yet", FPV) == []  # no folder: nothing to do
    assert snaps.clean_tmp() == 0
