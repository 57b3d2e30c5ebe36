#!/usr/bin/env bash
# Regenerate and rerun the blind cross-check suite (two seeds), score per class. From the repository root:
#   bash bench/dna_xval/run_all.sh [OUT]        (default OUT=bench/dna/results/xval; extra args go to run.py, e.g. --set sample_frames=1)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-bench/dna/results/xval}; shift || true
PY=${PYTHON:-.venv/bin/python}
export PYTHONPATH=src:.
for seed in 2612 2613; do
  nice -n 10 "$PY" bench/dna_xval/generate.py "$OUT/$seed" --seed "$seed"
  nice -n 10 "$PY" bench/dna_xval/run.py "$OUT/$seed" --out "$OUT/$seed/openvod.json" "$@"
  "$PY" bench/dna_xval/report.py "$OUT/$seed/manifest.json" "$OUT/$seed/openvod.json" > "$OUT/$seed/report.txt"
done
"$PY" bench/dna_xval/pool.py "$OUT/pooled" openvod.json "$OUT/2612" "$OUT/2613"
"$PY" bench/dna_xval/report.py "$OUT/pooled-manifest.json" "$OUT/pooled-run.json" | tee "$OUT/report-pooled.txt"
