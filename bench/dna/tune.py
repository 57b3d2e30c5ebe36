"""Choose the evidence thresholds on the TUNING split (never on the held-out one).

    python -m bench.dna.run_openvod <tuning data> --out raw.json \
        --set min_motion=0 --set min_correlation=-1 --set min_pair_correlation=-1 --set min_similarity=0 \
        --set min_symmetry=0
    python -m bench.dna.tune <tuning data>/manifest.json raw.json

The run with every threshold off reports every segment with its evidence (similarity, motion,
correlation, symmetry); the thresholds only remove segments or pairs, so their effect is simulated here on
that one run. Among the grid points with the fewest false pairs (zero, hopefully), the strictest
one within ``--slack`` of the best overall segment F1 is chosen (a margin for look-alikes the split
lacks). Prints the best points and the choice; put it in ``DNASettings``.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path
from typing import Any

from bench.dna.report import false_pairs
from bench.dna.score import score


def apply(details: dict[str, list[dict[str, Any]]], motion: float, corr: float, pair_corr: float,
          min_sim: float, short_s: float = 0.0, short_corr: float = 0.0, sym: float = 0.0) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for qid, matches in details.items():
        preds = []
        for m in matches:
            # short on either timeline (as segments.evidence_span)
            segs = [s for s in m["segments"]
                    if min(s["q"][1] - s["q"][0], abs(s["r"][1] - s["r"][0])) >= short_s or s["correlation"] >= short_corr]
            if not segs:
                continue
            dur = sum(s["q"][1] - s["q"][0] for s in segs)
            if dur <= 0 or sum(s["correlation"] * (s["q"][1] - s["q"][0]) for s in segs) / dur < pair_corr:
                continue
            kept = [s for s in segs if s["motion"] >= motion and s["correlation"] >= corr and s.get("symmetry", 1.0) >= sym]
            kd = sum(s["q"][1] - s["q"][0] for s in kept)
            if not kept or sum(s["sim"] * (s["q"][1] - s["q"][0]) for s in kept) / kd < min_sim:
                continue
            preds += [{"ref": m["ref"], "q": s["q"], "r": s["r"]} for s in kept]
        out[qid] = preds
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("manifest", type=Path)
    ap.add_argument("run", type=Path)
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--slack", type=float, default=0.005)
    ap.add_argument("--short-s", type=float, default=0.0, help="short_segment_s (0: off)")
    ap.add_argument("--short-corr", type=float, default=0.85, help="min_short_correlation")
    args = ap.parse_args(argv)
    manifest = json.loads(args.manifest.read_text())
    if manifest.get("split") == "heldout":
        raise SystemExit("refusing to tune on the held-out split")
    details = json.loads(args.run.read_text())["details"]
    rows = []
    grid = itertools.product([0.0, 0.01, 0.02, 0.04], [-1.0, 0.2, 0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7],
                             [-1.0, 0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7], [0.0, 0.6, 0.7, 0.75, 0.8],
                             [0.0, 0.6, 0.7, 0.8, 0.85, 0.9])
    for mo, co, pc, ms, sy in grid:
        preds = apply(details, mo, co, pc, ms, args.short_s, args.short_corr, sy)
        res = score(manifest, preds)
        fp = len(false_pairs(manifest, preds))
        worst = min(v["segment_f1"] for k, v in res.items() if k not in ("overall", "negative"))
        strict = mo + max(co, 0) + max(pc, 0) + ms + sy
        rows.append((fp, -res["overall"]["segment_f1"], strict, mo, co, pc, ms, res["overall"]["segment_f1"], worst, sy))
    rows.sort()
    print("false_pairs  seg_F1  worst_class  min_motion  min_correlation  min_pair_correlation  min_similarity  min_symmetry")
    for fp, _, _, mo, co, pc, ms, f1, worst, sy in rows[: args.top]:
        print(f"{fp:>11}  {f1:.3f}  {worst:.3f}        {mo:<10}  {co:<15}  {pc:<20}  {ms:<14}  {sy}")
    # Footage never seen may hold look-alikes this split lacks: among the points with no false pair
    # within --slack of the best F1, the strictest one keeps the largest margin.
    best = rows[0]
    ok = [r for r in rows if r[0] == best[0] and r[7] >= best[7] - args.slack]
    pick = max(ok, key=lambda r: (r[2], r[7]))
    print(f"\nchosen (strictest within {args.slack} of the best F1): min_motion={pick[3]} min_correlation={pick[4]} "
          f"min_pair_correlation={pick[5]} min_similarity={pick[6]} min_symmetry={pick[9]}: false pairs {pick[0]}, seg F1 {pick[7]:.3f}, "
          f"worst class {pick[8]:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
