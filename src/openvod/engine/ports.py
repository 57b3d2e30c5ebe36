"""What the engine needs from the process it runs in, as interfaces (the composition root,
``openvod.runtime.Runtime``, provides them; the engine never imports it).

The runner reads and finishes jobs through these; the services implement them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, Engine

from openvod.config import Settings
from openvod.domain.contract import AnalyzerRegistry, ImageOutput
from openvod.domain.interfaces import BlobWriter, FaceLibrary, FingerprintLibrary
from openvod.domain.jobs import JobStatus
from openvod.domain.rows import JobRow


class MediaRows(Protocol):
    def get_row(self, account_id: str, media_id: str) -> dict[str, Any]: ...

    def local_path(self, row: dict[str, Any]) -> Path: ...


class ImageSink(Protocol):
    """Persists an AIImage job's images: blobs first, rows inside the job's final transaction."""

    def write_blobs(self, job: JobRow, images: list[ImageOutput]) -> list[tuple[str, ImageOutput]]: ...

    def delete_blobs(self, written: list[tuple[str, ImageOutput]]) -> None: ...

    def insert_rows(self, conn: Connection, job: JobRow, written: list[tuple[str, ImageOutput]]) -> str: ...


class JobEvents(Protocol):
    def enqueue_job_event(self, conn: Connection, job: JobRow, status: JobStatus, code: str, message: str,
                          data: str) -> bool: ...


class AccountLibraries(Protocol):
    def for_account(self, account_id: str) -> Any: ...


class JobRuntime(Protocol):
    """Everything ``run_job`` and the worker pool use."""

    wake: Callable[[], None]  # the dispatcher sets it, so a requeue wakes idle workers

    @property
    def settings(self) -> Settings: ...

    @property
    def engine(self) -> Engine: ...

    @property
    def analyzers(self) -> AnalyzerRegistry: ...

    @property
    def analyzer_options(self) -> dict[str, Any]: ...

    @property
    def media(self) -> MediaRows: ...

    @property
    def images(self) -> ImageSink: ...

    @property
    def callbacks(self) -> JobEvents: ...

    @property
    def fingerprints(self) -> AccountLibraries: ...

    @property
    def faces(self) -> AccountLibraries: ...

    def job_blobs(self, account_id: str, media_id: str) -> BlobWriter: ...

    def close(self) -> None: ...


__all__ = ["AccountLibraries", "FaceLibrary", "FingerprintLibrary", "ImageSink", "JobEvents", "JobRuntime",
           "MediaRows"]
