"""Two openvod runs on one benchmark folder, side by side: per class, bare vs embedded, and every query
whose segment F1 changed (ground truth and both predictions), plus each run's false pairs.

    python -m bench.dna.compare <data> <before.json> <after.json> [--all] [--classes crop,short]

``--all`` lists every query (of ``--classes``), changed or not; with one run file it lists that run's
queries below F1 0.95 (what to look at first).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.dna.report import by_embedding, false_pairs
from bench.dna.score import score


def query_f1(q: dict[str, Any], predictions: dict[str, list[dict[str, Any]]]) -> float | None:
    """One query's segment F1 (None for a negative, which has no F1)."""
    c = score({"queries": [q]}, predictions).get(q["class"], {})
    return c.get("segment_f1")


def _boxes(items: list[dict[str, Any]]) -> str:
    return " ".join(f"{p['ref']} q{p['q'][0]:.1f}-{p['q'][1]:.1f} r{p['r'][0]:.1f}-{p['r'][1]:.1f}" for p in items) or "-"


def _f(x: float | None) -> str:
    return "  -  " if x is None else f"{x:.3f}"


def compare(manifest: dict[str, Any], runs: list[dict[str, Any]], classes: set[str] | None = None,
            show_all: bool = False) -> list[str]:
    preds = [r["predictions"] for r in runs]
    scores = [score(manifest, p) for p in preds]
    names = sorted({c for s in scores for c in s if c != "overall"}) + ["overall"]
    lines = ["| class | " + " | ".join(f"run {i + 1}" for i in range(len(runs))) + " |", "|---|" + "---|" * len(runs)]
    for c in names:
        if classes and c not in classes and c != "overall":
            continue
        key = "negative_queries_with_a_match" if c == "negative" else "segment_f1"
        lines.append(f"| {c} | " + " | ".join(str(s.get(c, {}).get(key, "-")) if c == "negative" else _f(s.get(c, {}).get(key))
                                                for s in scores) + " |")
    emb = [by_embedding(manifest, p) for p in preds]
    lines += ["", "bare / embedded: " + " vs ".join(f"{e.get('bare', 0):.3f} / {e.get('embedded', 0):.3f}" for e in emb)]
    for i, p in enumerate(preds):
        fp = false_pairs(manifest, p)
        failed = runs[i].get("failed", {})
        lines.append(f"run {i + 1}: {len(fp)} false pairs" + (" (" + ", ".join(f"{q}->{r}" for q, r in fp) + ")" if fp else "")
                     + (f"; {len(failed)} failed: " + ", ".join(failed) if failed else ""))
    lines.append("")
    for q in manifest["queries"]:
        if classes and q["class"] not in classes:
            continue
        f1s = [query_f1(q, p) for p in preds]
        wrong = [bool({x["ref"] for x in p.get(q["id"], [])} - {g["ref"] for g in q["gt"]}) for p in preds]
        if len(runs) > 1:
            changed = any(abs((a or 0) - (f1s[0] or 0)) > 1e-3 for a in f1s[1:]) or len(set(wrong)) > 1
        else:
            changed = (f1s[0] is not None and f1s[0] < 0.95) or wrong[0]
        if not (changed or show_all):
            continue
        lines.append(f"{q['id']:24s} " + " ".join(_f(x) for x in f1s) + f"   truth: {_boxes(q['gt'])}")
        for i, p in enumerate(preds):
            lines.append(f"    run {i + 1}: {_boxes(p.get(q['id'], []))}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path)
    ap.add_argument("runs", type=Path, nargs="+")
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--classes", default="")
    args = ap.parse_args(argv)
    manifest = json.loads((args.data / "manifest.json").read_text())
    runs = [json.loads(p.read_text()) for p in args.runs]
    print("\n".join(compare(manifest, runs, set(filter(None, args.classes.split(","))) or None, args.all)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
