"""One cache for every model an analyzer loads: lazily, once per process, keyed by what changes it.

A :class:`ModelSpec` names a model (``name``, ``version``), says where its files are (``path``) and
carries every option that changes the loaded artefact (threads, compute type, thresholds baked into
a session). Two specs that differ in any of these are two cache entries; equal specs share one.
Loading happens under a per-key lock, so concurrent jobs in one worker load a model once.

A loader that fails because an optional package is missing raises :class:`ModelUnavailable`
with a message meant for the API caller, never an ImportError.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


class ModelUnavailable(RuntimeError):
    """A model cannot be loaded here (missing package, missing files). The message is user-facing."""


@dataclass(frozen=True)
class ModelSpec:
    """Identity of a loaded model: name, version, files and every option that changes it."""

    name: str
    version: str
    path: str = ""
    options: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, name: str, version: str, path: str = "", **options: Any) -> ModelSpec:
        return cls(name, version, path, tuple(sorted(options.items())))

    def record(self) -> dict[str, Any]:
        """How a result names the model that made it."""
        out: dict[str, Any] = {"Name": self.name, "Version": self.version}
        if self.path:
            out["Path"] = self.path
        return out


@dataclass
class _Entry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    value: Any = None
    loaded: bool = False
    load_s: float = 0.0


class ModelCache:
    """Lazily loaded models, shared by all jobs of one process."""

    def __init__(self) -> None:
        self._entries: dict[ModelSpec, _Entry] = {}
        self._lock = threading.Lock()

    def get(self, spec: ModelSpec, loader: Callable[[], T]) -> T:
        """The model for ``spec``, calling ``loader`` the first time only."""
        with self._lock:
            entry = self._entries.setdefault(spec, _Entry())
        if entry.loaded:
            return entry.value  # type: ignore[no-any-return]
        with entry.lock:
            if not entry.loaded:
                t0 = time.monotonic()
                entry.value = loader()
                entry.load_s = time.monotonic() - t0
                entry.loaded = True
        return entry.value  # type: ignore[no-any-return]

    def loaded(self) -> list[dict[str, Any]]:
        """The models loaded so far, with their load times."""
        with self._lock:
            items = list(self._entries.items())
        return [{**s.record(), "LoadSeconds": round(e.load_s, 3)} for s, e in items if e.loaded]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
