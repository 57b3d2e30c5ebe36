"""Fingerprint libraries in the store, and each worker's in-memory index over them (a service: the
AIMediaDNA analyzer reaches it only through ``openvod.domain.interfaces.FingerprintLibrary``).

A library is (account, DNADBId), and each has its own index (libraries are sharded by DNADBId).
The store is the truth: ``dna_videos`` holds one row per video with its codes and its full
fingerprint, and every add or removal also writes a numbered change-log row in the same transaction
(services/dna_log.py). Each worker process keeps, per library it has served, a ``CodeIndex`` and
the log version it reflects; before every query one primary-key read of the library's version
tells whether anything changed, and the log rows after it are applied (adds read those rows'
codes, deletes drop them). A large (IVF) index is also published as a snapshot in the blob store
(services/dna_snapshot.py: S3 when configured): a fresh worker loads it and replays the log after
its version instead of training and filling the index again.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, delete, insert, select

from openvod.analyzers.dna.fingerprint import Fingerprint, FingerprintOptions
from openvod.analyzers.dna.index import CodeIndex
from openvod.analyzers.dna.search import MatchParams, PairMatch, search, single_threaded_blas
from openvod.services.dna_log import Change, bump, changes_after, current_version, log_change, record, write_retry
from openvod.services.dna_snapshot import SnapshotStore
from openvod.store.tables import dna_videos
from openvod.util import now

log = logging.getLogger(__name__)


def fingerprint_version(opts: FingerprintOptions) -> str:
    """What a stored fingerprint must match to be comparable with new ones."""
    return "fp1-" + hashlib.sha1(opts.key().encode()).hexdigest()[:16]


class Library:
    """One (account, DNADBId) library: store access plus this process's index over it."""

    def __init__(self, engine: Engine, account_id: str, db_id: str, opts: FingerprintOptions, params: MatchParams,
                 *, flat_limit: int = 250_000, nprobe: int = 16, fingerprint_cache: int = 64,
                 snapshots: SnapshotStore | None = None):
        self.engine = engine
        self.account_id = account_id
        self.db_id = db_id
        self.opts = opts
        self.params = params
        self.version = fingerprint_version(opts)
        self.index = CodeIndex(flat_limit=flat_limit, nprobe=nprobe)
        self._media: dict[int, str] = {}  # row id -> media id
        self._by_media: dict[str, int] = {}  # media id -> row id
        self.applied: int | None = None  # the library version (change log) the index reflects
        self._fps: OrderedDict[int, Fingerprint] = OrderedDict()
        self._fp_cache = fingerprint_cache
        self._lock = threading.RLock()
        self.snapshots = snapshots
        self._saved = (-1, -1)  # (index builds, videos) when a snapshot was last taken or loaded
        self._bg: threading.Thread | None = None  # the background publisher, and what it publishes next
        self._bg_next: tuple[dict[str, Any], int, int, int] | None = None
        self._bg_lock = threading.Lock()
        # What this process did to keep the index current (tests and bench read them).
        self.stats = {"full_loads": 0, "snapshot_loads": 0, "replayed": 0, "snapshot_saves": 0}

    def _where(self) -> list[Any]:
        return [dna_videos.c.account_id == self.account_id, dna_videos.c.db_id == self.db_id,
                dna_videos.c.version == self.version]

    # ------------------------------------------------------------------ sync
    def sync(self) -> None:
        """Bring the index up to date with the store (one primary-key read when nothing changed)."""
        with self._lock:
            with self.engine.connect() as conn:
                latest = current_version(conn, self.account_id, self.db_id)
                if latest == self.applied:
                    return
                if self.applied is None and self.snapshots is not None:
                    self._load_snapshot(conn)
                if self.applied is None or not self._replay(conn):
                    self._full_sync(conn, latest)
            pending = self._snapshot_arrays()
        if pending is not None:
            self._publish_later(pending)

    def _full_sync(self, conn: Connection, latest: int) -> None:
        """Read the library's row ids (``latest`` was read before them: the log after it is replayed
        idempotently next time) and apply the difference."""
        self.stats["full_loads"] += 1
        rows = conn.execute(select(dna_videos.c.id, dna_videos.c.media_id).where(*self._where())).all()
        live = {int(r.id): str(r.media_id) for r in rows}
        for vid in set(self._media) - set(live):
            self._drop(vid)
        new = sorted(set(live) - set(self._media))
        batch = self._read_codes(conn, new)
        for vid in new:
            if vid in batch:
                self._drop(self._by_media.get(live[vid], -1))
                self._put(vid, live[vid])
        self.index.add_many(batch)
        self.applied = latest

    def _replay(self, conn: Connection) -> bool:
        """Apply the log after ``applied``; False when part of it is gone (trimmed): re-read instead."""
        assert self.applied is not None
        changes = changes_after(conn, self.account_id, self.db_id, self.applied)
        if [c.version for c in changes] != list(range(self.applied + 1, self.applied + 1 + len(changes))):
            return False
        self.stats["replayed"] += len(changes)
        adds = {c.row_id: c.media_id for c in changes if c.op == "add"}
        self._apply(changes, self._read_codes(conn, list(adds), adds))
        if changes:
            self.applied = changes[-1].version
        return True

    def _apply(self, changes: list[Change], codes: dict[int, np.ndarray]) -> None:
        """Adds replace the video's row (rows of other fingerprint settings, or deleted since, only
        remove it); deletes drop the row they name, never a newer one. Idempotent: row ids only grow,
        so an add of a row older than the one the index holds (read by a full load) is skipped."""
        pending: dict[int, np.ndarray] = {}
        for c in changes:
            cur = self._by_media.get(c.media_id)
            if c.op == "add" and cur is not None and cur >= c.row_id:
                continue
            if cur is not None and (c.op == "add" or cur == c.row_id):
                if pending.pop(cur, None) is None:
                    self._drop(cur)
                else:
                    self._forget(cur)
            if c.op == "add" and c.row_id in codes:
                pending[c.row_id] = codes[c.row_id]
                self._put(c.row_id, c.media_id)
        self.index.add_many(pending)

    def _read_codes(self, conn: Connection, ids: list[int],
                    media: dict[int, str] | None = None) -> dict[int, np.ndarray]:
        """Codes of these rows of the library (with ``media``: only rows still of that media id)."""
        batch: dict[int, np.ndarray] = {}
        ids = sorted(set(ids))
        for chunk in range(0, len(ids), 500):
            sel = select(dna_videos.c.id, dna_videos.c.media_id, dna_videos.c.codes).where(
                dna_videos.c.id.in_(ids[chunk: chunk + 500]), *self._where())
            for r in conn.execute(sel):
                if media is None or media.get(int(r.id)) == r.media_id:
                    batch[int(r.id)] = np.frombuffer(r.codes, np.uint8).reshape(-1, 8)
        return batch

    def _put(self, vid: int, media_id: str) -> None:
        self._media[vid] = media_id
        self._by_media[media_id] = vid

    def _forget(self, vid: int) -> None:
        media_id = self._media.pop(vid, None)
        if media_id is not None and self._by_media.get(media_id) == vid:
            del self._by_media[media_id]
        self._fps.pop(vid, None)

    def _drop(self, vid: int) -> None:
        if vid in self._media:
            self.index.remove(vid)
            self._forget(vid)

    # ------------------------------------------------------------------ snapshots in the blob store
    def _load_snapshot(self, conn: Connection) -> None:
        """A fresh worker: start from the published snapshot (then only the log after it is read)."""
        assert self.snapshots is not None
        got = self.snapshots.load(conn, self.account_id, self.db_id, self.version, self.index)
        if got is None:
            self.index = CodeIndex(flat_limit=self.index.flat_limit, nprobe=self.index.nprobe)
            return
        version, info = got
        for k, v in info["media"].items():
            self._put(int(k), str(v))
        self.applied = version
        self._saved = (self.index.builds, len(self._media))
        self.stats["snapshot_loads"] += 1

    def save_snapshot(self) -> bool:
        """Publish a snapshot of the index now (any kind, changed or not), once it is up to date."""
        self.sync()
        with self._lock:
            pending = self._snapshot_arrays(force=True)
        return pending is not None and self._publish(pending)

    def wait_snapshot(self) -> None:
        """Wait until the snapshots handed to the background publisher are published (or given up)."""
        while True:
            with self._bg_lock:
                thread = self._bg
            if thread is None or not thread.is_alive():
                return
            thread.join()

    def _snapshot_arrays(self, force: bool = False) -> tuple[dict[str, Any], int, int, int] | None:
        """A copy of the index to publish, after a (re)build or once the library grew or shrank by 2 %
        since one was last taken or loaded (under the lock; written and uploaded after it). Small
        (exact, flat) indexes are rebuilt faster than they are read: not published unless ``force``."""
        if self.snapshots is None or self.applied is None:
            return None
        builds, n = self._saved
        if not force and (self.index.kind != "ivf" or (
                self.index.builds == builds and abs(len(self._media) - n) < max(64, 0.02 * n))):
            return None
        arrays = self.index.snapshot({"version": self.version, "log_version": self.applied,
                                      "media": {str(k): v for k, v in self._media.items()}})
        if arrays is None:
            return None
        self._saved = (self.index.builds, len(self._media))
        return arrays, self.applied, len(self._media), self.index.ntotal

    def _publish_later(self, pending: tuple[dict[str, Any], int, int, int]) -> None:
        """Publish off the query path: one background thread per library, the newest copy wins."""
        with self._bg_lock:
            self._bg_next = pending
            if self._bg is not None and self._bg.is_alive():
                return
            self._bg = threading.Thread(target=self._publisher, name=f"dna-snapshot-{self.db_id}", daemon=True)
            self._bg.start()

    def _publisher(self) -> None:
        while True:
            with self._bg_lock:
                pending, self._bg_next = self._bg_next, None
                if pending is None:
                    return
            self._publish(pending)

    def _publish(self, pending: tuple[dict[str, Any], int, int, int]) -> bool:
        assert self.snapshots is not None
        arrays, version, videos, codes = pending
        try:
            path = self.snapshots.write(arrays)
        except OSError as exc:  # a cache: the next worker rebuilds
            log.warning("DNA library %s/%s: cannot write the index snapshot: %s", self.account_id, self.db_id, exc)
            return False
        if self.snapshots.publish(path, self.account_id, self.db_id, self.version, version, videos, codes):
            self.stats["snapshot_saves"] += 1
            return True
        return False

    def load(self, vid: int) -> tuple[str, Fingerprint] | None:
        """(media id, fingerprint) of a library row, or None if it is gone."""
        with self._lock:
            if vid in self._fps:
                self._fps.move_to_end(vid)
                return self._media[vid], self._fps[vid]
        with self.engine.connect() as conn:
            row = conn.execute(
                select(dna_videos.c.media_id, dna_videos.c.fingerprint).where(dna_videos.c.id == vid, *self._where())
            ).first()
        if row is None:
            return None
        fp = Fingerprint.from_bytes(row.fingerprint)
        with self._lock:
            self._fps[vid] = fp
            while len(self._fps) > self._fp_cache:
                self._fps.popitem(last=False)
        return str(row.media_id), fp

    def media_ids(self) -> dict[int, str]:
        with self._lock:
            return dict(self._media)

    # ------------------------------------------------------------------ query / update
    def search(self, fp: Fingerprint, exclude_media: str | None = None) -> list[PairMatch]:
        """Every video of this library the fingerprint copies from (never the video itself)."""
        self.sync()
        exclude = {v for v, m in self.media_ids().items() if m == exclude_media}
        with single_threaded_blas():
            return search(fp, self.index, self.load, self.params, exclude)

    def add(self, media_id: str, fp: Fingerprint, job_id: str = "") -> None:
        """Store (or replace) a video's fingerprint in one transaction."""
        row = {
            "account_id": self.account_id,
            "db_id": self.db_id,
            "media_id": media_id,
            "job_id": job_id,
            "version": self.version,
            "duration": float(fp.duration),
            "n_codes": int(fp.codes.shape[0]),
            "codes": np.ascontiguousarray(fp.codes, np.uint8).tobytes(),
            "fingerprint": fp.to_bytes(),
            "created_at": now(),
        }

        def write(conn: Connection) -> None:
            # The version first: its row lock orders this library's writers (the same video added
            # concurrently: the later write wins, and the log says so in commit order).
            version = bump(conn, self.account_id, self.db_id)
            conn.execute(delete(dna_videos).where(
                dna_videos.c.account_id == self.account_id, dna_videos.c.db_id == self.db_id,
                dna_videos.c.media_id == media_id))
            pk = conn.execute(insert(dna_videos).values(**row)).inserted_primary_key
            assert pk is not None
            log_change(conn, self.account_id, self.db_id, version, "add", int(pk[0]), media_id)

        write_retry(self.engine, write)


