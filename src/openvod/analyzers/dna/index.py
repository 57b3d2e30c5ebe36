"""An in-memory ANN index over 64-bit fingerprint codes (FAISS binary indexes).

Codes are addressed by (video number, code row) packed into one int64 id, so removing a video is
one range removal. Small libraries use an exact ``IndexBinaryFlat``; past ``flat_limit`` codes the
index is rebuilt as ``IndexBinaryIVF`` (trained on an evenly spaced, deterministic sample, with
``nlist`` ~ 4 sqrt(N)), which keeps a query sub-linear in the library size. The index is a cache:
the store holds every code, and any worker rebuilds it from there. A built IVF index is also
saved to one file (``save``/``load``) so a fresh worker loads it instead of training it again.
"""

from __future__ import annotations

import json
import math
import os
import threading
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from openvod.analyzers.dna.features import CODE_BITS, CODE_BYTES

ROW_BITS = 22  # up to 4M codes per video (~2.5 days of video at the default rate)


_THREADS: list[int] = []


def _faiss():  # type: ignore[no-untyped-def]
    import faiss

    return faiss


def set_threads(n: int) -> None:
    """FAISS OpenMP threads for this process. Workers are processes already: 1 avoids oversubscription."""
    if not _THREADS or _THREADS[-1] != n:
        _faiss().omp_set_num_threads(max(1, n))
        _THREADS.append(n)


def _read_index(zf: zipfile.ZipFile) -> Any:
    """The FAISS index of a saved file, read by FAISS straight from the zip member in 1 MB pieces:
    never a second whole copy of the serialized index in memory (the peak of a load stays about the
    loaded index and codes)."""
    fmt = np.lib.format
    with zf.open("index.npy") as f:
        major_minor = fmt.read_magic(f)
        read_header = fmt.read_array_header_1_0 if major_minor == (1, 0) else fmt.read_array_header_2_0
        shape, _fortran, dtype = read_header(f)
        if len(shape) != 1 or dtype != np.uint8:
            raise ValueError("not a serialized FAISS index")
        n = [0]

        def read(size: int) -> bytes:
            data = f.read(size)
            n[0] += len(data)
            return data

        index = _faiss().read_index_binary(_faiss().PyCallbackIOReader(read, 1 << 20))
        if n[0] != shape[0] or f.read(1):
            raise ValueError("a serialized FAISS index of another length")
    return index


