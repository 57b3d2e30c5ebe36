"""The S3 store's local cache against a real SeaweedFS: kept under ``blobs.cache.max_bytes`` by
least recent use, never removing a file that is open; an evicted blob is simply downloaded again."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from openvod.config import Settings
from openvod.storage import make_blob_store
from tests.seaweed import SeaweedFS

pytestmark = pytest.mark.scaleout

KB = 1024


def _store(tmp: Path, fs: SeaweedFS, prefix: str, cap: int):  # type: ignore[no-untyped-def]
    return make_blob_store(Settings(data_dir=tmp, blobs={
        "backend": "s3", "url_signing_key": "k" * 32, "cache": {"max_bytes": cap, "min_idle_s": 0},
        "s3": {"endpoint_url": fs.endpoint, "bucket": "cache-test", "prefix": prefix,
               "access_key_id": "any", "secret_access_key": "any"}}))


def _cached(store) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {p.relative_to(store.root).as_posix(): p.stat().st_size for p in store.root.rglob("*") if p.is_file()}


def test_cache_is_trimmed_by_least_recent_use(seaweed: SeaweedFS, tmp_path: Path) -> None:
    prefix = f"c-{uuid.uuid4().hex[:6]}"
    writer = _store(tmp_path / "w", seaweed, prefix, cap=0)  # no cap: the writer keeps everything
    keys = [f"media/acc/m{i}/source.mp4" for i in range(6)]
    for i, k in enumerate(keys):
        writer.put_bytes(k, bytes([i]) * (100 * KB))
    assert sum(_cached(writer).values()) == 600 * KB

    node = _store(tmp_path / "n", seaweed, prefix, cap=250 * KB)
    first = node.path(keys[0])
    with open(first, "rb") as reading:  # a job decodes the oldest file the whole time
        for k in keys[1:]:
            node.path(k)
            time.sleep(0.05)  # distinct access times
        deadline = time.monotonic() + 10
        while node._trimming and time.monotonic() < deadline:  # the background pass started by the last fill
            time.sleep(0.05)
        node.trim_cache()
        cached = _cached(node)
        assert sum(cached.values()) <= 250 * KB, cached
        assert keys[0] in cached and keys[-1] in cached  # open, and the most recently used
        assert reading.read(3) == bytes([0]) * 3
    # The ETag records of evicted files went with them; an evicted blob is downloaded again.
    assert len(list(node.meta.glob("*.etag"))) == len(cached)
    evicted = next(k for k in keys if k not in cached)
    assert node.path(evicted).read_bytes() == bytes([keys.index(evicted)]) * (100 * KB)
