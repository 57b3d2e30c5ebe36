"""Matches -> the AIMediaDNAResult wire shape (spec §7.2), plus openvod's extra keys.

Wire keys (as the cloud): ``VideoDNA[{PrimaryKey, Similarity, Detail[{Input{Start, Duration},
Duplication{Start, Duration}}]}]``, every value a string, times in seconds. Extra keys (ignored by
the SDK models, documented in docs/dna.md): per VideoDNA entry ``Transform`` (Flip, Speed,
CropBox, PiPBox, Padding) and ``Evidence`` (frame pairs with times); per Detail ``Similarity``
and ``Speed``.
"""

from __future__ import annotations

from typing import Any

from openvod.analyzers.dna.align import Segment, Transform
from openvod.analyzers.dna.fingerprint import Fingerprint
from openvod.analyzers.dna.search import PairMatch


def seconds(x: float) -> str:
    """Seconds as the cloud writes them: at least one decimal (``"12.0"``, ``"2.25"``)."""
    s = f"{max(0.0, x):.2f}".rstrip("0")
    return s + "0" if s.endswith(".") else s


def ratio(x: float) -> str:
    return f"{min(1.0, max(0.0, x)):.2f}"


def _box(b: tuple[float, float, float, float]) -> dict[str, str]:
    return {"X": f"{b[0]:.3f}", "Y": f"{b[1]:.3f}", "Width": f"{b[2]:.3f}", "Height": f"{b[3]:.3f}"}


def _to_frame(active: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """A box in active-picture units -> units of the whole frame."""
    ax, ay, aw, ah = active
    return (ax + b[0] * aw, ay + b[1] * ah, b[2] * aw, b[3] * ah)


def transform_info(s: Segment, q: Fingerprint, r: Fingerprint) -> dict[str, Any]:
    """The geometric and temporal relation of a segment, in whole-frame units of each video (the
    active box of each video where the segment is: a stretch framed on its own has its own)."""
    t = s.transform or Transform()
    qbox, rbox = q.box_at((s.q0 + s.q1) / 2), r.box_at((s.r0 + s.r1) / 2)
    out: dict[str, Any] = {"Flip": bool(t.flip), "Speed": f"{s.speed:.3f}"}
    ov = t.overlap()
    if ov is not None:
        qb, rb = (tuple(float(v) for v in x) for x in ov)
        if t.flip:  # query boxes are measured in the mirrored picture
            qb = (1.0 - qb[0] - qb[2], qb[1], qb[2], qb[3])
        if qb[2] * qb[3] < 0.9:
            out["PiPBox"] = _box(_to_frame(qbox, qb))  # type: ignore[arg-type]
        if rb[2] * rb[3] < 0.9:
            out["CropBox"] = _box(_to_frame(rbox, rb))  # type: ignore[arg-type]
    if qbox[2] * qbox[3] < 0.97:
        out["Padding"] = _box(qbox)  # the input's picture area inside letterbox / padding
    return out


def _detail(s: Segment) -> dict[str, Any]:
    return {
        "Input": {"Start": seconds(s.q0), "Duration": seconds(s.q1 - s.q0)},
        "Duplication": {"Start": seconds(s.r0), "Duration": seconds(s.r1 - s.r0)},
        "Similarity": ratio(s.similarity),
        "Speed": f"{s.speed:.3f}",
    }


def _evidence(m: PairMatch, n: int) -> list[dict[str, str]]:
    per_seg = [sorted(s.evidence, key=lambda e: -e[2]) for s in m.segments]
    picked: list[tuple[float, float, float]] = []
    rank = 0
    while len(picked) < n and any(rank < len(e) for e in per_seg):  # round-robin: every segment shows
        for e in per_seg:
            if rank < len(e) and len(picked) < n:
                picked.append(e[rank])
        rank += 1
    return [{"InputTime": seconds(a), "DuplicationTime": seconds(b), "Similarity": ratio(c)} for a, b, c in sorted(picked)]


def video_dna(matches: list[PairMatch], query: Fingerprint, evidence: int = 3, max_results: int = 100) -> dict[str, Any]:
    """The job's Data: ``{"VideoDNA": [...]}`` sorted by Similarity (then PrimaryKey)."""
    entries = []
    for m in matches[:max_results]:
        longest = max(m.segments, key=lambda s: s.duration)
        entry: dict[str, Any] = {
            "PrimaryKey": str(m.key),
            "Similarity": ratio(m.similarity),
            "Detail": [_detail(s) for s in m.segments],
        }
        ref = m.reference
        if ref is not None:
            entry["Transform"] = transform_info(longest, query, ref)
            entry["Transform"]["Reversed"] = bool(longest.reversed)
            tr = entry["Transform"]
            tr["Rotation"] = int(m.rotation)
            tr["VFlip"] = False
            if m.rotation == 180 and tr["Flip"]:  # a mirrored picture turned upside down is a vertical flip
                tr["Flip"], tr["Rotation"], tr["VFlip"] = False, 0, True
        entry["Evidence"] = _evidence(m, evidence)
        entry["MatchedDuration"] = seconds(sum(s.duration for s in m.segments))
        entries.append(entry)
    entries.sort(key=lambda e: (-float(e["Similarity"]), e["PrimaryKey"]))
    return {"VideoDNA": entries}
