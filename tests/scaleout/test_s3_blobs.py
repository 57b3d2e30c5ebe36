"""The S3 blob store against a real SeaweedFS: the same contract as the local folder."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from openvod.config import Settings
from openvod.storage import make_blob_store, make_url_signer
from openvod.storage.blobs import BlobKeyError, LocalBlobStore
from tests.seaweed import SeaweedFS

pytestmark = pytest.mark.scaleout


def _settings(tmp: Path, fs: SeaweedFS, prefix: str) -> Settings:
    return Settings(data_dir=tmp, blobs={"backend": "s3", "url_signing_key": "k" * 32, "s3": {
        "endpoint_url": fs.endpoint, "bucket": "blobs-test", "prefix": prefix,
        "access_key_id": "any", "secret_access_key": "any"}})


def test_s3_store_contract_and_cache(seaweed: SeaweedFS, tmp_path: Path) -> None:
    prefix = f"dep-{uuid.uuid4().hex[:6]}"
    a = make_blob_store(_settings(tmp_path / "a", seaweed, prefix))  # two nodes, one bucket
    b = make_blob_store(_settings(tmp_path / "b", seaweed, prefix))
    assert type(a).__name__ == "S3BlobStore"
    assert a.put_bytes("media/acc/m1/cover.png", b"png-1") == 5
    assert b.exists("media/acc/m1/cover.png") and not b.exists("media/acc/m1/nothing")
    p = b.path("media/acc/m1/cover.png")  # downloaded into b's cache
    assert p.read_bytes() == b"png-1" and str(p).startswith(str(tmp_path / "b"))
    # Overwritten through node a: node b's cached copy is stale and fetched again (ETag check).
    a.put_bytes("media/acc/m1/cover.png", b"png-two")
    assert b.path("media/acc/m1/cover.png").read_bytes() == b"png-two"
    # put_file and adopt (the temp file moves into the cache).
    src = tmp_path / "src.bin"
    src.write_bytes(b"x" * 70000)
    assert a.put_file("media/acc/m1/source.mp4", src) == 70000 and src.exists()
    assert a.adopt("media/acc/m1/part.bin", src) == 70000 and not src.exists()
    assert b.path("media/acc/m1/part.bin").stat().st_size == 70000
    # The objects sit under the deployment's prefix.
    keys = [o["Key"] for o in a.s3.list_objects_v2(Bucket="blobs-test", Prefix=prefix + "/")["Contents"]]
    assert sorted(keys) == [f"{prefix}/media/acc/m1/{n}" for n in ("cover.png", "part.bin", "source.mp4")]
    # Deletes reach every node: a missing object is a missing path, whatever a cache held.
    a.delete("media/acc/m1/cover.png")
    assert not b.exists("media/acc/m1/cover.png") and not b.path("media/acc/m1/cover.png").exists()
    a.put_bytes("media/acc/m10/x", b"other media")  # a sibling prefix is not part of m1/
    a.delete_prefix("media/acc/m1")
    assert not b.exists("media/acc/m1/source.mp4") and not b.path("media/acc/m1/part.bin").exists()
    assert b.path("media/acc/m10/x").read_bytes() == b"other media"
    for bad in ("", "/abs", "a/../b", "a//b", "a\\b"):
        with pytest.raises(BlobKeyError):
            a.path(bad)
        assert not a.exists(bad)


def test_default_is_the_local_folder_and_signing_key_is_shared(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    assert isinstance(make_blob_store(s), LocalBlobStore)
    make_url_signer(s)
    assert (tmp_path / "url-signing.key").is_file()  # the embedded default keeps its key file
    one = make_url_signer(Settings(data_dir=tmp_path / "n1", blobs={"url_signing_key": "shared-secret"}))
    two = make_url_signer(Settings(data_dir=tmp_path / "n2", blobs={"url_signing_key": "shared-secret"}))
    url = one.sign("http://n1", "aiimage/a/m/c.png")
    path, auth = url[len("http://n1"):].split("?auth_key=")
    assert two.verify(path, auth)


def test_s3_listing_and_orphan_snapshots(seaweed: SeaweedFS, tmp_path: Path) -> None:
    """``listing`` on S3 (LastModified as the age), and services/dna_snapshot.py's cleanup of
    unpublished snapshot blobs through it: only the library's own folder, never the published one."""
    import time

    from openvod.services.dna_log import published, snapshot_prefix
    from openvod.services.dna_snapshot import SnapshotStore
    from openvod.store.db import init_schema, make_engine

    store = make_blob_store(_settings(tmp_path / "n", seaweed, f"snap-{uuid.uuid4().hex[:6]}"))
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    init_schema(engine)
    mine, theirs = snapshot_prefix("acc1", "lib", "fp1"), snapshot_prefix("acc2", "lib", "fp1")
    store.put_bytes(mine + "000000000003-dead0001.npz", b"orphan")
    store.put_bytes(theirs + "000000000003-dead0002.npz", b"other account")
    listed = store.listing(mine)
    assert [(k, n) for k, n, _ in listed] == [(mine + "000000000003-dead0001.npz", 6)]
    assert abs(listed[0][2] - time.time()) < 600
    snaps = SnapshotStore(engine, store, orphan_age_s=600)
    src = tmp_path / "snap.npz"
    src.write_bytes(b"snapshot")
    assert snaps.publish(src, "acc1", "lib", "fp1", 5, 1, 1)
    assert len(store.listing(mine)) == 2  # the orphan is young yet: kept
    with engine.connect() as conn:
        snap = published(conn, "acc1", "lib", "fp1")
    assert snap is not None
    assert snaps.clean_orphans("acc1", "lib", "fp1", at=time.time() + 3600) == [mine + "000000000003-dead0001.npz"]
    assert [k for k, _, _ in store.listing(mine)] == [snap.blob_key]
    assert [k for k, _, _ in store.listing(theirs)] == [theirs + "000000000003-dead0002.npz"]
