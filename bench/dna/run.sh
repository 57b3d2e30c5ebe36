#!/usr/bin/env bash
# The whole DNA benchmark: data, openvod, baselines (FFmpeg signature, vPDQ), report, speed, latency.
#
#   SPLIT=tuning bench/dna/run.sh          # default size: 20 library videos, 4 queries per class, 12 negatives
#   SPLIT=heldout bench/dna/run.sh --library 16 --per-class 2 --negatives 8     # smaller
#
# SPLIT (tuning | heldout) picks the generator's seed; thresholds are chosen on tuning only. Other
# arguments go to the generator. Everything is written under $OUT (default bench/dna/results/$SPLIT,
# git-ignored). SKIP_BASELINES=1 skips FFmpeg signature and vPDQ (slow).
# SIGNATURE_ARGS (default "--per-class 2 --distractors 1", the sample the published numbers use;
# "" runs every query against its references + 3 distractors, about 4x the CPU) goes to the
# signature baseline. VPDQ (default $OUT/.venv-vpdq) is the vPDQ virtual environment; one venv can
# serve every split.
# Needs root for apt-get the first time: Debian's ffmpeg (the signature filter is not in
# PyAV's FFmpeg) and the libav*-dev/cmake/pkg-config/g++ packages vPDQ compiles against (PyPI has
# vpdq 0.2.5 as an sdist only). vPDQ is built in its own virtual environment: it is a baseline,
# never an openvod dependency.
set -euo pipefail
cd "$(dirname "$0")/../.."
SPLIT=${SPLIT:-tuning}
OUT=${OUT:-bench/dna/results/$SPLIT}
PY=${PY:-.venv/bin/python}
DATA=$OUT/data
mkdir -p "$OUT"

if [ -z "${SKIP_BASELINES:-}" ] && { ! command -v ffmpeg >/dev/null || ! dpkg -s libavcodec-dev >/dev/null 2>&1; }; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends ffmpeg libavcodec-dev libavformat-dev libavdevice-dev \
    libavutil-dev libswscale-dev libswresample-dev libavfilter-dev cmake pkg-config g++ >/dev/null
fi
VPDQ=${VPDQ:-$OUT/.venv-vpdq}
SIGNATURE_ARGS=${SIGNATURE_ARGS---per-class 2 --distractors 1}
if [ -z "${SKIP_BASELINES:-}" ] && ! "$VPDQ/bin/python" -c "import vpdq, numpy" 2>/dev/null; then
  python3 -m venv "$VPDQ"
  "$VPDQ/bin/pip" install -q vpdq==0.2.5 numpy
fi

[ -f "$DATA/manifest.json" ] || "$PY" -m bench.dna.generate --split "$SPLIT" --out "$DATA" "$@"
echo "== openvod"
"$PY" -m bench.dna.run_openvod "$DATA" --out "$OUT/openvod.json"
if [ -z "${SKIP_BASELINES:-}" ]; then
  echo "== ffmpeg signature"
  # shellcheck disable=SC2086  # SIGNATURE_ARGS is a list of options
  "$PY" -m bench.dna.baselines signature "$DATA" --out "$OUT/signature.json" $SIGNATURE_ARGS
  echo "== vpdq"
  PYTHONPATH=. "$VPDQ/bin/python" -m bench.dna.baselines vpdq "$DATA" --out "$OUT/vpdq.json"
fi
echo "== report"
"$PY" -m bench.dna.report "$OUT"
echo "== fingerprint time vs pure decode"
"$PY" -m bench.dna.speed "$DATA" --extra-hd --out "$OUT/speed.json"
echo "== query latency vs library size"
"$PY" -m bench.dna.latency "$DATA" --out "$OUT/latency.json"
