"""URL syntax, checked once, for every client-supplied URL (FileURL, CallbackURL, the per-job
MessageCallback.CallbackURL inside UserData) before anything uses it.

This is syntax only: no name resolution. The SSRF guard (``openvod.net``) still checks where a host
resolves when it is contacted. A URL that passes here can be split, has a valid port, and a host
that IDNA-encodes (so neither ``urlsplit``, ``.port`` nor the resolver can raise on it later).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

MAX_URL_BYTES = 2048
_LABEL = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


class BadUrl(ValueError):
    """A URL that openvod will not use; the message says why (safe to show to the client)."""


@dataclass(frozen=True)
class HttpUrl:
    """A checked http(s) URL: the split form, the ASCII host and the effective port."""

    url: str
    parts: SplitResult
    host: str  # ASCII (IDNA) host name, or the IP address text without brackets
    port: int
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None


def ascii_host(host: str) -> str:
    """The IDNA (ASCII) form of a DNS host name; BadUrl for empty or overlong labels and bad characters."""
    name = host[:-1] if host.endswith(".") else host
    if not name:
        raise BadUrl("the host name is empty")
    try:
        encoded = name.encode("idna").decode("ascii") if not name.isascii() else name
    except UnicodeError as exc:
        raise BadUrl(f"the host name is not valid ({exc})") from None
    if len(encoded) > 253:
        raise BadUrl("the host name is longer than 253 characters")
    for label in encoded.split("."):
        if not _LABEL.match(label):
            raise BadUrl("the host name has an empty, overlong or malformed label")
    return encoded.lower()


def parse_http_url(url: object, *, max_bytes: int = MAX_URL_BYTES) -> HttpUrl:
    """Check that ``url`` is a well-formed absolute http(s) URL; BadUrl otherwise."""
    if not isinstance(url, str) or not url:
        raise BadUrl("the URL must be a non-empty string")
    if len(url.encode("utf-8", "surrogatepass")) > max_bytes:
        raise BadUrl(f"the URL exceeds {max_bytes} bytes")
    if _CONTROL.search(url):
        raise BadUrl("the URL contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
        hostname = parts.hostname
    except ValueError as exc:  # unbalanced brackets, bad or out-of-range port
        raise BadUrl(f"the URL is malformed ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise BadUrl("the URL must start with http:// or https://")
    if not hostname:
        raise BadUrl("the URL has no host")
    if port == 0:
        raise BadUrl("the URL's port must be from 1 to 65535")
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None
    try:
        ip = ipaddress.ip_address(hostname.split("%")[0] if ":" in hostname else hostname)
    except ValueError:
        ip = None
    if ip is None:
        if "[" in parts.netloc:
            raise BadUrl("the bracketed host is not an IPv6 address")
        host = ascii_host(hostname)
    else:
        host = str(ip)
    return HttpUrl(url, parts, host, port or (443 if scheme == "https" else 80), ip)


def is_http_like(url: str) -> bool:
    """True when the text claims an http(s) scheme (so it must pass :func:`parse_http_url`)."""
    head = url[:8].lower()
    return head.startswith("http://") or head.startswith("https://") or head.startswith(("http:", "https:"))
