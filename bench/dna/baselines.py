"""Baselines on the same benchmark: FFmpeg's MPEG-7 ``signature`` filter and Meta's vPDQ.

    python -m bench.dna.baselines signature bench/dna/results/data --out bench/dna/results/signature.json
    <vpdq venv>/bin/python -m bench.dna.baselines vpdq bench/dna/results/data --out bench/dna/results/vpdq.json

signature: ffmpeg compares two inputs per run (it cannot search stored signatures), so it is run
on each query's ground-truth references plus ``--distractors`` library videos drawn at random
(fixed seed), and scored on exactly those pairs (``pairs_evaluated``). Its report gives one
matching run per pair: ``matching of video 0 at X and 1 at Y, N frames matching``.

vpdq: four hashes per second per video (``vpdq.computeHash``; one per second misses moving
content between its sampling instants), brute-force matching of every query
against every library video with the vPDQ defaults (Hamming <= 31, quality >= 50). A pair matches
when both match percentages reach ``--percent`` (vPDQ's rule; 80 by default). vPDQ has no
segments: the predicted segment spans the matched frames' times on each side (its most generous
reading). ``vpdq-any`` accepts a pair with at least four matched query hashes (one second) instead.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np

SECONDS_PER_HASH = 0.25  # 4 hashes a second, the sampling rate openvod uses (vPDQ at 1/s misses moving content)
SIG_RE = re.compile(r"matching of video 0 at ([0-9.]+) and 1 at ([0-9.]+), (\d+) frames matching")


# ----------------------------------------------------------------------------- signature
def signature_pair(ffmpeg: str, q: Path, r: Path, q_fps: float, r_fps: float) -> list[dict[str, Any]]:
    cmd = [ffmpeg, "-nostdin", "-hide_banner", "-i", str(q), "-i", str(r), "-filter_complex",
           "[0:v][1:v]signature=nb_inputs=2:detectmode=full", "-map", "0:v", "-f", "null", "-"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    out = []
    for m in SIG_RE.finditer(p.stderr):
        x, y, n = float(m.group(1)), float(m.group(2)), int(m.group(3))
        out.append({"q": [x, x + n / q_fps], "r": [y, y + n / r_fps]})
    return out


def run_signature(data: Path, manifest: dict[str, Any], distractors: int, ffmpeg: str, per_class: int = 0,
                  out: Path | None = None) -> dict[str, Any]:
    """``per_class`` > 0: only the first that many queries of each class (a cheaper, smaller sample;
    the report scores openvod on exactly the same pairs). ``out``: rewritten after every query, so an
    interrupted run keeps the pairs it finished."""
    rng = np.random.default_rng(1)
    seen: dict[str, int] = {}
    lib = {x["id"]: x for x in manifest["library"]}
    preds: dict[str, list[dict[str, Any]]] = {}
    pairs: dict[str, list[str]] = {}
    t0 = time.time()
    for k, q in enumerate(manifest["queries"]):
        seen[q["class"]] = seen.get(q["class"], 0) + 1
        if per_class and seen[q["class"]] > per_class:
            continue
        refs = sorted({g["ref"] for g in q["gt"]})
        others = [x for x in sorted(lib) if x not in refs]
        refs += [others[int(i)] for i in rng.choice(len(others), size=min(distractors, len(others)), replace=False)]
        pairs[q["id"]] = refs
        preds[q["id"]] = []
        for ref in refs:
            for seg in signature_pair(ffmpeg, data / q["file"], data / lib[ref]["file"], q["fps"], lib[ref]["fps"]):
                preds[q["id"]].append({"ref": ref, **seg})
        print(f"  signature {k + 1}/{len(manifest['queries'])} ({time.time() - t0:.0f}s)", flush=True)
        if out is not None:
            out.write_text(json.dumps({"method": "ffmpeg-signature", "predictions": preds, "pairs_evaluated": pairs}, indent=1))
    return {"method": "ffmpeg-signature", "predictions": preds, "pairs_evaluated": pairs}


# ----------------------------------------------------------------------------- vpdq
def vpdq_hashes(path: Path) -> list[tuple[np.ndarray, int, float]]:
    import vpdq  # type: ignore[import-not-found]

    feats = vpdq.computeHash(str(path), seconds_per_hash=SECONDS_PER_HASH)
    out = []
    for f in feats:
        bits = np.unpackbits(np.frombuffer(bytes.fromhex(f.hex), np.uint8))
        out.append((bits, int(f.quality), float(f.timestamp)))
    return out


def _match(qh: list[tuple[np.ndarray, int, float]], rh: list[tuple[np.ndarray, int, float]],
           dist: int = 31, quality: int = 50) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    qv = [h for h in qh if h[1] >= quality]
    rv = [h for h in rh if h[1] >= quality]
    if not qv or not rv:
        return np.zeros((0, 0), bool), np.zeros(0), np.zeros(0)
    qa = np.stack([h[0] for h in qv]).astype(np.int16)
    ra = np.stack([h[0] for h in rv]).astype(np.int16)
    d = (qa[:, None, :] != ra[None, :, :]).sum(axis=2)
    return d <= dist, np.array([h[2] for h in qv]), np.array([h[2] for h in rv])


def run_vpdq(data: Path, manifest: dict[str, Any], percent: float) -> dict[str, dict[str, Any]]:
    t0 = time.time()
    lib = {x["id"]: vpdq_hashes(data / x["file"]) for x in manifest["library"]}
    print(f"  vpdq library hashed ({time.time() - t0:.0f}s)", flush=True)
    strict: dict[str, list[dict[str, Any]]] = {}
    loose: dict[str, list[dict[str, Any]]] = {}
    for q in manifest["queries"]:
        qh = vpdq_hashes(data / q["file"])
        strict[q["id"]], loose[q["id"]] = [], []
        for ref, rh in lib.items():
            hit, tq, tr = _match(qh, rh)
            if hit.size == 0:
                continue
            q_pct = 100.0 * hit.any(axis=1).mean()
            r_pct = 100.0 * hit.any(axis=0).mean()
            qm, rm = tq[hit.any(axis=1)], tr[hit.any(axis=0)]
            if qm.size == 0:
                continue
            seg = {"ref": ref, "q": [float(qm.min()), float(qm.max()) + SECONDS_PER_HASH],
                   "r": [float(rm.min()), float(rm.max()) + SECONDS_PER_HASH]}
            if q_pct >= percent and r_pct >= percent:
                strict[q["id"]].append(seg)
            if qm.size >= 4:
                loose[q["id"]].append(seg)
    print(f"  vpdq queries matched ({time.time() - t0:.0f}s)", flush=True)
    return {"vpdq": {"method": "vpdq", "predictions": strict},
            "vpdq-any": {"method": "vpdq-any", "predictions": loose}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("method", choices=["signature", "vpdq"])
    ap.add_argument("data", type=Path)
    ap.add_argument("--out", type=Path, required=True, help="output file (vpdq also writes <out stem>-any.json)")
    ap.add_argument("--distractors", type=int, default=3)
    ap.add_argument("--per-class", type=int, default=0, help="signature: only the first N queries of each class (0: all)")
    ap.add_argument("--percent", type=float, default=80.0)
    ap.add_argument("--ffmpeg", default="/usr/bin/ffmpeg")
    args = ap.parse_args(argv)
    manifest = json.loads((args.data / "manifest.json").read_text())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.method == "signature":
        res = run_signature(args.data, manifest, args.distractors, args.ffmpeg, args.per_class, args.out)
        args.out.write_text(json.dumps(res, indent=1))
    else:
        res = run_vpdq(args.data, manifest, args.percent)
        args.out.write_text(json.dumps(res["vpdq"], indent=1))
        args.out.with_name(args.out.stem + "-any.json").write_text(json.dumps(res["vpdq-any"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
