"""Score copy-detection predictions against the benchmark's ground truth.

Segment level (the VCSL protocol, He et al., CVPR 2022): a copied segment is a box
``[q0, q1] x [r0, r1]`` in the (query time, reference time) plane. For one (query, reference) pair,

* precision = (covered query length / predicted query length) x (covered reference length /
  predicted reference length), where "covered" is the union, per predicted box, of its
  intersections with ground-truth boxes, projected on each axis;
* recall = the same with the roles of prediction and ground truth swapped.

Precision is averaged over the pairs that have a prediction (a prediction on a pair without ground
truth scores 0), recall over the pairs that have ground truth (a missed pair scores 0); F1 is their
harmonic mean. Video level: a (query, reference) pair is a true positive when it is predicted and
has ground truth.

Predictions file: ``{"<query id>": [{"ref": "<library id>", "q": [s, e], "r": [s, e]}, ...]}``.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

Box = tuple[float, float, float, float]  # q0, r0, q1, r1


def union_length(intervals: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for a, b in sorted(intervals):
        if b <= end:
            continue
        total += b - max(a, end)
        end = b
    return total


def _covered(boxes: list[Box], others: list[Box]) -> tuple[float, float, float, float]:
    """Covered and total lengths on both axes of ``boxes`` by ``others``."""
    cov_q = cov_r = tot_q = tot_r = 0.0
    for b in boxes:
        tot_q += b[2] - b[0]
        tot_r += b[3] - b[1]
        iq, ir = [], []
        for o in others:
            q0, r0 = max(b[0], o[0]), max(b[1], o[1])
            q1, r1 = min(b[2], o[2]), min(b[3], o[3])
            if q1 > q0 and r1 > r0:
                iq.append((q0, q1))
                ir.append((r0, r1))
        cov_q += union_length(iq)
        cov_r += union_length(ir)
    return cov_q, tot_q, cov_r, tot_r


def pair_precision_recall(pred: list[Box], gt: list[Box]) -> tuple[float | None, float | None]:
    """(precision or None without predictions, recall or None without ground truth)."""
    p = r = None
    if pred:
        cq, tq, cr, tr = _covered(pred, gt)
        p = (cq / max(tq, 1e-9)) * (cr / max(tr, 1e-9)) if gt else 0.0
    if gt:
        cq, tq, cr, tr = _covered(gt, pred)
        r = (cq / max(tq, 1e-9)) * (cr / max(tr, 1e-9)) if pred else 0.0
    return p, r


def _boxes(items: list[dict[str, Any]]) -> dict[str, list[Box]]:
    out: dict[str, list[Box]] = defaultdict(list)
    for it in items:
        out[it["ref"]].append((float(it["q"][0]), float(it["r"][0]), float(it["q"][1]), float(it["r"][1])))
    return out


def f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def score(manifest: dict[str, Any], predictions: dict[str, list[dict[str, Any]]],
          pairs_evaluated: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """Overall and per-class metrics.

    ``pairs_evaluated`` (query -> references) restricts scoring to the pairs a method was run on
    (the ffmpeg signature baseline compares chosen pairs, not a whole library).
    """
    per_class: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for q in manifest["queries"]:
        cls = q["class"]
        gt = _boxes(q["gt"])
        pred = _boxes(predictions.get(q["id"], []))
        refs = set(gt) | set(pred)
        if pairs_evaluated is not None:
            if q["id"] not in pairs_evaluated:
                continue  # a query the method was not run on (sampled) counts nowhere, negatives included
            refs &= set(pairs_evaluated[q["id"]])
        for ref in sorted(refs):
            p, r = pair_precision_recall(pred.get(ref, []), gt.get(ref, []))
            for key in (cls, "overall"):
                if p is not None:
                    per_class[key]["seg_p"].append(p)
                if r is not None:
                    per_class[key]["seg_r"].append(r)
                if ref in pred:
                    per_class[key]["vid_pred"].append(1.0 if ref in gt else 0.0)
                if ref in gt:
                    per_class[key]["vid_gt"].append(1.0 if ref in pred else 0.0)
        if cls == "negative":
            for key in (cls, "overall"):
                per_class[key]["neg_queries"].append(1.0)
                per_class[key]["neg_false"].append(1.0 if refs else 0.0)
    out: dict[str, Any] = {}
    for key, m in per_class.items():
        sp = sum(m["seg_p"]) / len(m["seg_p"]) if m["seg_p"] else (1.0 if not m["seg_r"] else 0.0)
        sr = sum(m["seg_r"]) / len(m["seg_r"]) if m["seg_r"] else 1.0
        vp = sum(m["vid_pred"]) / len(m["vid_pred"]) if m["vid_pred"] else 1.0
        vr = sum(m["vid_gt"]) / len(m["vid_gt"]) if m["vid_gt"] else 1.0
        out[key] = {
            "segment_precision": round(sp, 4), "segment_recall": round(sr, 4), "segment_f1": round(f1(sp, sr), 4),
            "video_precision": round(vp, 4), "video_recall": round(vr, 4), "video_f1": round(f1(vp, vr), 4),
            "pairs_with_gt": len(m["seg_r"]), "pairs_predicted": len(m["seg_p"]),
        }
        if m["neg_queries"]:
            out[key]["negative_queries"] = len(m["neg_queries"])
            out[key]["negative_queries_with_a_match"] = int(sum(m["neg_false"]))
    return out


def table(results: dict[str, dict[str, Any]], metric: str = "segment_f1") -> str:
    """A per-class table of one metric for several methods."""
    methods = list(results)
    classes = sorted({c for r in results.values() for c in r if c != "overall"}) + ["overall"]
    lines = ["| class | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
    for c in classes:
        cells = []
        for mth in methods:
            v = results[mth].get(c, {}).get(metric)
            cells.append("-" if v is None else f"{v:.3f}")
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("manifest", type=Path)
    ap.add_argument("predictions", type=Path, nargs="+")
    args = ap.parse_args(argv)
    manifest = json.loads(args.manifest.read_text())
    results = {}
    for p in args.predictions:
        data = json.loads(p.read_text())
        results[p.stem] = score(manifest, data["predictions"], data.get("pairs_evaluated"))
    for metric in ("segment_f1", "video_f1"):
        print(f"\n{metric}\n" + table(results, metric))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
