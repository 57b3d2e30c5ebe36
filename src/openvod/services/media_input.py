"""RegisterMedia's input: metadata validation, canonical FileURLs, and what a failed entry reports
(split from ``services.media``, which re-exports these names)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from openvod.errors import InvalidParameter
from openvod.media.fetch import FetchError
from openvod.media.probe import ProbeError
from openvod.net import UnsafeTarget
from openvod.urlsyntax import BadUrl, is_http_like, parse_http_url


@dataclass
class Registered:
    """One RegisteredMediaList entry."""

    media_id: str
    file_url: str
    new_register: bool


@dataclass
class Failure:
    """One FailedFileURLReasons entry: why a FileURL was not registered."""

    file_url: str
    code: str
    message: str

    def wire(self) -> dict[str, str]:
        return {"FileURL": self.file_url, "Code": self.code, "Message": self.message}


# Codes of FailedFileURLReasons (openvod's; the cloud only lists FailedFileURLs).
FAILURE_CODES = {
    "InvalidFileURL.NotFound": "no such file (a relative path is resolved against the server's working directory)",
    "InvalidFileURL.Forbidden": "outside media.allowed_roots, or an http(s) URL on a private/loopback address",
    "InvalidFileURL.Unsupported": "not a path, file:// or http(s) URL, or malformed",
    "InvalidFileURL.DownloadFailed": "the http(s) download failed, answered an error or was too large",
    "InvalidFileURL.NotAFile": "the path is not a regular file",
    "InvalidVideo.Damaged": "the file is not a readable video",
}


def failure_of(file_url: str, exc: Exception) -> Failure:
    """The code and message for a FetchError / ProbeError."""
    msg = str(exc)
    if isinstance(exc, ProbeError):
        code = "InvalidVideo.Damaged"
    elif isinstance(exc.__cause__, UnsafeTarget):
        code = "InvalidFileURL.Forbidden"
    elif "outside the allowed media roots" in msg:
        code = "InvalidFileURL.Forbidden"
        msg += " (allow another folder with media.allowed_roots / OPENVOD_MEDIA__ALLOWED_ROOTS)"
    elif msg.startswith("file not found") or "must name a local file" in msg:
        code = "InvalidFileURL.NotFound"
    elif "not a regular file" in msg:
        code = "InvalidFileURL.NotAFile"
    elif "scheme" in msg or "malformed" in msg:
        code = "InvalidFileURL.Unsupported"
    else:
        code = "InvalidFileURL.DownloadFailed"
    return Failure(file_url, code, msg)


def canonical_file_url(file_url: str) -> str:
    """The key that identifies a source file: for a path or file:// URL the resolved real path
    (relative paths against the server's working directory, ``~`` expanded, symlinks followed), so
    ``/x/a.mp4``, ``file:///x/a.mp4`` and ``a.mp4`` run in /x are one file; an http(s) URL as given."""
    try:
        parts = urlsplit(file_url)
    except ValueError:
        return file_url
    if parts.scheme.lower() == "file" and parts.netloc in ("", "localhost"):
        raw = unquote(parts.path)
    elif parts.scheme == "":
        raw = file_url
    else:
        return file_url
    try:
        p = Path(raw).expanduser()
        return str((p if p.is_absolute() else Path.cwd() / p).resolve())
    except (OSError, RuntimeError, ValueError):
        return file_url


def _utf8_len(s: str) -> int:
    return len(s.encode())


INT64_MAX = 2**63 - 1
_INT_TEXT = re.compile(r"^-?[0-9]{1,19}$")
_IMAGE_ID = re.compile(r"^[0-9a-f]{32}$")


def _cate_id(value: Any, index: int) -> int | None:
    """CateId: an integer (number or decimal string) that fits a signed 64-bit column; None when absent."""
    if value is None or value == "":
        return None
    n: int | None = None
    if isinstance(value, bool):
        n = None
    elif isinstance(value, int):
        n = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        n = int(value)
    elif isinstance(value, str) and _INT_TEXT.match(value.strip()):
        n = int(value.strip())
    if n is None:
        raise InvalidParameter("RegisterMetadatas", f"Entry {index}: CateId must be an integer.")
    if not -INT64_MAX - 1 <= n <= INT64_MAX:
        raise InvalidParameter("RegisterMetadatas", f"Entry {index}: CateId must fit in a signed 64-bit integer.")
    return n


def validate_metadata(entry: Any, index: int) -> dict[str, Any]:
    """Check one RegisterMetadatas entry; raise InvalidParameter naming the field."""
    name = "RegisterMetadatas"
    if not isinstance(entry, dict):
        raise InvalidParameter(name, f"Entry {index} must be an object.")
    url = entry.get("FileURL")
    title = entry.get("Title")
    if not isinstance(url, str) or not url.strip():
        raise InvalidParameter(name, f"Entry {index}: FileURL is required.")
    if _utf8_len(url) > 1024:
        raise InvalidParameter(name, f"Entry {index}: FileURL exceeds 1024 bytes.")
    if not isinstance(title, str) or not title.strip():
        raise InvalidParameter(name, f"Entry {index}: Title is required.")
    if _utf8_len(title) > 128:
        raise InvalidParameter(name, f"Entry {index}: Title exceeds 128 bytes.")
    desc = entry.get("Description", "") or ""
    if not isinstance(desc, str) or _utf8_len(desc) > 1024:
        raise InvalidParameter(name, f"Entry {index}: Description must be a string of at most 1024 bytes.")
    tags = entry.get("Tags", "") or ""
    if not isinstance(tags, str):
        raise InvalidParameter(name, f"Entry {index}: Tags must be a comma-separated string.")
    tag_list = [t.strip() for t in tags.split(",") if t.strip()]
    if len(tag_list) > 16 or any(_utf8_len(t) > 32 for t in tag_list):
        raise InvalidParameter(name, f"Entry {index}: at most 16 tags of at most 32 bytes each.")
    cover = entry.get("CoverURL", "") or ""
    if not isinstance(cover, str) or _utf8_len(cover) > 1024:
        raise InvalidParameter(name, f"Entry {index}: CoverURL must be at most 1024 bytes.")
    if cover and not _IMAGE_ID.match(cover):
        # An http(s) URL or an AI image id of the same account (checked at registration); never an
        # internal "blob:" key or a path, which would make openvod sign another account's file.
        try:
            parse_http_url(cover, max_bytes=1024)
        except BadUrl as exc:
            raise InvalidParameter(name, f"Entry {index}: CoverURL must be an http(s) URL: {exc}.") from None
    url = url.strip()
    if is_http_like(url):
        try:
            parse_http_url(url, max_bytes=1024)
        except BadUrl as exc:
            raise InvalidParameter(name, f"Entry {index}: FileURL is not a valid URL: {exc}.") from None
    cate = _cate_id(entry.get("CateId"), index)
    return {
        "file_url": url,
        "title": title,
        "description": desc,
        "tags": ",".join(tag_list),
        "cover_url": cover,
        "cate_id": cate,
    }
