#!/usr/bin/env bash
# Regenerate and rerun the second blind DNA suite (two seeds) and score per class. From the repository root:
#   bash bench/dna_blind2/run_all.sh [OUT] [--set name=value ...]    (default OUT=bench/dna/results/blind2)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-bench/dna/results/blind2}; shift || true
PY=${PYTHON:-.venv/bin/python}
export PYTHONPATH=src:.
for seed in 7101 7102; do
  [ -f "$OUT/$seed/manifest.json" ] || nice -n 10 "$PY" bench/dna_blind2/generate.py "$OUT/$seed" --seed "$seed"
  nice -n 10 "$PY" bench/dna_xval/run.py "$OUT/$seed" --out "$OUT/$seed/openvod.json" "$@"
  "$PY" bench/dna_blind2/report.py "$OUT/$seed/manifest.json" "$OUT/$seed/openvod.json" | tee "$OUT/$seed/report.txt"
done
