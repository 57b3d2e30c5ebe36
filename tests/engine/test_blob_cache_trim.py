"""The local blob cache stays under its cap: least recently used files go first, never one that is open
or was used within ``min_idle_s``; one trimmer per cache at a time; stale download temporaries go.
The same through the S3 store against SeaweedFS: tests/scaleout/test_blob_cache.py."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from openvod.config import Settings
from openvod.storage import cache_trim

KB = 1024


def _file(root: Path, rel: str, size: int, atime: float) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(b"x" * size)
    os.utime(p, (atime, atime))
    return p


def test_lru_eviction_keeps_open_and_recent_files(tmp_path: Path) -> None:
    root = tmp_path / "blob-cache" / "data"
    now = time.time()
    # a is the least recently used but open (a job decodes it); e was used a moment ago.
    paths = {n: _file(root, f"media/acc/{n}/source.mp4", 100 * KB, now - 1000 + i * 100)
             for i, n in enumerate("abcd")}
    paths["e"] = _file(root, "aiimage/acc/e/cover.png", 100 * KB, now - 5)
    forgotten: list[Path] = []
    with open(paths["a"], "rb"):
        res = cache_trim.trim(root, max_bytes=250 * KB, min_idle_s=60, forget=forgotten.append, now=now)
    # 500 KB > 250 KB: down to 225 KB (90 %): b, c and d go (oldest first), a (open) and e (recent) stay.
    assert sorted(p.parent.name for p in res.removed) == ["b", "c", "d"]
    assert forgotten == res.removed
    assert paths["a"].exists() and paths["e"].exists()
    assert (res.total_before, res.total_after, res.kept_in_use) == (500 * KB, 200 * KB, 1)
    # Under the cap: nothing to do.
    again = cache_trim.trim(root, max_bytes=250 * KB, min_idle_s=60, now=now)
    assert again.removed == [] and again.total_before == 200 * KB


def test_touch_moves_a_file_to_the_back_of_the_line(tmp_path: Path) -> None:
    root = tmp_path / "c" / "data"
    now = time.time()
    old = _file(root, "x/old", 100 * KB, now - 3000)
    mid = _file(root, "x/mid", 100 * KB, now - 2000)
    mtime = old.stat().st_mtime
    cache_trim.touch(old)  # a cache hit on the oldest file
    assert old.stat().st_mtime == mtime  # only the access time moves
    res = cache_trim.trim(root, max_bytes=150 * KB, min_idle_s=0)
    assert res.removed == [mid] and old.exists()


def test_one_trimmer_at_a_time_and_stale_temporaries(tmp_path: Path) -> None:
    root = tmp_path / "c" / "data"
    now = time.time()
    _file(root, "x/big", 300 * KB, now - 3000)
    stale = _file(root, "x/.dl-abc", 10 * KB, now - 7200)
    os.utime(stale, (now - 7200, now - 7200))
    fresh = _file(root, "x/.dl-def", 10 * KB, now)
    lock_path = root.parent / ".trim.lock"
    with open(lock_path, "a+") as held:  # another process is trimming
        fcntl.flock(held, fcntl.LOCK_EX)
        assert cache_trim.trim(root, max_bytes=100 * KB, min_idle_s=0).skipped
    res = cache_trim.trim(root, max_bytes=100 * KB, min_idle_s=0)
    assert not res.skipped and not (root / "x/big").exists()
    assert not stale.exists() and fresh.exists()  # a download in progress is left alone


def test_no_cap_means_no_trimming_and_the_default_cap(tmp_path: Path) -> None:
    root = tmp_path / "c" / "data"
    _file(root, "x/y", 100 * KB, 0)
    assert cache_trim.trim(root, max_bytes=0, min_idle_s=0).removed == []
    assert Settings(data_dir=tmp_path).blobs.cache.max_bytes == 20 * 1024**3