class CodeIndex:
    """Codes of many videos; range search by Hamming radius."""

    def __init__(self, flat_limit: int = 250_000, nprobe: int = 16, threads: int = 1):
        set_threads(threads)
        self.flat_limit = flat_limit
        self.nprobe = nprobe
        self._codes: dict[int, np.ndarray] = {}
        self._index = None
        self._ivf = False
        self._trained_at = 0
        self.builds = 0  # full (re)builds so far: a persisted copy is worth refreshing after one
        self._lock = threading.Lock()
        self.ntotal = 0

    # ------------------------------------------------------------------ contents
    def __contains__(self, vid: int) -> bool:
        return vid in self._codes

    def videos(self) -> set[int]:
        return set(self._codes)

    def add(self, vid: int, codes: np.ndarray) -> None:
        """Add (or replace) one video's codes ``uint8[m, 8]``."""
        codes = np.ascontiguousarray(codes, dtype=np.uint8).reshape(-1, CODE_BYTES)
        if codes.shape[0] >= 1 << ROW_BITS:
            codes = codes[: (1 << ROW_BITS) - 1]
        with self._lock:
            if vid in self._codes:
                self._remove_locked(vid)
            self._codes[vid] = codes
            self.ntotal += codes.shape[0]
            if self._index is None or self._needs_rebuild():
                self._rebuild_locked()
            elif codes.shape[0]:
                self._index.add_with_ids(codes, self._ids(vid, codes.shape[0]))

    def add_many(self, batch: dict[int, np.ndarray]) -> None:
        """Add (or replace) many videos at once: one rebuild or one batched add, not one per video."""
        if not batch:
            return
        with self._lock:
            for vid, codes in batch.items():
                if vid in self._codes:
                    self._remove_locked(vid)
                c = np.ascontiguousarray(codes, dtype=np.uint8).reshape(-1, CODE_BYTES)[: (1 << ROW_BITS) - 1]
                self._codes[vid] = c
                self.ntotal += c.shape[0]
            if self._index is None or self._needs_rebuild():
                self._rebuild_locked()
                return
            vids = [v for v in sorted(batch) if self._codes[v].shape[0]]
            if vids:
                self._index.add_with_ids(np.concatenate([self._codes[v] for v in vids]),
                                         np.concatenate([self._ids(v, self._codes[v].shape[0]) for v in vids]))

    def remove(self, vid: int) -> None:
        with self._lock:
            if vid in self._codes:
                self._remove_locked(vid)

    def _remove_locked(self, vid: int) -> None:
        faiss = _faiss()
        codes = self._codes.pop(vid)
        self.ntotal -= codes.shape[0]
        if self._index is not None and codes.shape[0]:
            self._index.remove_ids(faiss.IDSelectorRange(vid << ROW_BITS, (vid + 1) << ROW_BITS))

    @staticmethod
    def _ids(vid: int, m: int) -> np.ndarray:
        return (np.int64(vid) << ROW_BITS) + np.arange(m, dtype=np.int64)

    # ------------------------------------------------------------------ structure
    def _needs_rebuild(self) -> bool:
        if not self._ivf:
            return self.ntotal > self.flat_limit
        return self.ntotal > 2 * self._trained_at  # re-balance lists as the library doubles

    def _rebuild_locked(self) -> None:
        faiss = _faiss()
        vids = sorted(self._codes)
        self.builds += 1
        self._ivf = self.ntotal > self.flat_limit
        if self._ivf:
            nlist = int(2 ** round(math.log2(4 * math.sqrt(self.ntotal))))
            index = faiss.IndexBinaryIVF(faiss.IndexBinaryFlat(CODE_BITS), CODE_BITS, nlist)
            sample = self._sample(vids, min(self.ntotal, 40 * nlist))
            index.train(sample)
            index.nprobe = self.nprobe
            self._trained_at = self.ntotal
        else:
            index = faiss.IndexBinaryIDMap2(faiss.IndexBinaryFlat(CODE_BITS))
        nonempty = [v for v in vids if self._codes[v].shape[0]]
        for start in range(0, len(nonempty), 4096):  # batched: one call per few thousand videos
            chunk = nonempty[start : start + 4096]
            index.add_with_ids(np.concatenate([self._codes[v] for v in chunk]),
                               np.concatenate([self._ids(v, self._codes[v].shape[0]) for v in chunk]))
        self._index = index

    def _sample(self, vids: list[int], k: int) -> np.ndarray:
        allc = np.concatenate([self._codes[v] for v in vids])
        pick = np.linspace(0, allc.shape[0] - 1, k).astype(np.int64)
        return np.ascontiguousarray(allc[pick])

    @property
    def kind(self) -> str:
        return "ivf" if self._ivf else "flat"

    # ------------------------------------------------------------------ persistence
    def save(self, path: Path, meta: dict[str, Any]) -> None:
        """Write the built index, its codes and ``meta`` to one file (atomically: temp file + rename)."""
        arrays = self.snapshot(meta)
        if arrays is not None:
            self.write(path, arrays)

    def snapshot(self, meta: dict[str, Any]) -> dict[str, np.ndarray] | None:
        """Copies of what ``save`` writes, taken under the lock (``write`` them without it); None when
        nothing was built yet."""
        faiss = _faiss()
        with self._lock:
            if self._index is None:
                return None
            vids = np.array(sorted(self._codes), np.int64)
            counts = np.array([self._codes[int(v)].shape[0] for v in vids], np.int64)
            codes = np.concatenate([self._codes[int(v)] for v in vids]) if vids.size else np.zeros((0, CODE_BYTES), np.uint8)
            blob = faiss.serialize_index_binary(self._index)
            info = {**meta, "ivf": self._ivf, "trained_at": self._trained_at, "nprobe": self.nprobe,
                    "flat_limit": self.flat_limit, "format": 1}
        return {"index": blob, "vids": vids, "counts": counts, "codes": codes,
                "meta": np.frombuffer(json.dumps(info).encode(), np.uint8)}

    @staticmethod
    def write(path: Path, arrays: dict[str, np.ndarray]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            with open(tmp, "wb") as f:
                np.savez(f, index=arrays["index"], vids=arrays["vids"], counts=arrays["counts"],
                         codes=arrays["codes"], meta=arrays["meta"])
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def load(self, path: Path) -> dict[str, Any] | None:
        """Replace this index by a saved one; returns the saved ``meta`` (None if unreadable or of
        other settings: the caller then rebuilds from the store)."""
        try:
            with np.load(path, allow_pickle=False) as z:
                info = json.loads(bytes(z["meta"]).decode())
                if info.get("format") != 1 or info.get("flat_limit") != self.flat_limit:
                    return None
                index = _read_index(z.zip)
                vids, counts, codes = z["vids"], z["counts"], z["codes"]  # numpy reads members in chunks
        except (OSError, ValueError, KeyError, RuntimeError, EOFError, json.JSONDecodeError, zipfile.BadZipFile):
            return None
        bounds = np.concatenate([[0], np.cumsum(counts)])
        with self._lock:
            self._codes = {int(v): codes[bounds[i] : bounds[i + 1]] for i, v in enumerate(vids)}
            self.ntotal = int(counts.sum())
            self._ivf = bool(info["ivf"])
            self._trained_at = int(info["trained_at"])
            if self._ivf:
                index.nprobe = self.nprobe
            self._index = index
        return info  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ search
    def search(self, queries: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """All stored codes within Hamming ``radius`` (inclusive) of each query.

        Returns parallel arrays (query row, video, code row, distance).
        """
        e = np.zeros(0, np.int64)
        with self._lock:
            if self._index is None or self.ntotal == 0 or queries.shape[0] == 0:
                return e, e, e, e
            lims, dist, ids = self._index.range_search(np.ascontiguousarray(queries, dtype=np.uint8), radius + 1)
        qrow = np.repeat(np.arange(queries.shape[0], dtype=np.int64), np.diff(lims.astype(np.int64)))
        ids = ids.astype(np.int64)
        return qrow, ids >> ROW_BITS, ids & ((1 << ROW_BITS) - 1), dist.astype(np.int64)


def generic_queries(qrow: np.ndarray, n: int, limit: int, vid: np.ndarray | None = None,
                    dist: np.ndarray | None = None) -> np.ndarray:
    """bool[n]: query codes with more than ``limit`` hits (``qrow``: the query code of each hit).

    With ``vid`` and ``dist``, hits of one query code on one library video at the same Hamming
    distance count once: a picture held for a while (a title slide) has one near-identical code per
    sample, and a query code that hits them all is specific to that picture, not generic. Used for
    the rotated and picture-in-picture readings, which have whole-picture codes only (a plain query
    also has local codes to fall back on).
    """
    qrow = np.asarray(qrow, np.int64)
    if vid is not None and dist is not None and qrow.size:
        key = np.unique(np.stack([qrow, np.asarray(vid, np.int64), np.asarray(dist, np.int64)], axis=1), axis=0)
        qrow = key[:, 0]
    return np.bincount(qrow, minlength=n)[:n] > limit
