"""Snapshots of fingerprint-library indexes in the blob store (the local folder, or S3 when configured).

A snapshot is one ``CodeIndex.save`` file (the FAISS index, its codes, the row ids and media ids)
stored as ``dna-index/<account>/<hash of DNADBId and fingerprint version>/<version>-<random>.npz``
and published through ``dna_index_snapshots`` (services/dna_log.py) with the library version it
reflects. A fresh worker loads the published one and replays the change log after that version.
The blob is written before the pointer moves (write, then publish), and a writer that loses the
race (a snapshot of the same or a higher version is already published) deletes its own blob. A
replaced snapshot is deleted after the new pointer is committed; a worker that was still reading it
reads the pointer again, and at worst builds the index from the store. Snapshots are a cache: any
failure here means the index is built from ``dna_videos`` as before.

Leftovers of a worker killed mid-publish are cleaned up: each publish of a library removes the
blobs in that library's own folder (so inside the account) that the pointer does not name and that
are older than ``orphan_age_s`` (a snapshot being published by another worker right now is young),
and each write removes local temporary files older than that from the node's temporary folder.
"""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from openvod.analyzers.dna.index import CodeIndex
from openvod.services.dna_log import Snapshot, publish, published, snapshot_prefix

log = logging.getLogger(__name__)

ORPHAN_AGE_S = 1800.0  # a snapshot blob or temporary file older than this and unpublished is a leftover


class SnapshotStore:
    """Where fingerprint-library snapshots are read and written (one per worker process)."""

    def __init__(self, engine: Engine, blobs: Any, orphan_age_s: float = ORPHAN_AGE_S):
        self.engine = engine
        self.blobs = blobs
        self.tmp_dir = Path(blobs.root).parent / "dna-index-tmp"
        self.orphan_age_s = orphan_age_s

    def _evict(self, key: str) -> None:
        """Drop a node-local cached copy (S3: the read-through cache; the object stays)."""
        evict = getattr(self.blobs, "evict", None)
        if evict is not None:
            evict(key)

    def load(self, conn: Connection, account_id: str, db_id: str, fp_version: str,
             index: CodeIndex) -> tuple[int, dict[str, Any]] | None:
        """Fill ``index`` from the library's published snapshot: (its version, its meta), or None."""
        for _ in range(2):  # a snapshot replaced while we looked: read the pointer once more
            snap = published(conn, account_id, db_id, fp_version)
            if snap is None:
                return None
            t = time.perf_counter()
            try:
                path = self.blobs.path(snap.blob_key)
                if not path.is_file():
                    continue
                info = index.load(path)
            except Exception as exc:  # noqa: BLE001 - a cache: the index is built from the store instead
                log.warning("DNA library %s/%s: cannot read the index snapshot: %s", account_id, db_id, exc)
                return None
            finally:
                self._evict(snap.blob_key)
            if info is None or info.get("version") != fp_version or info.get("log_version") != snap.version:
                return None
            log.info("DNA library %s/%s: loaded the index snapshot of version %d (%d videos) in %.2fs", account_id,
                     db_id, snap.version, snap.videos, time.perf_counter() - t)
            return snap.version, info
        return None

    def write(self, arrays: dict[str, Any]) -> Path:
        """The snapshot file of ``CodeIndex.snapshot`` arrays, in a temporary folder beside the store."""
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.clean_tmp()
        path = self.tmp_dir / f"{uuid.uuid4().hex}.npz"
        CodeIndex.write(path, arrays)
        return path

    def publish(self, path: Path, account_id: str, db_id: str, fp_version: str, version: int, videos: int,
                codes: int) -> bool:
        """Store the file and publish it as the library's snapshot of ``version``; False when a snapshot
        of that or a later version was there first (then this one is deleted)."""
        key = f"{snapshot_prefix(account_id, db_id, fp_version)}{version:012d}-{uuid.uuid4().hex[:8]}.npz"
        try:
            size = path.stat().st_size
            self.blobs.adopt(key, path)
        except Exception as exc:  # noqa: BLE001 - a cache: the next worker builds from the store
            log.warning("DNA library %s/%s: cannot store the index snapshot: %s", account_id, db_id, exc)
            path.unlink(missing_ok=True)
            return False
        self._evict(key)
        won, replaced = False, None
        try:
            won, replaced = publish(self.engine, account_id, db_id, fp_version,
                                    Snapshot(version, key, videos, codes, size))
        finally:
            for stale in ([key] if not won else []) + ([replaced] if replaced else []):
                try:
                    self.blobs.delete(stale)
                except Exception:  # noqa: BLE001 - an orphan blob, harmless
                    log.warning("could not delete an index snapshot", exc_info=True, extra={"blob_key": stale})
            self.clean_orphans(account_id, db_id, fp_version)
        return won

    def clean_tmp(self, at: float | None = None) -> int:
        """Remove this node's temporary snapshot files older than ``orphan_age_s`` (left by a worker
        killed between writing and storing one); returns how many."""
        cutoff = (time.time() if at is None else at) - self.orphan_age_s
        n = 0
        try:
            entries = list(self.tmp_dir.iterdir())
        except OSError:
            return 0
        for p in entries:
            try:
                if p.is_file() and p.stat().st_mtime < cutoff:
                    p.unlink()
                    n += 1
            except OSError:
                continue
        return n

    def clean_orphans(self, account_id: str, db_id: str, fp_version: str, at: float | None = None) -> list[str]:
        """Remove the blobs in this library's snapshot folder that its pointer does not name and that
        are older than ``orphan_age_s`` (left by a worker killed between storing and publishing one,
        or before deleting the one it replaced); returns their keys."""
        listing = getattr(self.blobs, "listing", None)
        if listing is None:
            return []
        prefix = snapshot_prefix(account_id, db_id, fp_version)
        cutoff = (time.time() if at is None else at) - self.orphan_age_s
        removed: list[str] = []
        try:
            with self.engine.connect() as conn:
                snap = published(conn, account_id, db_id, fp_version)
            for key, _size, mtime in listing(prefix):
                if not key.startswith(prefix) or (snap is not None and key == snap.blob_key) or mtime >= cutoff:
                    continue
                self.blobs.delete(key)
                removed.append(key)
        except Exception:  # noqa: BLE001 - leftovers stay until the next publish
            log.warning("DNA library %s/%s: could not clean old index snapshots", account_id, db_id, exc_info=True)
        if removed:
            log.info("DNA library %s/%s: removed %d unpublished index snapshot(s)", account_id, db_id, len(removed))
        return removed