def delete_video(engine: Engine, account_id: str, media_id: str, db_id: str | None = None) -> int:
    """Remove a video's fingerprints (from one library, or from all of the account's when db_id is None)."""
    cond = [dna_videos.c.account_id == account_id, dna_videos.c.media_id == media_id]
    if db_id is not None:
        cond.append(dna_videos.c.db_id == db_id)

    def write(conn: Connection) -> int:
        rows = conn.execute(select(dna_videos.c.id, dna_videos.c.db_id).where(*cond).order_by(dna_videos.c.db_id)).all()
        for r in rows:  # each library's change is logged (and its version bumped) with the delete
            record(conn, account_id, str(r.db_id), "del", int(r.id), media_id)
        conn.execute(delete(dna_videos).where(dna_videos.c.id.in_([int(r.id) for r in rows])))
        return len(rows)

    return write_retry(engine, write)


def libraries(engine: Engine, account_id: str | None = None) -> list[tuple[str, str]]:
    """(account, DNADBId) of every library that holds fingerprints."""
    q = select(dna_videos.c.account_id, dna_videos.c.db_id).distinct()
    if account_id is not None:
        q = q.where(dna_videos.c.account_id == account_id)
    with engine.connect() as conn:
        return sorted((str(r[0]), str(r[1])) for r in conn.execute(q))


