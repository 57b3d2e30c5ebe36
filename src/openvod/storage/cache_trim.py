"""Keep a local blob cache under a size cap: least recently used files go first (docs/scale-out.md).

The cache is shared by every process of a machine (an API node's threads, a worker's pool
processes), so a trim pass works from the folder itself: it lists the cached files with their size
and access time, and removes the least recently used until the total is under the low-water mark
(90 % of the cap). Access times are set explicitly on every cache hit (:func:`touch`), so mount
options such as ``noatime``/``relatime`` do not matter.

A file is never removed while it may be in use:

- a file open in any process of this machine that we may inspect (``/proc/<pid>/fd``) is kept: a
  job decoding its source, a signed URL being streamed;
- a file used within the last ``min_idle_s`` is kept (it may have just been handed out by
  ``path()`` and not opened yet);
- a file is removed only under an exclusive lock of its entry (:func:`entry_lock`, a non-blocking
  ``flock`` on one of 256 lock files under ``<cache>/locks``, picked by the key's hash), after its
  access time and inode are read again: a file touched or replaced since the listing is kept, and
  an entry whose lock is busy is skipped. A cache hit checks and touches its file under the shared
  lock of the same entry, and a download puts its file in place under the exclusive one, so a
  file handed out as a hit is never removed between that check and the hand-out: it is then
  protected by ``min_idle_s`` and, once opened, by the open-file check.

Only one process trims a cache at a time (a non-blocking ``flock`` on ``<cache>/.trim.lock``).
Leftover download temporaries (``.dl-*``, ``.cp-*``) older than an hour are removed too.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

LOW_WATER = 0.9
TEMP_PREFIXES = (".dl-", ".cp-")
STALE_TEMP_S = 3600.0


def touch(path: Path) -> None:
    """Record an access (the cache's LRU clock), keeping the modification time."""
    try:
        st = path.stat()
        os.utime(path, ns=(time.time_ns(), st.st_mtime_ns))
    except OSError:
        pass


def lock_file(root: Path, rel: str) -> Path:
    """The lock file of the cache entry ``rel`` (a key) of the cache whose files live under ``root``."""
    return root.parent / "locks" / f"{hashlib.sha1(rel.encode()).hexdigest()[:2]}.lock"


@contextmanager
def entry_lock(root: Path, rel: str, exclusive: bool = False, blocking: bool = True) -> Iterator[bool]:
    """Hold the shared (a cache hit) or exclusive (putting a file in place, removing it) lock of a
    cache entry; yields False when ``blocking`` is off and the lock is busy."""
    path = lock_file(root, rel)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # releases the lock


def open_files() -> set[tuple[int, int]]:
    """(device, inode) of every file open in a process of this machine we may inspect."""
    out: set[tuple[int, int]] = set()
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return out
    for pid in pids:
        fd_dir = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:  # gone, or not ours to inspect
            continue
        for fd in fds:
            try:
                st = os.stat(f"{fd_dir}/{fd}")
            except OSError:
                continue
            out.add((st.st_dev, st.st_ino))
    return out


@dataclass
class TrimResult:
    total_before: int = 0
    total_after: int = 0
    removed: list[Path] = field(default_factory=list)
    kept_in_use: int = 0  # candidates kept because they were open or recently used
    skipped: bool = False  # another process was trimming


def trim(root: Path, max_bytes: int, min_idle_s: float, forget: Callable[[Path], None] | None = None,
         lock_path: Path | None = None, now: float | None = None) -> TrimResult:
    """Remove least recently used files under ``root`` until their total is below 90 % of ``max_bytes``.

    ``forget(path)`` is called after a file is removed (the store drops its ETag record there)."""
    res = TrimResult()
    if max_bytes <= 0 or not root.is_dir():
        return res
    lock_path = lock_path or root.parent / ".trim.lock"
    with open(lock_path, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            res.skipped = True
            return res
        return _trim_locked(root, max_bytes, min_idle_s, forget, time.time() if now is None else now, res)


def _trim_locked(root: Path, max_bytes: int, min_idle_s: float, forget: Callable[[Path], None] | None,
                 now: float, res: TrimResult) -> TrimResult:
    files: list[tuple[float, int, Path, tuple[int, int]]] = []  # (atime, size, path, (dev, ino))
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            p = Path(dirpath) / name
            try:
                st = p.stat()
            except OSError:
                continue
            if name.startswith(TEMP_PREFIXES):
                if now - st.st_mtime > STALE_TEMP_S:  # left by a process that died mid-download
                    p.unlink(missing_ok=True)
                continue
            files.append((st.st_atime, st.st_size, p, (st.st_dev, st.st_ino)))
    total = sum(f[1] for f in files)
    res.total_before = res.total_after = total
    if total <= max_bytes:
        return res
    target = int(max_bytes * LOW_WATER)
    busy = open_files()
    for atime, size, p, ident in sorted(files, key=lambda f: f[0]):
        if total <= target:
            break
        if ident in busy or now - atime < min_idle_s:
            res.kept_in_use += 1
            continue
        removed = _remove(root, p, atime, ident, forget)
        if removed is None:
            continue
        if not removed:
            res.kept_in_use += 1
            continue
        total -= size
        res.removed.append(p)
    res.total_after = total
    if total > max_bytes:
        log.warning("blob cache still over its cap: the rest is in use", extra={"bytes": total, "cap": max_bytes})
    return res


def _remove(root: Path, p: Path, atime: float, ident: tuple[int, int],
            forget: Callable[[Path], None] | None) -> bool | None:
    """Remove one listed file under its entry's exclusive lock: False when it is in use (the lock is
    busy, or the file was touched or replaced since the listing), None when it is gone."""
    with entry_lock(root, p.relative_to(root).as_posix(), exclusive=True, blocking=False) as got:
        if not got:
            return False
        try:
            st = p.stat()
            if st.st_atime != atime or (st.st_dev, st.st_ino) != ident:
                return False
            p.unlink()
        except OSError:
            return None
        if forget is not None:
            try:
                forget(p)
            except OSError:
                pass
        return True
