"""Small helpers shared by every layer: ids and wire time formats."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any


def new_id() -> str:
    """A 32-hex id, the form VOD uses for MediaId, JobId, TemplateId."""
    return uuid.uuid4().hex


def request_id() -> str:
    """An upper-case UUID, the form of RequestId."""
    return str(uuid.uuid4()).upper()


def new_secret(n: int = 30) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(n))


def now() -> float:
    return time.time()


def utc_iso(ts: float | None) -> str:
    """``yyyy-MM-ddTHH:mm:ssZ`` or '' when unset."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@lru_cache(maxsize=4096)
def parse_utc_iso(value: str) -> float:
    """Parse ``yyyy-MM-ddTHH:mm:ssZ`` (also with fractional seconds); ValueError if malformed."""
    v = value.strip()
    if not v.endswith("Z"):
        raise ValueError(value)
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ"):
        try:
            return datetime.strptime(v, fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    raise ValueError(value)


def dumps(obj: Any) -> str:
    """Compact JSON that keeps non-ASCII text readable."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def loads(raw: str) -> Any:
    """json.loads for request parameters. Refuses lone surrogates (``"\\ud800"`` escapes): they cannot be
    encoded as UTF-8, so they would fail later when stored, echoed in a message or sent in a callback.
    Raises ValueError (json.JSONDecodeError or UnicodeEncodeError) like json.loads does."""
    obj = json.loads(raw)
    json.dumps(obj, ensure_ascii=False).encode("utf-8")
    return obj
