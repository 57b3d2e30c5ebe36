"""Generation-3 breakdown: segment F1 of targeted copies (a copy centred on a fast / screen / title /
plasma shot) against the class's other queries, per-query misses and false pairs.

    python -m bench.dna.targets bench/dna/results/tuning3 [--method openvod]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.dna.score import _boxes, f1, pair_precision_recall, score


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("split", type=Path)
    ap.add_argument("--method", default="openvod")
    args = ap.parse_args(argv)
    manifest = json.loads((args.split / "data" / "manifest.json").read_text())
    pred = json.loads((args.split / f"{args.method}.json").read_text())["predictions"]
    relabelled: dict[str, Any] = {**manifest, "queries": []}
    for q in manifest["queries"]:
        tgt = q["transform"].get("target")
        relabelled["queries"].append({**q, "class": f"{q['class']}@{tgt}" if tgt else f"{q['class']}@other"})
    res = score(relabelled, pred)
    print("| class @ copied shot | queries | seg P / R / F1 |\n|---|---|---|")
    counts: dict[str, int] = {}
    for q in relabelled["queries"]:
        counts[q["class"]] = counts.get(q["class"], 0) + 1
    for k in sorted(res):
        if "@" in k and not k.startswith("negative"):
            r = res[k]
            print(f"| {k} | {counts[k]} | {r['segment_precision']:.3f} / {r['segment_recall']:.3f} / {r['segment_f1']:.3f} |")
    print("\nqueries with a pair F1 < 0.5, and false pairs:")
    for q in manifest["queries"]:
        gt, pr = _boxes(q["gt"]), _boxes(pred.get(q["id"], []))
        for ref in sorted(set(gt) | set(pr)):
            p, r = pair_precision_recall(pr.get(ref, []), gt.get(ref, []))
            if ref not in gt:
                items = [x for x in pred[q["id"]] if x["ref"] == ref]
                print(f"  FALSE {q['id']} ({q['transform'].get('negative', '')}) -> {ref}: "
                      + ", ".join(f"q {x['q'][0]:.1f}-{x['q'][1]:.1f} r {x['r'][0]:.1f}-{x['r'][1]:.1f} sim {x.get('similarity', '?')}" for x in items))
            elif f1(p or 0.0, r or 0.0) < 0.5:
                print(f"  miss  {q['id']} -> {ref} (target {q['transform'].get('target')}): P {p} R {r:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
