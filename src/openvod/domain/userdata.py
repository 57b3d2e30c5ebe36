"""UserData (spec §13.2): a JSON object of at most 512 bytes with optional MessageCallback and Extend.

Both forms are accepted: objects, and the legacy string-in-string form where MessageCallback and
Extend are themselves JSON strings.
"""

from __future__ import annotations

from typing import Any

from openvod.errors import InvalidParameter
from openvod.urlsyntax import BadUrl, parse_http_url
from openvod.util import dumps, json_problem, loads

MAX_BYTES = 512


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return loads(value)
        except ValueError:
            return value
    return value


def parse(raw: str, name: str = "UserData") -> dict[str, Any] | None:
    """Validate and return the object; None for an empty value."""
    if not raw:
        return None
    if len(raw.encode()) > MAX_BYTES:
        raise InvalidParameter(name, f"It must not exceed {MAX_BYTES} bytes.")
    try:
        obj = loads(raw)
    except ValueError as exc:
        raise InvalidParameter(name, json_problem(exc, "It must be a JSON object.")) from None
    if not isinstance(obj, dict):
        raise InvalidParameter(name, "It must be a JSON object.")
    if "MessageCallback" in obj:
        mc = _maybe_json(obj["MessageCallback"])
        if not isinstance(mc, dict) or not isinstance(mc.get("CallbackURL"), str):
            raise InvalidParameter(name, "MessageCallback must be an object with a CallbackURL.")
        try:
            parse_http_url(mc["CallbackURL"])
        except BadUrl as exc:
            raise InvalidParameter(
                name, f"MessageCallback.CallbackURL must be a valid http(s) URL: {exc}.", code="InvalidParameter.CallbackURL"
            ) from None
        ctype = str(mc.get("CallbackType", "http")).lower()
        if ctype != "http":
            raise InvalidParameter(name, "MessageCallback.CallbackType supports only http.")
    return obj


def callback_url(raw: str) -> str | None:
    """The per-job callback URL, if the stored UserData carries one.

    Lenient on purpose: it runs inside a job's final transaction on values accepted earlier, perhaps
    by an older version with looser rules. A URL that is no longer valid is returned as it is: the
    sender counts it as a failed attempt, and the event ends dead; it never blocks the job's end."""
    try:
        obj = loads(raw) if raw else None
    except ValueError:
        return None
    if not isinstance(obj, dict) or "MessageCallback" not in obj:
        return None
    mc = _maybe_json(obj["MessageCallback"])
    url = mc.get("CallbackURL") if isinstance(mc, dict) else None
    return url if isinstance(url, str) and url else None


def extend(raw: str) -> str | None:
    """Extend as callbacks carry it: a string (objects are serialised to JSON)."""
    obj = parse(raw) if raw else None
    if not obj or "Extend" not in obj:
        return None
    ext = obj["Extend"]
    return ext if isinstance(ext, str) else dumps(ext)
