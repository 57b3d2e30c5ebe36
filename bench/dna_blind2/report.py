"""Per-class VCSL segment scores, bare vs embedded, false pairs, failed jobs (full tracebacks) and per-query misses.

    PYTHONPATH=src:. python bench/dna_blind2/report.py DATA/manifest.json DATA/openvod.json"""

from __future__ import annotations

import json
import sys

from bench.dna.score import pair_precision_recall, score


def boxes(items: list[dict], ref: str) -> list[tuple[float, float, float, float]]:
    return [(float(x["q"][0]), float(x["r"][0]), float(x["q"][1]), float(x["r"][1])) for x in items if x["ref"] == ref]


def main() -> int:
    man = json.load(open(sys.argv[1]))
    run = json.load(open(sys.argv[2]))
    preds = run["predictions"]
    res = score(man, preds)
    classes = list(dict.fromkeys(q["class"] for q in man["queries"]))
    sub = {"bare": {**man, "queries": [q for q in man["queries"] if not q.get("edits", {}).get("embedded")]},
           "embedded": {**man, "queries": [q for q in man["queries"] if q.get("edits", {}).get("embedded")]}}
    sres = {k: score(m, preds) for k, m in sub.items()}
    print("| class | n | seg P | seg R | seg F1 | vid P | vid R | F1 bare | F1 embedded |")
    print("|---|---|---|---|---|---|---|---|---|")
    for c in classes + ["overall"]:
        n = sum(1 for q in man["queries"] if c in (q["class"], "overall"))
        a = res[c]
        extra = f" ({a.get('negative_queries_with_a_match')}/{a.get('negative_queries')} matched)" if c == "negative" else ""
        fb = sres["bare"].get(c, {}).get("segment_f1")
        fe = sres["embedded"].get(c, {}).get("segment_f1")
        print(f"| {c}{extra} | {n} | {a['segment_precision']:.3f} | {a['segment_recall']:.3f} | {a['segment_f1']:.3f} "
              f"| {a['video_precision']:.3f} | {a['video_recall']:.3f} | {'-' if fb is None else f'{fb:.3f}'} "
              f"| {'-' if fe is None or c == 'negative' else f'{fe:.3f}'} |")
    credit_libs = {x["id"] for x in man["library"] if "credits" in x["shots"]}
    lp = {q["id"]: [p for p in preds.get(q["id"], []) if p["ref"] in {g["ref"] for g in q["gt"]} or p["ref"] not in credit_libs]
          for q in man["queries"]}
    lr = score(man, lp)["overall"]
    print(f"\noverall without false pairs onto library videos that hold a scrolling-credits shot (credits look-alikes): "
          f"seg P {lr['segment_precision']:.3f} R {lr['segment_recall']:.3f} F1 {lr['segment_f1']:.3f}")
    print(f"\nfailed jobs: {len(run['failed'])}")
    for k, v in run["failed"].items():
        print(f"--- {k}\n{v}")
    print("\nfalse pairs (predicted library video without ground truth):")
    for q in man["queries"]:
        gt_refs = {g["ref"] for g in q["gt"]}
        for e in run["wire"].get(q["id"], {}).get("VideoDNA", []):
            if e["PrimaryKey"] not in gt_refs:
                det = [(x["Input"]["Start"], x["Input"]["Duration"], x["Duplication"]["Start"], x["Duplication"]["Duration"]) for x in e["Detail"]]
                lib = next(x for x in man["library"] if x["id"] == e["PrimaryKey"])
                print(f"  {q['id']} [{q['class']} {q.get('kind', '')}] -> {e['PrimaryKey']} {lib['shots']} sim {e['Similarity']} details {det}")
    print("\nqueries with a ground-truth pair below segment F1 0.7 (truth vs reported):")
    for q in man["queries"]:
        for g in q["gt"]:
            ref = g["ref"]
            p, r = pair_precision_recall(boxes(preds.get(q["id"], []), ref), boxes(q["gt"], ref))
            p = p or 0.0
            f = 2 * p * r / (p + r) if p + r else 0.0
            if f < 0.7:
                got = [(round(x["q"][0], 2), round(x["q"][1], 2), round(x["r"][0], 2), round(x["r"][1], 2)) for x in preds.get(q["id"], []) if x["ref"] == ref]
                lib = next(x for x in man["library"] if x["id"] == ref)
                print(f"  {q['id']} {q['class']} F1={f:.2f} P={p:.2f} R={r:.2f} truth q={g['q']} r={g['r']} ref={ref} {lib['shots']}\n"
                      f"      edits={q.get('edits')}\n      got={got}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
