"""``CodeIndex.save``/``load`` (analyzers/dna/index.py): the FAISS index is read by FAISS straight from
the snapshot file's zip member (no whole serialized copy in memory), and a load gives the same
index, flat or IVF; a damaged file is refused (None: the caller rebuilds from the store)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from openvod.analyzers.dna import index as index_mod
from openvod.analyzers.dna.index import CodeIndex


def _built(flat_limit: int) -> CodeIndex:
    rng = np.random.default_rng(7)
    ix = CodeIndex(flat_limit=flat_limit, nprobe=64)
    ix.add_many({v: rng.integers(0, 256, size=(200 + v, 8), dtype=np.uint8) for v in range(1, 40)})
    return ix


def _hits(ix: CodeIndex, q: np.ndarray) -> list[tuple[int, ...]]:
    return sorted(zip(*(a.tolist() for a in ix.search(q, 2)), strict=True))


@pytest.mark.parametrize("flat_limit", [100_000, 2_000])  # flat, then IVF
def test_save_and_load_give_the_same_index(tmp_path: Path, flat_limit: int, monkeypatch: pytest.MonkeyPatch) -> None:
    ix = _built(flat_limit)
    assert ix.kind == ("flat" if flat_limit > 10_000 else "ivf")
    path = tmp_path / "snap.npz"
    ix.save(path, {"version": "v1", "log_version": 3})

    def no_whole_copy(*_a: object) -> None:
        raise AssertionError("the serialized index was read whole")

    monkeypatch.setattr(index_mod._faiss(), "deserialize_index_binary", no_whole_copy)
    fresh = CodeIndex(flat_limit=flat_limit, nprobe=64)
    info = fresh.load(path)
    assert info is not None and info["log_version"] == 3 and info["ivf"] == (ix.kind == "ivf")
    assert fresh.kind == ix.kind and fresh.ntotal == ix.ntotal and fresh.videos() == ix.videos()
    q = np.concatenate([ix._codes[3][:20], ix._codes[30][-20:]])
    assert _hits(fresh, q) == _hits(ix, q) and len(_hits(fresh, q)) >= 40
    fresh.add(99, q[:5])  # and it keeps working as an index
    assert {v for _, v, _, _ in _hits(fresh, q[:5])} >= {3, 99}


def test_a_damaged_snapshot_is_refused(tmp_path: Path) -> None:
    ix = _built(100_000)
    good = tmp_path / "good.npz"
    ix.save(good, {"version": "v1", "log_version": 1})
    arrays = ix.snapshot({"version": "v1", "log_version": 1})
    assert arrays is not None
    # The index member cut short (a serialized index of another length), then a file that is no zip.
    short = tmp_path / "short.npz"
    CodeIndex.write(short, {**arrays, "index": arrays["index"][: len(arrays["index"]) // 2]})
    longer = tmp_path / "long.npz"
    CodeIndex.write(longer, {**arrays, "index": np.concatenate([arrays["index"], np.zeros(16, np.uint8)])})
    junk = tmp_path / "junk.npz"
    junk.write_bytes(good.read_bytes()[:1000])
    for p in (short, longer, junk):
        assert CodeIndex(flat_limit=100_000).load(p) is None, p.name
    assert zipfile.is_zipfile(good) and CodeIndex(flat_limit=100_000).load(good) is not None
