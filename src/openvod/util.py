"""Small helpers shared by every layer: ids and wire time formats."""

from __future__ import annotations

import json
import re
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


# Request JSON (Config, TemplateConfig, RegisterMetadatas, UserData, …) is small and shallow; these caps
# are checked before parsing, so deep nesting cannot exhaust the parser's recursion.
JSON_MAX_BYTES = 64 * 1024
JSON_MAX_DEPTH = 32
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"?', re.DOTALL)
_JSON_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


class JsonLimitError(ValueError):
    """JSON beyond the size or nesting caps (a ValueError, like a syntax error)."""


def json_problem(exc: Exception, default: str) -> str:
    """The message for a JSON parameter that ``loads`` refused: the limit it broke, else ``default``."""
    return f"{default} ({exc})" if isinstance(exc, JsonLimitError) else default


def json_depth(raw: str) -> int:
    """The deepest bracket nesting of JSON text (brackets inside strings do not count)."""
    brackets = _JSON_NOT_BRACKET.sub("", _JSON_STRING.sub("", raw))
    depth = deepest = 0
    for ch in brackets:
        if ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
        else:
            depth -= 1
    return deepest


def loads(raw: str, *, max_bytes: int = JSON_MAX_BYTES, max_depth: int = JSON_MAX_DEPTH) -> Any:
    """json.loads for request parameters. Refuses lone surrogates (``"\\ud800"`` escapes): they cannot be
    encoded as UTF-8, so they would fail later when stored, echoed in a message or sent in a callback.
    Refuses text over ``max_bytes`` or nested deeper than ``max_depth`` before parsing it.
    Raises ValueError (json.JSONDecodeError, UnicodeEncodeError or JsonLimitError) like json.loads does."""
    if len(raw) > max_bytes:
        raise JsonLimitError(f"JSON text exceeds {max_bytes} bytes")
    if json_depth(raw) > max_depth:
        raise JsonLimitError(f"JSON nesting exceeds {max_depth} levels")
    try:
        obj = json.loads(raw)
    except RecursionError:  # belt and braces: the depth check above should make this unreachable
        raise JsonLimitError("JSON nesting is too deep") from None
    json.dumps(obj, ensure_ascii=False).encode("utf-8")
    return obj
