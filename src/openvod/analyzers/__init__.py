"""The product's analyzers. Each job type's handler is registered here when its module imports;
a handler whose optional dependency is missing still registers and reports itself unavailable
(``JobHandler.unavailable_reason``), so SubmitAIJob refuses the type with a clear message."""

from __future__ import annotations

import importlib
import logging

from openvod.domain.jobs import AnalyzerUnavailable
from openvod.domain.contract import AnalyzerRegistry, JobContext, JobHandler, JobOutput

log = logging.getLogger(__name__)

# (module, class) of each built-in job handler; filled in as analyzers land.
BUILTIN_HANDLERS: list[tuple[str, str]] = [
    ("openvod.analyzers.image.handler", "SmartCoverHandler"),
    ("openvod.analyzers.dna.handler", "MediaDNAHandler"),
    ("openvod.analyzers.tag.handler", "VideoTagHandler"),
]


# The job type each built-in module serves, so a module that fails to import is reported by type.
_MODULE_TYPES = {
    "openvod.analyzers.image.handler": "AIImage",
    "openvod.analyzers.dna.handler": "AIMediaDNA",
    "openvod.analyzers.tag.handler": "AIVideoTag",
}


class UnavailableHandler(JobHandler):
    """Stands in for a built-in handler whose module cannot be imported here (e.g. a missing
    optional dependency): the type is refused at submit with the import error as the reason."""

    name = "unavailable"
    version = "0"

    def __init__(self, job_type: str, reason: str):
        self.job_type = job_type  # type: ignore[misc]
        self.reason = reason

    def unavailable_reason(self) -> str | None:
        return self.reason

    def run(self, ctx: JobContext) -> JobOutput:
        raise AnalyzerUnavailable(self.reason)


def register_builtin(reg: AnalyzerRegistry) -> None:
    for mod_name, cls_name in BUILTIN_HANDLERS:
        try:
            handler = getattr(importlib.import_module(mod_name), cls_name)()
        except Exception as exc:  # an optional dependency is missing or broken: say so, do not crash
            log.warning("analyzer %s unavailable: %s", mod_name, exc)
            job_type = _MODULE_TYPES.get(mod_name)
            if job_type:
                reg.register(UnavailableHandler(job_type, f"its analyzer failed to load ({type(exc).__name__}: {exc})"))
            continue
        reg.register(handler)
