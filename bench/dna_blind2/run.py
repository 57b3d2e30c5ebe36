"""Run openvod DNA (the worker's path: fingerprint -> CodeIndex -> search -> video_dna wire shape) over the
xval suite and score it with bench/dna/score.py (VCSL segment metric).

    PYTHONPATH=src:. python bench/dna_blind2/run.py DATA [--out DATA/openvod.json]

Predictions are read back from the wire Data (Detail Input/Duplication Start+Duration), i.e. what a client
sees. Every exception is recorded with its traceback."""

from __future__ import annotations

import json
import resource
import sys
import time
import traceback
from pathlib import Path

from openvod.analyzers.dna.fingerprint import fingerprint_file
from openvod.analyzers.dna.index import CodeIndex
from openvod.analyzers.dna.results import video_dna
from openvod.analyzers.dna.search import search, single_threaded_blas
from openvod.config import DNASettings
from openvod.engine.analyzer_options import fingerprint_options, match_params

from bench.dna.score import score, table


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> int:
    data = Path(sys.argv[1])
    out_path = Path(sys.argv[sys.argv.index("--out") + 1]) if "--out" in sys.argv else data / "openvod.json"
    man = json.loads((data / "manifest.json").read_text())
    sets = [sys.argv[i + 1] for i, a in enumerate(sys.argv) if a == "--set"]
    s = DNASettings(**{k: json.loads(v) for k, v in (x.split("=", 1) for x in sets)})
    opts, params = fingerprint_options(s), match_params(s)
    index = CodeIndex(flat_limit=s.index_flat_limit, nprobe=s.index_nprobe)
    lib = {}
    failed: dict[str, str] = {}
    c0 = cpu()
    for i, item in enumerate(man["library"]):
        try:
            fp = fingerprint_file(data / item["file"], opts)
        except Exception:
            failed["lib:" + item["id"]] = traceback.format_exc()
            print("LIB FAILED", item["id"], failed["lib:" + item["id"]], flush=True)
            continue
        lib[i] = (item["id"], fp)
        index.add(i, fp.codes)
    lib_cpu = cpu() - c0
    print(f"library: {len(lib)} videos, {index.ntotal} codes, cpu {lib_cpu:.1f}s", flush=True)
    preds, wire, qcpu, fcpu = {}, {}, {}, {}
    for qq in man["queries"]:
        c1 = cpu()
        try:
            fp = fingerprint_file(data / qq["file"], opts)
            fcpu[qq["id"]] = round(cpu() - c1, 2)
            with single_threaded_blas():
                matches = search(fp, index, lambda v: lib.get(v), params)
            d = video_dna(matches, fp, evidence=s.evidence_frames)
        except Exception:
            failed[qq["id"]] = traceback.format_exc()
            print("FAILED", qq["id"], failed[qq["id"]], flush=True)
            continue
        qcpu[qq["id"]] = round(cpu() - c1, 2)
        wire[qq["id"]] = d
        preds[qq["id"]] = [
            {"ref": e["PrimaryKey"], "q": [float(x["Input"]["Start"]), float(x["Input"]["Start"]) + float(x["Input"]["Duration"])],
             "r": [float(x["Duplication"]["Start"]), float(x["Duplication"]["Start"]) + float(x["Duplication"]["Duration"])]}
            for e in d["VideoDNA"] for x in e["Detail"]]
        print(qq["id"], [(e["PrimaryKey"], e["Similarity"], len(e["Detail"])) for e in d["VideoDNA"]], flush=True)
    res = score(man, preds)
    out = {"predictions": preds, "wire": wire, "failed": failed, "query_cpu_s": qcpu, "query_fingerprint_cpu_s": fcpu,
           "query_fingerprint_cpu_total_s": round(sum(fcpu.values()), 1), "query_total_cpu_s": round(sum(qcpu.values()), 1),
           "settings": s.model_dump(), "library_cpu_s": round(lib_cpu, 1),
           "scores": res}
    out_path.write_text(json.dumps(out, indent=1))
    print(table({"openvod": res}, "segment_f1"))
    print(f"cpu: library fingerprint {lib_cpu:.1f}s, query fingerprint {sum(fcpu.values()):.1f}s, query total {sum(qcpu.values()):.1f}s")
    return 0


if __name__ == "__main__":
    with single_threaded_blas():
        raise SystemExit(main())
