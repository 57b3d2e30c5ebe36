"""A trim pass racing a cache hit of the S3 store (storage/s3.py, storage/cache_trim.py): the two
orders of the race are forced with hooks, not timing. A file checked as a hit is never removed
before it is handed out; a hit that arrives while a trimmer removes its file waits and downloads
the blob again. The object store is an in-memory stand-in with the calls the store makes; the same
store against SeaweedFS: tests/scaleout/test_blob_cache.py."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from openvod.storage import cache_trim, s3
from openvod.storage.s3 import S3BlobStore

KB = 1024


class MemoryS3:
    """The S3 calls S3BlobStore makes, on a dict (ETag: MD5 of the body, as S3 does)."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.downloads = 0

    def head_object(self, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        from botocore.exceptions import ClientError

        if Key not in self.objects:
            raise ClientError({"Error": {"Code": "404"}}, "HeadObject")
        return {"ETag": '"' + hashlib.md5(self.objects[Key]).hexdigest() + '"'}

    def put_object(self, Bucket: str, Key: str, Body: bytes) -> dict[str, Any]:  # noqa: N803
        self.objects[Key] = bytes(Body)
        return self.head_object(Bucket, Key)

    def download_file(self, bucket: str, key: str, filename: str) -> None:
        self.downloads += 1
        Path(filename).write_bytes(self.objects[key])


def _store(tmp_path: Path) -> tuple[S3BlobStore, MemoryS3, Path]:
    client = MemoryS3()
    store = S3BlobStore(client, "b", "p", tmp_path / "blob-cache", cache_max_bytes=0, cache_min_idle_s=300)
    keys = [f"media/acc/m{i}/source.mp4" for i in range(2)]
    for i, k in enumerate(keys):
        store.put_bytes(k, bytes([i]) * (100 * KB))
    # The cap from now on; no background pass is due (only this test's passes run).
    store.cache_max_bytes, store._last_trim = 150 * KB, time.monotonic()
    # Both files were last used long ago: past min_idle_s, the older one first in line.
    old = time.time() - 3600
    for i, k in enumerate(keys):
        p = store.root / k
        os.utime(p, (old + i, p.stat().st_mtime))
    return store, client, store.root / keys[0]


def test_a_trim_between_the_hit_check_and_the_hand_out_keeps_the_file(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    store, client, first = _store(tmp_path)
    key = first.relative_to(store.root).as_posix()
    results: list[cache_trim.TrimResult] = []
    real_touch = s3.touch

    def trim_then_touch(path: Path) -> None:  # the hit was checked; a trim pass runs before the touch
        results.append(store.trim_cache())
        real_touch(path)

    monkeypatch.setattr(s3, "touch", trim_then_touch)
    got = store.path(key)
    monkeypatch.setattr(s3, "touch", real_touch)
    assert got == first and got.read_bytes() == bytes([0]) * (100 * KB)  # handed out, and there
    assert client.downloads == 0
    (res,) = results
    assert res.total_before == 200 * KB and res.kept_in_use >= 1
    assert first not in res.removed  # its entry was locked by the hit
    assert [p.name for p in res.removed] == ["source.mp4"] and res.removed[0].parent.name == "m1"
    # The hit touched the file: it is now the most recently used, and a later pass keeps it too.
    assert store.trim_cache().removed == [] and first.exists()


def test_a_hit_during_a_removal_waits_and_downloads_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store, client, first = _store(tmp_path)
    key = first.relative_to(store.root).as_posix()
    got: list[Path] = []
    reader = threading.Thread(target=lambda: got.append(store.path(key)))
    real_forget = store._forget_file

    def forget_with_a_hit_arriving(local: Path) -> None:  # the trimmer holds the entry, file unlinked
        if local == first and not reader.is_alive() and not got:
            reader.start()
            reader.join(0.3)
            assert reader.is_alive()  # the hit waits for the entry's lock
        real_forget(local)

    monkeypatch.setattr(store, "_forget_file", forget_with_a_hit_arriving)
    res = store.trim_cache()
    reader.join(10)
    assert first in res.removed
    assert got == [first] and first.read_bytes() == bytes([0]) * (100 * KB)  # downloaded again
    assert client.downloads == 1


def test_a_busy_entry_is_skipped_and_a_replaced_file_kept(tmp_path: Path) -> None:
    root = tmp_path / "c" / "data"
    now = time.time()
    a = root / "x" / "a"
    a.parent.mkdir(parents=True)
    a.write_bytes(b"a" * (100 * KB))
    os.utime(a, (now - 3000, now - 3000))
    with cache_trim.entry_lock(root, "x/a"):  # a cache hit of x/a is being checked
        res = cache_trim.trim(root, max_bytes=50 * KB, min_idle_s=0, now=now)
    assert res.removed == [] and res.kept_in_use == 1 and a.exists()
    assert cache_trim.trim(root, max_bytes=50 * KB, min_idle_s=0, now=now).removed == [a]
