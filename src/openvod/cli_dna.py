"""What ``openvod dna compare`` and ``openvod dna groups`` compute (the CLI only parses and prints)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from openvod.analyzers.dna.fingerprint import fingerprint_file
from openvod.analyzers.dna.results import video_dna
from openvod.analyzers.dna.search import compare, search, single_threaded_blas
from openvod.config import DNASettings
from openvod.engine.analyzer_options import fingerprint_options, match_params
from openvod.services.fingerprints import Library, libraries
from openvod.store.tables import accounts, media

if TYPE_CHECKING:
    from openvod.runtime import Runtime


def compare_files(a: str | Path, b: str | Path, settings: DNASettings | None = None) -> dict[str, Any]:
    """Which parts of file ``a`` copy file ``b`` (b plays the library video), in the job's Data shape."""
    s = settings or DNASettings()
    opts = fingerprint_options(s)
    fa, fb = fingerprint_file(a, opts), fingerprint_file(b, opts)
    with single_threaded_blas():
        m = compare(fa, fb, match_params(s))
    if m is not None:
        m.key = str(b)
    out = video_dna([m] if m else [], fa, evidence=s.evidence_frames)
    return {"Input": str(a), "Library": str(b), "InputDuration": round(fa.duration, 3),
            "LibraryDuration": round(fb.duration, 3), **out}


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def duplicate_groups(rt: Runtime, account_name: str | None = None) -> list[dict[str, Any]]:
    """Groups of library videos connected by detected copies, per library.

    Every stored video is searched against its own library (so the report reflects the current
    thresholds, not those of the jobs that added the videos); pairs are joined transitively.
    """
    s = rt.settings.dna
    opts, params = fingerprint_options(s), match_params(s)
    with rt.engine.connect() as conn:
        names = {str(r.id): str(r.name) for r in conn.execute(select(accounts.c.id, accounts.c.name))}
    account_id = None
    if account_name is not None:
        account_id = next((i for i, n in names.items() if n == account_name), None)
        if account_id is None:
            return []
    groups: list[dict[str, Any]] = []
    for acc, db in libraries(rt.engine, account_id):
        lib = Library(rt.engine, acc, db, opts, params, flat_limit=s.index_flat_limit, nprobe=s.index_nprobe,
                      fingerprint_cache=1 << 20)
        lib.sync()
        pairs: dict[tuple[str, str], dict[str, Any]] = {}
        uf = _UnionFind()
        with single_threaded_blas():
            for vid, mid in sorted(lib.media_ids().items()):
                loaded = lib.load(vid)
                if loaded is None:
                    continue
                for m in search(loaded[1], lib.index, lib.load, params, exclude={vid}):
                    a, b = sorted((mid, str(m.key)))
                    matched = sum(seg.duration for seg in m.segments)
                    prev = pairs.get((a, b))
                    if prev is None or m.similarity > prev["similarity"]:
                        pairs[(a, b)] = {"similarity": m.similarity, "matched": matched}
                    uf.union(a, b)
        members: dict[str, list[str]] = {}
        for a, b in pairs:
            for x in (a, b):
                members.setdefault(uf.find(x), [])
                if x not in members[uf.find(x)]:
                    members[uf.find(x)].append(x)
        titles = _titles(rt, acc, [x for v in members.values() for x in v])
        for root in sorted(members):
            vids = sorted(members[root])
            groups.append({
                "Account": names.get(acc, acc),
                "DNADBId": db,
                "Videos": [{"MediaId": v, "Title": titles.get(v, "")} for v in vids],
                "Pairs": [
                    {"A": a, "B": b, "Similarity": f"{p['similarity']:.2f}", "MatchedDuration": f"{p['matched']:.1f}"}
                    for (a, b), p in sorted(pairs.items()) if uf.find(a) == root
                ],
            })
    return groups


def _titles(rt: Runtime, account_id: str, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    with rt.engine.connect() as conn:
        rows = conn.execute(select(media.c.id, media.c.title).where(media.c.account_id == account_id, media.c.id.in_(ids)))
        return {str(r.id): str(r.title) for r in rows}
