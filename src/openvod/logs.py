"""Structured logging: one JSON object per line (or plain text), with any ``extra`` fields kept.

Both formats carry the same fields: a plain-text line is ``time LEVEL logger message`` followed by
every ``extra`` field as ``key=value`` (reason, action, code, request_id, job_id, ms, …), so nothing
is lost when ``OPENVOD_LOG_JSON=false``.

The access log (one INFO line per RPC request on the ``openvod.access`` logger: action,
access_key_id, status, code, ms, request_id) is on by default; ``OPENVOD_LOG_ACCESS=false`` turns
it off (the RPC layer reads that setting).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

_STD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName", "color_message"}

ACCESS_LOGGER = "openvod.access"
# Loggers of libraries that are chatty at INFO: faiss announces on every import (in every worker)
# that it could not load its AVX2/AVX512 build, which is expected and harmless.
QUIET_LOGGERS = ("uvicorn.access", "httpx", "httpcore", "faiss", "faiss.loader")


def extras(record: logging.LogRecord) -> dict[str, Any]:
    """The ``extra`` fields of a record, in the order they were given."""
    return {k: v for k, v in vars(record).items() if k not in _STD and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """Render records as JSON lines."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        out.update(extras(record))
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


def _plain_value(v: Any) -> str:
    s = v if isinstance(v, str) else json.dumps(v, default=str, ensure_ascii=False)
    if s == "" or any(c in s for c in ' "=\n\t'):
        return json.dumps(s, ensure_ascii=False)
    return s


class TextFormatter(logging.Formatter):
    """``2026-01-01T00:00:00.000Z INFO openvod.api message key=value …`` (values with spaces quoted)."""

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        line = f"{ts} {record.levelname} {record.name} {record.getMessage()}"
        fields = " ".join(f"{k}={_plain_value(v)}" for k, v in extras(record).items())
        if fields:
            line += " " + fields
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def setup_logging(level: str = "INFO", as_json: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if as_json else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
