"""The job contract: what a job handler is given (``JobContext``), what it returns (``JobOutput``),
what it must implement (``JobHandler``) and where handlers are registered (``AnalyzerRegistry``).

This module is at the bottom of the layering (domain): analyzers, engine, services and plug-ins all
import it, and it imports nothing of theirs. A handler never sees the runtime, the store or the
blob store; it gets narrow interfaces (``openvod.domain.interfaces``) that the services implement:

* ``ctx.options`` — the job's typed options, the pydantic model of the job type
  (``JobHandler.options_model``), the same model SubmitAIJob and the templates validate with;
* ``ctx.analyzer_options`` — the server's typed options for this analyzer, mapped once from the
  settings (``openvod.engine.analyzer_options``); None for plug-ins that declare none;
* ``ctx.fingerprints`` / ``ctx.faces`` / ``ctx.blobs`` — the account's fingerprint library, face
  library and a blob writer (None where the runner has none to give, e.g. a contract test);
* ``ctx.heartbeat()`` — "still alive" (extends the lease); ``ctx.progress(fraction)`` — how far the
  job is, 0..1 (also a heartbeat; the runner may persist it).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel

from openvod.domain.interfaces import BlobWriter, FaceLibrary, FingerprintLibrary
from openvod.domain.options import parse_options, stored

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


def _no_heartbeat() -> None:
    return None


@dataclass
class JobContext:
    """Everything a handler may use while running one job (and nothing else)."""

    job_id: str
    account_id: str
    job_type: str
    media_id: str
    media_path: Path
    # The media row as a plain mapping (Duration, MD5, the stored probe under "probe" when known).
    media: Mapping[str, Any] = field(default_factory=dict)
    # The stored, normalised per-job config (JSON object); ``options`` is the same, typed.
    config: dict[str, Any] = field(default_factory=dict)
    template_config: dict[str, Any] = field(default_factory=dict)
    options: BaseModel | None = None
    analyzer_options: Any = None
    probe: Mapping[str, Any] | None = None
    heartbeat: Callable[[], None] = _no_heartbeat
    progress: Callable[[float], None] | None = None
    fingerprints: FingerprintLibrary | None = None
    faces: FaceLibrary | None = None
    blobs: BlobWriter | None = None
    # The runtime's services, for plug-ins that need more than the interfaces above (the test
    # plug-ins read the media table through it). Built-in analyzers never read it, and handlers that
    # live in services get theirs in their constructor (URLUploadHandler).
    services: Any = None

    def __post_init__(self) -> None:
        if self.progress is None:
            beat = self.heartbeat

            def progress(fraction: float) -> None:
                beat()

            self.progress = progress

    def report_progress(self, fraction: float) -> None:
        """``progress`` with the fraction clamped to 0..1."""
        assert self.progress is not None
        self.progress(min(1.0, max(0.0, float(fraction))))


class JobHandler(ABC):
    """Runs one job type.

    Required: ``job_type``, ``name``, ``version`` and ``run``. Everything else is an explicit,
    optional hook with a default here (no attribute probing):

    * ``options_model`` — the job type's pydantic options; ``validate_config`` parses with it;
    * ``needs_media_file`` — False when the job itself produces the media file (URL upload);
    * ``load_media(services, account_id, media_id)`` — the row of a job whose media is not a video
      of the media table (SubmitAIImageAuditJob's image); None = the media table's row;
    * ``unavailable_reason()`` — why the handler cannot run here, or None;
    * ``on_media_deleted(account_id, media_id)`` — DeleteVideo: drop data the handler keeps itself;
    * ``on_fingerprints_deleted(account_id, media_id, db_id)`` — after SubmitMediaDNADeleteJob removed
      the fingerprints from the service's library.
    """

    job_type: ClassVar[str]
    name: ClassVar[str]
    version: ClassVar[str]
    options_model: ClassVar[type[BaseModel] | None] = None
    needs_media_file: ClassVar[bool] = True

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        """Check and normalise the per-type config at submit; raise errors.InvalidParameter."""
        if self.options_model is None:
            return config
        return stored(parse_options(self.options_model, config))

    def parse_options(self, config: dict[str, Any]) -> BaseModel | None:
        """The typed options of a stored config (run time); None when the handler declares no model."""
        if self.options_model is None:
            return None
        return parse_options(self.options_model, config)

    def load_media(self, services: Any, account_id: str, media_id: str) -> dict[str, Any] | None:
        """The job's media row when it is not a video (an image): a mapping with at least ``id``,
        ``account_id``, ``blob_key``; raise domain.jobs.MediaNotFound when it is gone. None (the
        default) = the video's row from the media table."""
        return None

    def unavailable_reason(self) -> str | None:
        """None when the handler can run here; otherwise why not (e.g. a missing optional dependency)."""
        return None

    def on_media_deleted(self, account_id: str, media_id: str) -> None:
        """DeleteVideo: the video is gone; drop whatever this handler keeps outside the services."""
        return None

    def on_fingerprints_deleted(self, account_id: str, media_id: str, db_id: str) -> None:
        """SubmitMediaDNADeleteJob removed the video's fingerprints (``db_id`` "" = every library)."""
        return None

    @abstractmethod
    def run(self, ctx: JobContext) -> JobOutput:
        """Do the work. Raise domain.jobs.JobFailed for a permanent, explained failure."""


class DuplicateAnalyzer(ValueError):
    """A second handler for a job type that already has one, registered without ``replace=True``."""


class AnalyzerRegistry:
    """Job type -> handler."""

    def __init__(self) -> None:
        self._handlers: dict[str, JobHandler] = {}

    def register(self, handler: JobHandler, *, replace: bool = False) -> None:
        """Add ``handler`` for its job type. A type that already has a handler is refused
        (``DuplicateAnalyzer``) unless ``replace=True``, which swaps it and logs which one went."""
        old = self._handlers.get(handler.job_type)
        if old is not None and old is not handler:
            if not replace:
                raise DuplicateAnalyzer(
                    f"{handler.job_type} already has the analyzer {old.name}@{old.version}; "
                    f"register {handler.name}@{handler.version} with replace=True to swap it"
                )
            log.info("analyzer for %s: %s@%s replaces %s@%s", handler.job_type, handler.name, handler.version,
                     old.name, old.version)
        self._handlers[handler.job_type] = handler

    def get(self, job_type: str) -> JobHandler | None:
        return self._handlers.get(job_type)

    def handlers(self) -> list[JobHandler]:
        return [self._handlers[t] for t in sorted(self._handlers)]

    def available(self, job_type: str) -> tuple[JobHandler | None, str | None]:
        """The handler and None, or None and the reason the type cannot run here."""
        h = self._handlers.get(job_type)
        if h is None:
            return None, f"no analyzer for {job_type} is installed on this server"
        reason = h.unavailable_reason()
        return (None, reason) if reason else (h, None)

    def types(self) -> list[str]:
        return sorted(self._handlers)
