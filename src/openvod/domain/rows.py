"""Typed, read-only views of the store's job and media rows, as the engine and the services pass
them around (instead of ``dict[str, Any]`` changed in place)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, TypeVar

R = TypeVar("R")


def _from(cls: type[R], row: Mapping[str, Any]) -> R:
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in row.items() if k in names})


@dataclass(frozen=True)
class JobRow:
    """One row of ``jobs`` (the columns the engine and the callbacks read)."""

    id: str
    account_id: str
    media_id: str
    type: str
    status: str = ""
    config: str = "{}"
    user_data: str = ""
    template_id: str = ""
    template_config: str = ""
    attempts: int = 0
    claimed_by: str | None = None

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> JobRow:
        return _from(cls, row)

    def config_json(self) -> dict[str, Any]:
        cfg = json.loads(self.config or "{}")
        return cfg if isinstance(cfg, dict) else {}

    def template_config_json(self) -> dict[str, Any]:
        cfg = json.loads(self.template_config or "{}")
        return cfg if isinstance(cfg, dict) else {}


@dataclass(frozen=True)
class MediaRow:
    """One row of ``media`` (the columns a job reads)."""

    id: str
    account_id: str
    blob_key: str
    status: str = ""
    md5: str = ""
    duration: float = 0.0
    width: int = 0
    height: int = 0
    fps: float = 0.0
    probe: str = "{}"

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> MediaRow:
        return _from(cls, row)

    def probe_json(self) -> dict[str, Any] | None:
        """The probe stored at RegisterMedia, or None when there is none."""
        try:
            p = json.loads(self.probe or "{}")
        except ValueError:
            return None
        return p if isinstance(p, dict) and p else None
