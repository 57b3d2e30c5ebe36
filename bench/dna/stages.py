"""Where each missed copy is lost: never verified, dropped by the rival rule, or dropped by the template rule.

    python -m bench.dna.stages <data> <run.json> [--below 0.7] [--queries q_pip_1,Q014]

For every query whose segment F1 in ``run.json`` is below ``--below`` (or the named ones), the query is
searched again with the default settings and each true source is reported at the first stage that lost it:

* ``not verified``: no candidate, or verification (``search.verify``) found no segment with it;
* ``rivals``: verified, then dropped by ``rivals.closest_sources`` (another pair matches the stretch as
  closely, or the library holds a look-alike of the source's moments); the other pairs are listed;
* ``templates``: dropped by ``templates.distinctive`` (its moments recur in another library video);
* ``kept``: reported (then the F1 is lost on the segment bounds, not on the source).

Works on ``bench/dna`` folders and on the blind suites' (``bench/dna_xval``, ``bench/dna_blind2``), whose
manifests share the fields used here. The stages are read by wrapping the two rule functions ``search.search``
calls; nothing else of the search changes. Fingerprints come from (and go to) ``run_openvod``'s cache,
``<data>/fp-cache``, so a folder already run is not decoded again.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.dna.compare import query_f1
from bench.dna.run_openvod import load_fp
from openvod.analyzers.dna import search as S
from openvod.analyzers.dna.index import CodeIndex
from openvod.config import DNASettings
from openvod.engine.analyzer_options import fingerprint_options, match_params


def _segments(m: Any) -> str:
    return " ".join(f"q{s.q0:.1f}-{s.q1:.1f} r{s.r0:.1f}-{s.r1:.1f} @{s.similarity:.2f} x{s.speed:.2f}" for s in m.segments)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("run", type=Path)
    ap.add_argument("--below", type=float, default=0.7)
    ap.add_argument("--queries", default="")
    args = ap.parse_args()
    man = json.loads((args.data / "manifest.json").read_text())
    predictions = json.loads(args.run.read_text())["predictions"]
    settings = DNASettings()
    opts, params = fingerprint_options(settings), match_params(settings)
    cache = args.data / "fp-cache"
    library = {i: (item["id"], load_fp(args.data / item["file"], cache, opts)[0]) for i, item in enumerate(man["library"])}
    index = CodeIndex(flat_limit=settings.index_flat_limit, nprobe=settings.index_nprobe)
    for i, (_, fp) in library.items():
        index.add(i, fp.codes)
    name = {i: key for i, (key, _) in library.items()}

    stage: dict[str, dict[str, Any]] = {}
    rivals, templates = S.closest_sources, S.distinctive

    def closest_sources(found: dict[int, Any], *a: Any, **k: Any) -> dict[int, Any]:
        stage["verified"] = {name[v]: m for v, m in found.items()}
        out = rivals(found, *a, **k)
        stage["rivals"] = {name[v]: m for v, m in out.items()}
        return out

    def distinctive(found: dict[int, Any], *a: Any, **k: Any) -> list[Any]:
        out = templates(found, *a, **k)
        stage["templates"] = {str(m.key): m for m in out}
        return out

    S.closest_sources, S.distinctive = closest_sources, distinctive  # type: ignore[assignment]
    wanted = {q for q in args.queries.split(",") if q}
    for q in man["queries"]:
        f1 = query_f1(q, predictions)
        if (wanted and q["id"] not in wanted) or (not wanted and (f1 is None or f1 >= args.below)):
            continue
        stage.clear()
        S.search(load_fp(args.data / q["file"], cache, opts)[0], index, lambda v: library.get(v), params)
        lost = []
        for ref in sorted({g["ref"] for g in q["gt"]}):
            verified = stage.get("verified", {})
            if ref not in verified:
                lost.append(f"{ref}: not verified")
            elif ref not in stage.get("rivals", {}):
                others = ", ".join(f"{k} {m.similarity:.3f}" for k, m in verified.items() if k != ref)
                lost.append(f"{ref}: rivals [{_segments(verified[ref])}] others: {others}")
            elif ref not in stage.get("templates", {}):
                lost.append(f"{ref}: templates [{_segments(verified[ref])}]")
            else:
                lost.append(f"{ref}: kept [{_segments(stage['templates'][ref])}]")
        print(f"{q['id']:24s} {q['class']:16s} F1={f1 if f1 is not None else float('nan'):.2f}  " + "; ".join(lost), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
