"""mypy is clean on src/openvod with the configuration in pyproject.toml ([tool.mypy]).

Slow (a cold run takes minutes on a loaded machine), so not in the default suite: run it with
``pytest -m slow tests/unit/test_mypy.py`` or simply ``mypy`` from the repository root.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_mypy_is_clean() -> None:
    pytest.importorskip("mypy")
    proc = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