class LibraryCache:
    """The libraries one worker process has served, least recently used dropped first."""

    def __init__(self, size: int = 8):
        self.size = size
        self._libs: OrderedDict[tuple[int, str, str], Library] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, engine: Engine, account_id: str, db_id: str, opts: FingerprintOptions, params: MatchParams,
            **kw: Any) -> Library:
        key = (id(engine), account_id, db_id)
        with self._lock:
            lib = self._libs.get(key)
            if lib is None or lib.opts != opts or lib.params != params:
                lib = Library(engine, account_id, db_id, opts, params, **kw)
                self._libs[key] = lib
            self._libs.move_to_end(key)
            while len(self._libs) > self.size:
                self._libs.popitem(last=False)
            return lib


class AccountFingerprints:
    """``FingerprintLibrary`` (the analyzer's interface) over one account's libraries."""

    def __init__(self, service: FingerprintService, account_id: str):
        self.service = service
        self.account_id = account_id

    def search(self, db_id: str, fingerprint: Any, exclude_media: str | None = None) -> list[Any]:
        return self.service.library(self.account_id, db_id).search(fingerprint, exclude_media=exclude_media)

    def size(self, db_id: str) -> int:
        return len(self.service.library(self.account_id, db_id).media_ids())

    def add(self, db_id: str, media_id: str, fingerprint: Any, job_id: str = "") -> None:
        self.service.library(self.account_id, db_id).add(media_id, fingerprint, job_id)


class FingerprintService:
    """Every account's fingerprint libraries, with this process's cache of their indexes."""

    def __init__(self, engine: Engine, opts: FingerprintOptions, params: MatchParams, *, max_cached: int = 8,
                 flat_limit: int = 250_000, nprobe: int = 16, blobs: Any = None):
        self.engine = engine
        self.opts = opts
        self.params = params
        self.flat_limit = flat_limit
        self.nprobe = nprobe
        # Index snapshots live in the blob store (none without one: every worker builds from the store).
        self.snapshots = None if blobs is None else SnapshotStore(engine, blobs)
        self.cache = LibraryCache(max_cached)

    def library(self, account_id: str, db_id: str) -> Library:
        return self.cache.get(self.engine, account_id, db_id, self.opts, self.params, flat_limit=self.flat_limit,
                              nprobe=self.nprobe, snapshots=self.snapshots)

    def for_account(self, account_id: str) -> AccountFingerprints:
        return AccountFingerprints(self, account_id)

    def delete_video(self, account_id: str, media_id: str, db_id: str | None = None) -> int:
        """Remove a video's fingerprints from one library, or from all of the account's (``db_id`` None)."""
        return delete_video(self.engine, account_id, media_id, db_id)
