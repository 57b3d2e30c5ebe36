"""Per-class tables, false pairs, failures and transform keys from run.py's output.

    PYTHONPATH=src:. python bench/dna_xval/report.py DATA/manifest.json DATA/openvod.json

Two scorings of the shared bumper (L08 and L09 open and close with the same 3 s animated bumper):
* strict: every copy of a bumper second is ground truth against BOTH bumpers of BOTH videos (identical pixels);
  missing them costs recall.
* lenient (primary): those sibling-bumper boxes are optional: not required for recall, and a predicted
  segment lying >= 80 % inside one of them is dropped before scoring (neither reward nor penalty).
"""

from __future__ import annotations

import copy
import json
import sys

from bench.dna.score import score


def lenient(man: dict, preds: dict) -> tuple[dict, dict]:
    man = copy.deepcopy(man)
    preds = copy.deepcopy(preds)
    for q in man["queries"]:
        opt = [g for g in q["gt"] if g.get("shared_bumper")]
        q["gt"] = [g for g in q["gt"] if not g.get("shared_bumper")]
        keep = []
        for p in preds.get(q["id"], []):
            drop = False
            for g in opt:
                if g["ref"] != p["ref"]:
                    continue
                iq = max(0.0, min(p["q"][1], g["q"][1]) - max(p["q"][0], g["q"][0]))
                ir = max(0.0, min(p["r"][1], g["r"][1]) - max(p["r"][0], g["r"][0]))
                if iq >= 0.8 * (p["q"][1] - p["q"][0]) and ir >= 0.8 * (p["r"][1] - p["r"][0]):
                    drop = True
            if not drop:
                keep.append(p)
        preds[q["id"]] = keep
    return man, preds


def main() -> int:
    man = json.load(open(sys.argv[1]))
    run = json.load(open(sys.argv[2]))
    preds = run["predictions"]
    strict = score(man, preds)
    lm, lp = lenient(man, preds)
    len_ = score(lm, lp)
    classes = []
    for q in man["queries"]:
        if q["class"] not in classes:
            classes.append(q["class"])
    print("| class | n | seg P | seg R | seg F1 | vid P | vid R | strict seg F1 |")
    print("|---|---|---|---|---|---|---|---|")
    for c in classes + ["overall"]:
        n = sum(1 for q in man["queries"] if c in (q["class"], "overall"))
        a, b = len_.get(c, {}), strict.get(c, {})
        extra = ""
        if c == "negative":
            extra = f" ({a.get('negative_queries_with_a_match')}/{a.get('negative_queries')} negatives matched)"
        print(f"| {c}{extra} | {n} | {a['segment_precision']:.3f} | {a['segment_recall']:.3f} | {a['segment_f1']:.3f} "
              f"| {a['video_precision']:.3f} | {a['video_recall']:.3f} | {b['segment_f1']:.3f} |")
    print("\nfailed jobs:", len(run["failed"]))
    for k, v in run["failed"].items():
        print(" ", k, v.strip().splitlines()[-1])
    print("\nfalse pairs (a predicted library video with no ground truth, strict GT incl. sibling bumpers):")
    for q in man["queries"]:
        gt_refs = {g["ref"] for g in q["gt"]}
        for e in run["wire"].get(q["id"], {}).get("VideoDNA", []):
            if e["PrimaryKey"] not in gt_refs:
                det = [(x["Input"]["Start"], x["Input"]["Duration"], x["Duplication"]["Start"], x["Duplication"]["Duration"])
                       for x in e["Detail"]]
                print(f"  {q['id']} -> {e['PrimaryKey']} sim {e['Similarity']} details {det}")
    print("\nper query: truth vs reported (ref, Similarity, Speed, Transform)")
    for q in man["queries"]:
        w = run["wire"].get(q["id"], {}).get("VideoDNA", [])
        main_gt = [g for g in q["gt"] if not g.get("shared_bumper")]
        rep = [(e["PrimaryKey"], e["Similarity"], {k: v for k, v in e.get("Transform", {}).items()
                                                   if k in ("Flip", "VFlip", "Rotation", "Speed", "Reversed", "Padding", "PiPBox", "CropBox")},
                [(x["Input"]["Start"], x["Input"]["Duration"], x["Duplication"]["Start"], x["Duplication"]["Duration"]) for x in e["Detail"]])
               for e in w]
        print(f"  {q['id']} truth={[(g['ref'], g['q'], g['r']) for g in main_gt]} speed={q.get('speed')}\n      got={rep}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
