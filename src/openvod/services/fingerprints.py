"""Fingerprint libraries in the store, and each worker's in-memory index over them (a service: the
AIMediaDNA analyzer reaches it only through ``openvod.domain.interfaces.FingerprintLibrary``).

A library is (account, DNADBId). The store is the truth: ``dna_videos`` holds one row per video
with its codes and its full fingerprint. Each worker process keeps, per library it has served, a
``CodeIndex`` built lazily from the rows and brought up to date before every query by a cheap
aggregate (count, max id, sum of ids): rows added by other workers are loaded, rows deleted
anywhere are dropped. Nothing here is shared between processes, so any worker can serve any query.
A large (IVF) index is also saved under ``index_dir`` after it is built: a fresh worker loads it and
reads only the rows added or deleted since, instead of training and filling it again.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from openvod.analyzers.dna.fingerprint import Fingerprint, FingerprintOptions
from openvod.analyzers.dna.index import CodeIndex
from openvod.analyzers.dna.search import MatchParams, PairMatch, search, single_threaded_blas
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
                 index_dir: Path | None = None):
        self.engine = engine
        self.account_id = account_id
        self.db_id = db_id
        self.opts = opts
        self.params = params
        self.version = fingerprint_version(opts)
        self.index = CodeIndex(flat_limit=flat_limit, nprobe=nprobe)
        self._media: dict[int, str] = {}  # row id -> media id
        self._signature: tuple[int, int, int] | None = None
        self._fps: OrderedDict[int, Fingerprint] = OrderedDict()
        self._fp_cache = fingerprint_cache
        self._lock = threading.RLock()
        key = hashlib.sha1(f"{account_id}\0{db_id}\0{self.version}".encode()).hexdigest()[:24]
        self.index_path = None if index_dir is None else Path(index_dir) / f"{key}.npz"
        self._saved = (-1, -1)  # (index builds, videos) when the index file was last written or read

    def _where(self) -> list[Any]:
        return [dna_videos.c.account_id == self.account_id, dna_videos.c.db_id == self.db_id,
                dna_videos.c.version == self.version]

    # ------------------------------------------------------------------ sync
    def sync(self) -> None:
        """Bring the index up to date with the store (cheap when nothing changed)."""
        with self._lock, self.engine.connect() as conn:
            sig_row = conn.execute(
                select(func.count(dna_videos.c.id), func.max(dna_videos.c.id), func.sum(dna_videos.c.id)).where(*self._where())
            ).one()
            sig = (int(sig_row[0] or 0), int(sig_row[1] or 0), int(sig_row[2] or 0))
            if sig == self._signature:
                return
            if self._signature is None and not self._media:
                self._load_saved()
            rows = conn.execute(select(dna_videos.c.id, dna_videos.c.media_id).where(*self._where())).all()
            live = {int(r.id): str(r.media_id) for r in rows}
            for vid in set(self._media) - set(live):
                self.index.remove(vid)
                self._media.pop(vid, None)
                self._fps.pop(vid, None)
            new = sorted(set(live) - set(self._media))
            batch: dict[int, np.ndarray] = {}
            for chunk in range(0, len(new), 500):
                ids = new[chunk : chunk + 500]
                for r in conn.execute(select(dna_videos.c.id, dna_videos.c.codes).where(dna_videos.c.id.in_(ids))):
                    batch[int(r.id)] = np.frombuffer(r.codes, np.uint8).reshape(-1, 8)
            self.index.add_many(batch)
            for vid in batch:
                self._media[vid] = live[vid]
            self._signature = sig
            self._maybe_save()

    # ------------------------------------------------------------------ persisted index
    def _load_saved(self) -> None:
        """A fresh worker: start from the saved index (then only the difference is read from the store)."""
        if self.index_path is None or not self.index_path.exists():
            return
        t = time.perf_counter()
        info = self.index.load(self.index_path)
        if info is None or info.get("version") != self.version:
            self.index = CodeIndex(flat_limit=self.index.flat_limit, nprobe=self.index.nprobe)
            return
        self._media = {int(k): str(v) for k, v in info["media"].items()}
        self._saved = (self.index.builds, len(self._media))
        log.info("DNA library %s/%s: loaded the saved index (%d videos) in %.2fs", self.account_id, self.db_id,
                 len(self._media), time.perf_counter() - t)

    def _maybe_save(self) -> None:
        """Write the index after a (re)build, or once the library grew or shrank by 2 % since it was
        last written. Small (exact, flat) indexes are rebuilt faster than they are read: not saved."""
        if self.index_path is None or self.index.kind != "ivf":
            return
        builds, n = self._saved
        if self.index.builds == builds and abs(len(self._media) - n) < max(64, 0.02 * n):
            return
        try:
            self.index.save(self.index_path, {"version": self.version, "media": {str(k): v for k, v in self._media.items()}})
            self._saved = (self.index.builds, len(self._media))
        except OSError as exc:  # a cache: the next worker rebuilds
            log.warning("DNA library %s/%s: cannot save the index: %s", self.account_id, self.db_id, exc)

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
        for attempt in range(3):
            try:
                with self.engine.begin() as conn:
                    conn.execute(delete(dna_videos).where(
                        dna_videos.c.account_id == self.account_id, dna_videos.c.db_id == self.db_id,
                        dna_videos.c.media_id == media_id))
                    conn.execute(insert(dna_videos).values(**row))
                return
            except IntegrityError:  # the same video added concurrently: the later write wins
                if attempt == 2:
                    raise


def delete_video(engine: Engine, account_id: str, media_id: str, db_id: str | None = None) -> int:
    """Remove a video's fingerprints (from one library, or from all of the account's when db_id is None)."""
    cond = [dna_videos.c.account_id == account_id, dna_videos.c.media_id == media_id]
    if db_id is not None:
        cond.append(dna_videos.c.db_id == db_id)
    with engine.begin() as conn:
        return int(conn.execute(delete(dna_videos).where(*cond)).rowcount or 0)


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
                 flat_limit: int = 250_000, nprobe: int = 16, index_dir: Path | None = None):
        self.engine = engine
        self.opts = opts
        self.params = params
        self.flat_limit = flat_limit
        self.nprobe = nprobe
        self.index_dir = index_dir
        self.cache = LibraryCache(max_cached)

    def library(self, account_id: str, db_id: str) -> Library:
        return self.cache.get(self.engine, account_id, db_id, self.opts, self.params, flat_limit=self.flat_limit,
                              nprobe=self.nprobe, index_dir=self.index_dir)

    def for_account(self, account_id: str) -> AccountFingerprints:
        return AccountFingerprints(self, account_id)

    def delete_video(self, account_id: str, media_id: str, db_id: str | None = None) -> int:
        """Remove a video's fingerprints from one library, or from all of the account's (``db_id`` None)."""
        return delete_video(self.engine, account_id, media_id, db_id)
