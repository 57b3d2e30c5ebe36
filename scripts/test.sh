#!/usr/bin/env bash
# Run the test suite. Creates ./.venv and installs openvod with its test extras on first use.
# Extra arguments go to pytest (e.g. `-m slow` for the long suites).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/pytest ] || [ pyproject.toml -nt .venv/.installed-test ]; then
  "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade "pip>=23"
  .venv/bin/python -m pip install -q -e ".[test]"
  touch .venv/.installed-test
fi
exec .venv/bin/python -m pytest "$@"
