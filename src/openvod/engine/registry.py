"""Job handlers (the analyzers' entry into the engine), registered by job type.

A handler declares its job type, name and version, validates a job's config at submit time and
runs a job. The product registers only real handlers; tests and deployments add more through
``Settings.plugins`` ("module:function", called with the registry) or the ``openvod.analyzers``
entry-point group.
"""

from __future__ import annotations

import importlib
import logging
from importlib.metadata import entry_points

from openvod.analyzers import register_builtin
from openvod.domain.contract import (
    AnalyzerRegistry,
    DuplicateAnalyzer,
    ImageOutput,
    JobContext,
    JobHandler,
    JobOutput,
)

# The contract lives in openvod.domain.contract; these names stay importable from here for plug-ins
# written against the older path.
__all__ = ["AnalyzerRegistry", "DuplicateAnalyzer", "ImageOutput", "JobContext", "JobHandler", "JobOutput",
           "build_registry"]

log = logging.getLogger(__name__)


def build_registry(plugins: list[str], service_handlers: list[JobHandler] | None = None) -> AnalyzerRegistry:
    """The product's handlers, then entry points, then configured plug-ins. A plug-in that takes over
    a built-in job type registers with ``replace=True``; a second handler for a type otherwise fails."""
    reg = AnalyzerRegistry()
    register_builtin(reg)
    for handler in service_handlers or []:
        reg.register(handler)
    for ep in entry_points(group="openvod.analyzers"):
        try:
            ep.load()(reg)
        except Exception:  # a broken plug-in must not take the server down
            log.exception("analyzer entry point %s failed to load", ep.name)
    for spec in plugins:
        mod_name, _, fn_name = spec.partition(":")
        fn = getattr(importlib.import_module(mod_name), fn_name or "register")
        fn(reg)
    return reg
