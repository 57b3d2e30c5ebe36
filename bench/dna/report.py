"""Side-by-side report of openvod and the baselines on the DNA benchmark.

    python -m bench.dna.report bench/dna/results

Reads ``data/manifest.json`` and whichever of ``openvod.json``, ``signature.json``, ``vpdq.json``,
``vpdq-any.json`` exist; writes ``report.md`` and prints it. The signature baseline is scored on
the pairs it was run on; openvod is scored over the whole library and, for a like-for-like
column, on the signature pairs too. The first table puts the methods side by side per class
(segment F1; signature's cell carries openvod on the same pairs in brackets), with the negatives
matched and the false pairs of every method under it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.dna.score import score, table

TARGET_OVERALL, TARGET_CLASS = 0.90, 0.80


SIG, SIG_OV = "ffmpeg signature (sampled pairs)", "openvod (same pairs)"


def false_pairs(manifest: dict[str, Any], predictions: dict[str, list[dict[str, Any]]],
                pairs_evaluated: dict[str, list[str]] | None = None) -> list[tuple[str, str]]:
    """(query, library video) pairs predicted without any copy between them (only the evaluated
    pairs when ``pairs_evaluated`` is given)."""
    out = []
    for q in manifest["queries"]:
        gt = {g["ref"] for g in q["gt"]}
        refs = {p["ref"] for p in predictions.get(q["id"], [])} - gt
        if pairs_evaluated is not None:
            refs &= set(pairs_evaluated.get(q["id"], []))
        for ref in sorted(refs):
            out.append((q["id"], ref))
    return out


def by_embedding(manifest: dict[str, Any], predictions: dict[str, list[dict[str, Any]]]) -> dict[str, float]:
    """Overall segment F1 of the bare copies and of the copies embedded in other footage."""
    out = {}
    for name, emb in (("bare", False), ("embedded", True)):
        qs = [q for q in manifest["queries"] if q["gt"] and bool(q.get("embedded")) == emb]
        if qs:
            out[name] = score({"queries": qs}, predictions)["overall"]["segment_f1"]
    return out


def side_by_side(manifest: dict[str, Any], runs: dict[str, dict[str, Any]],
                 results: dict[str, dict[str, Any]]) -> list[str]:
    """One per-class segment F1 table: openvod, FFmpeg signature (openvod on its pairs), vPDQ, vPDQ any 1 s;
    then negatives matched and false pairs per method."""
    cols = [(name, label) for name, label in (("openvod", "openvod (whole library)"),
                                              (SIG, "FFmpeg signature (openvod, same pairs)"),
                                              ("vpdq", "vPDQ (80 % rule)"), ("vpdq-any", "vPDQ (any 1 s)"))
            if name in results]
    if len(cols) < 2:
        return []
    classes = sorted({c for r in results.values() for c in r if c not in ("overall", "negative")})

    def cell(name: str, c: str) -> str:
        v = results[name].get(c, {}).get("segment_f1")
        w = results[SIG_OV].get(c, {}).get("segment_f1") if name == SIG and SIG_OV in results else None
        return ("-" if v is None else f"{v:.3f}") + ("" if w is None else f" ({w:.3f})")

    def neg(name: str) -> str:
        r = results[name].get("negative", {})
        return f"{r.get('negative_queries_with_a_match', 0)} of {r.get('negative_queries', 0)}"

    src = {"openvod": "openvod", SIG: "signature", "vpdq": "vpdq", "vpdq-any": "vpdq-any"}
    fps = {n: false_pairs(manifest, runs[src[n]]["predictions"],
                          runs["signature"]["pairs_evaluated"] if n == SIG else None) for n, _ in cols}
    if SIG in fps and SIG_OV in results:
        fps[SIG_OV] = false_pairs(manifest, runs["openvod"]["predictions"],
                                  runs["signature"]["pairs_evaluated"])

    def same_pairs(name: str, text: str) -> str:
        return f" ({text})" if name == SIG and SIG_OV in results else ""

    lines = ["## Side by side: segment F1 per class", "",
             "| class | " + " | ".join(label for _, label in cols) + " |", "|---|" + "---|" * len(cols)]
    lines += [f"| {c} | " + " | ".join(cell(n, c) for n, _ in cols) + " |" for c in classes]
    lines.append("| negatives matched | " + " | ".join(
        neg(n) + same_pairs(n, neg(SIG_OV) if SIG_OV in results else "") for n, _ in cols) + " |")
    lines.append("| false pairs | " + " | ".join(
        f"{len(fps[n])}" + same_pairs(n, str(len(fps.get(SIG_OV, [])))) for n, _ in cols) + " |")
    lines.append("| **overall** | " + " | ".join(f"**{cell(n, 'overall')}**" for n, _ in cols) + " |")
    lines += ["", "False pairs (query → library video; signature and openvod (same pairs) over the pairs "
              "signature ran):", ""]
    for n, pairs in fps.items():
        lines.append(f"* {n}: {len(pairs)}" + (": " + ", ".join(f"{q}→{r}" for q, r in pairs) if pairs else ""))
    return lines + [""]


def calibration(manifest: dict[str, Any], details: dict[str, list[dict[str, Any]]]) -> list[str]:
    """What a reported Similarity means: share of true pairs among the pairs reported at or above it."""
    gt = {q["id"]: {g["ref"] for g in q["gt"]} for q in manifest["queries"]}
    n_true = sum(len(v) for v in gt.values())
    pairs = [(float(m["similarity"]), m["ref"] in gt.get(qid, set())) for qid, ms in details.items() for m in ms]
    lines = ["| Similarity at least | pairs reported | of them true copies | share of all true pairs found |", "|---|---|---|---|"]
    for t in (0.5, 0.6, 0.7, 0.8, 0.9, 0.95):
        sel = [ok for s, ok in pairs if s >= t]
        lines.append(f"| {t:.2f} | {len(sel)} | {sum(sel)} ({(sum(sel) / len(sel) if sel else 1.0):.3f}) | "
                     f"{sum(sel) / max(1, n_true):.3f} |")
    sims = sorted(s for s, ok in pairs if ok)
    if sims:
        lines.append("")
        lines.append(f"True pairs' Similarity: min {sims[0]:.2f}, median {sims[len(sims) // 2]:.2f}, max {sims[-1]:.2f}; "
                     f"false pairs': {', '.join(f'{s:.2f}' for s, ok in sorted(pairs) if not ok) or 'none'}.")
    return lines


def _openvod_extra(manifest: dict[str, Any], run: dict[str, Any]) -> list[str]:
    fp = false_pairs(manifest, run["predictions"])
    failed = run.get("failed", {})
    lines = ["## openvod: false pairs, failed jobs, calibration", "",
             f"* false pairs (a library video reported for a query that copies nothing of it): {len(fp)}"
             + (": " + ", ".join(f"{q}→{r}" for q, r in fp) if fp else ""),
             f"* failed queries: {len(failed)}" + (": " + ", ".join(failed) if failed else ""),
             "* segment F1 of bare copies / of copies embedded in other footage: "
             + " / ".join(f"{v:.3f}" for v in by_embedding(manifest, run["predictions"]).values()), ""]
    if "details" in run:
        lines += ["Similarity calibration (pairs reported by openvod):", ""] + calibration(manifest, run["details"]) + [""]
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", type=Path)
    args = ap.parse_args(argv)
    manifest = json.loads((args.results / "data" / "manifest.json").read_text())
    runs: dict[str, dict[str, Any]] = {}
    for name in ("openvod", "signature", "vpdq", "vpdq-any"):
        f = args.results / f"{name}.json"
        if f.exists():
            runs[name] = json.loads(f.read_text())
    results: dict[str, dict[str, Any]] = {}
    if "openvod" in runs:
        results["openvod"] = score(manifest, runs["openvod"]["predictions"])
    if "signature" in runs:
        pairs = runs["signature"]["pairs_evaluated"]
        results[SIG] = score(manifest, runs["signature"]["predictions"], pairs)
        if "openvod" in runs:
            results[SIG_OV] = score(manifest, runs["openvod"]["predictions"], pairs)
    for name in ("vpdq", "vpdq-any"):
        if name in runs:
            results[name] = score(manifest, runs[name]["predictions"])
    lines = [f"# DNA benchmark: {len(manifest['library'])} library videos, {len(manifest['queries'])} queries "
             f"(seed {manifest['seed']})", ""]
    lines += side_by_side(manifest, runs, results)
    for metric, title in (("segment_f1", "Segment F1 (VCSL metric)"), ("segment_precision", "Segment precision"),
                          ("segment_recall", "Segment recall"), ("video_precision", "Video-level precision"),
                          ("video_recall", "Video-level recall")):
        lines += [f"## {title}", "", table(results, metric), ""]
    neg = {m: r.get("negative", {}).get("negative_queries_with_a_match") for m, r in results.items()}
    lines += ["## Negatives (queries with no copy) that got any match", "",
              "| method | negatives matched |", "|---|---|"] + [f"| {m} | {v} |" for m, v in neg.items()] + [""]
    if "openvod" in runs:
        lines += _openvod_extra(manifest, runs["openvod"])
    if "openvod" in results:
        ov = results["openvod"]
        classes = [c for c in ov if c not in ("overall", "negative")]
        checks = [f"overall segment F1 {ov['overall']['segment_f1']:.3f} >= {TARGET_OVERALL}: "
                  f"{'yes' if ov['overall']['segment_f1'] >= TARGET_OVERALL else 'NO'}"]
        weak = [c for c in classes if ov[c]["segment_f1"] < TARGET_CLASS]
        checks.append(f"every class >= {TARGET_CLASS}: {'yes' if not weak else 'NO: ' + ', '.join(weak)}")
        for base in (SIG, "vpdq", "vpdq-any"):
            if base in results:
                mine = results[SIG_OV] if base == SIG else ov
                worse = [c for c in classes if mine[c]["segment_f1"] <= results[base].get(c, {}).get("segment_f1", 0.0)]
                checks.append(f"better than {base} on every class: {'yes' if not worse else 'NO: ' + ', '.join(worse)}")
        checks.append(f"no match on negatives: {'yes' if not neg.get('openvod') else 'NO'}")
        lines += ["## Targets", ""] + [f"* {c}" for c in checks] + [""]
    text = "\n".join(lines)
    (args.results / "report.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
