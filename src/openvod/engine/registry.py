"""Job handlers (the analyzers' entry into the engine), registered by job type.

A handler declares its job type, name and version, validates a job's config at submit time and
runs a job. The product registers only real handlers; tests and deployments add more through
``Settings.plugins`` ("module:function", called with the registry) or the ``openvod.analyzers``
entry-point group.
"""

from __future__ import annotations

import importlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from openvod.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass
class ImageOutput:
    """One image an AIImage job produced."""

    data: bytes
    format: str  # "png" | "gif"
    score: float
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class JobOutput:
    """What a handler returns. ``data`` is the wire result; ``detail`` the richer extra."""

    data: Any = None
    detail: dict[str, Any] | None = None
    images: list[ImageOutput] = field(default_factory=list)


@dataclass
class JobContext:
    """Everything a handler may use while running one job."""

    job_id: str
    account_id: str
    job_type: str
    media_id: str
    media_path: Path
    media: dict[str, Any]
    config: dict[str, Any]
    template_config: dict[str, Any]
    runtime: Runtime
    heartbeat: Callable[[], None]
    # Report how far the job is, as a fraction 0..1 (stored as Progress 0-100, throttled by the runner).
    progress: Callable[[float], None] = field(default=lambda fraction: None)


class JobHandler(ABC):
    """Runs one job type."""

    job_type: ClassVar[str]
    name: ClassVar[str]
    version: ClassVar[str]

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        """Check and normalise the per-type config at submit; raise errors.InvalidParameter."""
        return config

    def unavailable_reason(self) -> str | None:
        """None when the handler can run here; otherwise why not (e.g. a missing optional dependency)."""
        return None

    @abstractmethod
    def run(self, ctx: JobContext) -> JobOutput:
        """Do the work. Raise domain.jobs.JobFailed for a permanent, explained failure."""


class AnalyzerRegistry:
    """Job type -> handler."""

    def __init__(self) -> None:
        self._handlers: dict[str, JobHandler] = {}

    def register(self, handler: JobHandler) -> None:
        self._handlers[handler.job_type] = handler

    def get(self, job_type: str) -> JobHandler | None:
        return self._handlers.get(job_type)

    def available(self, job_type: str) -> tuple[JobHandler | None, str | None]:
        """The handler and None, or None and the reason the type cannot run here."""
        h = self._handlers.get(job_type)
        if h is None:
            return None, f"no analyzer for {job_type} is installed on this server"
        reason = h.unavailable_reason()
        return (None, reason) if reason else (h, None)

    def types(self) -> list[str]:
        return sorted(self._handlers)


def build_registry(plugins: list[str]) -> AnalyzerRegistry:
    """The product's handlers, then entry points, then configured plug-ins."""
    from openvod.analyzers import register_builtin

    reg = AnalyzerRegistry()
    register_builtin(reg)
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
