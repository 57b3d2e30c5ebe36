"""Pool several (data dir, run json name) splits into one manifest + run file (ids prefixed by split), for report.py.

    python pool.py OUTPREFIX RUNNAME DATA1 DATA2 ...   -> OUTPREFIX-manifest.json, OUTPREFIX-run.json"""
import json
import sys
from pathlib import Path

outp, runname, dirs = sys.argv[1], sys.argv[2], sys.argv[3:]
man = {"library": [], "queries": []}
run = {"predictions": {}, "wire": {}, "failed": {}}
for k, d in enumerate(dirs):
    p = f"s{k + 1}:"
    m = json.loads((Path(d) / "manifest.json").read_text())
    r = json.loads((Path(d) / runname).read_text())
    man["library"] += [{**x, "id": p + x["id"]} for x in m["library"]]
    for q in m["queries"]:
        man["queries"].append({**q, "id": p + q["id"], "gt": [{**g, "ref": p + g["ref"]} for g in q["gt"]]})
    for qid, pr in r["predictions"].items():
        run["predictions"][p + qid] = [{**x, "ref": p + x["ref"]} for x in pr]
    for qid, w in r["wire"].items():
        run["wire"][p + qid] = {"VideoDNA": [{**e, "PrimaryKey": p + e["PrimaryKey"]} for e in w["VideoDNA"]]}
    run["failed"].update({p + a: b for a, b in r["failed"].items()})
Path(outp + "-manifest.json").write_text(json.dumps(man))
Path(outp + "-run.json").write_text(json.dumps(run))
