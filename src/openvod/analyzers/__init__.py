"""The product's analyzers. Each job type's handler is registered here when its module imports;
a handler whose optional dependency is missing still registers and reports itself unavailable
(``JobHandler.unavailable_reason``), so SubmitAIJob refuses the type with a clear message."""

from __future__ import annotations

from openvod.engine.registry import AnalyzerRegistry

# (module, class) of each built-in job handler; filled in as analyzers land.
BUILTIN_HANDLERS: list[tuple[str, str]] = [
    ("openvod.analyzers.image.handler", "SmartCoverHandler"),
]


def register_builtin(reg: AnalyzerRegistry) -> None:
    import importlib

    for mod_name, cls_name in BUILTIN_HANDLERS:
        mod = importlib.import_module(mod_name)
        reg.register(getattr(mod, cls_name)())
