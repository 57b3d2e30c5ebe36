"""A built-in analyzer whose module cannot load is reported, not crashed on."""

from __future__ import annotations

import pytest

from openvod import analyzers
from openvod.engine.registry import AnalyzerRegistry


def test_broken_builtin_module_becomes_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analyzers, "BUILTIN_HANDLERS", [("openvod.analyzers.tag.handler_missing", "X")])
    monkeypatch.setitem(analyzers._MODULE_TYPES, "openvod.analyzers.tag.handler_missing", "AIVideoTag")
    reg = AnalyzerRegistry()
    analyzers.register_builtin(reg)
    handler, reason = reg.available("AIVideoTag")
    assert handler is None and reason and "ModuleNotFoundError" in reason
