"""Resolve a RegisterMedia FileURL to a local file: a path or file:// URL inside the allowed roots,
or an http(s) URL downloaded with the SSRF guard."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from openvod.net import UnsafeTarget
from openvod.netconnect import pinned_client
from openvod.urlsyntax import BadUrl, parse_http_url


class FetchError(ValueError):
    """The FileURL cannot be read."""


def _inside(p: Path, folder: Path) -> bool:
    return p == folder or folder in p.parents


@dataclass(frozen=True)
class MediaGuard:
    """Folders a FileURL may never point into, whatever ``media.allowed_roots`` says.

    ``never``: refused outright (the blob store: every account's files). ``private``: refused except
    inside one of ``exceptions`` (the data folder, except its incoming/ folder).
    """

    never: tuple[Path, ...] = ()
    private: tuple[Path, ...] = ()
    exceptions: tuple[Path, ...] = ()

    @classmethod
    def for_data_dir(cls, data_dir: Path, blob_dir: Path, incoming: Path) -> MediaGuard:
        return cls((blob_dir.resolve(),), (data_dir.resolve(),), (incoming.resolve(),))

    def check(self, real: Path, raw: str) -> None:
        if any(_inside(real, f) for f in self.never):
            raise FetchError(f"{raw} is inside openvod's blob store, which is never a media root")
        if any(_inside(real, f) for f in self.private) and not any(_inside(real, f) for f in self.exceptions):
            raise FetchError(f"{raw} is inside openvod's data folder, which is not a media root (use its incoming/ folder)")


def local_path(file_url: str, roots: list[Path], guard: MediaGuard | None = None) -> Path:
    """Map a path or file:// URL to a real file inside one of ``roots`` and allowed by ``guard``
    (symlinks are resolved before every check)."""
    if file_url.startswith("file://"):
        parts = urlsplit(file_url)
        if parts.netloc not in ("", "localhost"):
            raise FetchError("file:// URLs must name a local file")
        raw = unquote(parts.path)
    else:
        raw = file_url
    p = Path(raw).expanduser()
    if not p.is_absolute():
        p = Path.cwd() / p
    try:
        real = p.resolve(strict=True)
    except (OSError, RuntimeError, ValueError) as exc:  # ValueError: an embedded NUL byte
        raise FetchError(f"file not found: {raw}") from exc
    if not any(_inside(real, r) for r in roots):
        raise FetchError(f"{raw} is outside the allowed media roots")
    if guard is not None:
        guard.check(real, raw)
    if not real.is_file():
        raise FetchError(f"{raw} is not a regular file")
    return real


@contextmanager
def fetched(
    file_url: str,
    roots: list[Path],
    tmp_dir: Path,
    *,
    allow_private: bool,
    max_bytes: int,
    timeout_s: float,
    guard: MediaGuard | None = None,
) -> Iterator[Path]:
    """Yield a local path for ``file_url``; downloaded copies are removed afterwards."""
    try:
        scheme = urlsplit(file_url).scheme.lower()
    except ValueError as exc:  # e.g. "http://[::1" (unbalanced IPv6 brackets)
        raise FetchError(f"malformed URL: {exc}") from exc
    if scheme in ("http", "https"):
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix="dl-", dir=tmp_dir)
        try:
            with os.fdopen(fd, "wb") as out:
                _download(file_url, out, allow_private=allow_private, max_bytes=max_bytes, timeout_s=timeout_s)
            yield Path(tmp)
        finally:
            Path(tmp).unlink(missing_ok=True)
    elif scheme in ("", "file") or (len(scheme) == 1 and os.name == "nt"):
        yield local_path(file_url, roots, guard)
    else:
        raise FetchError(f"unsupported URL scheme {scheme!r}")


def _download(url: str, out, *, allow_private: bool, max_bytes: int, timeout_s: float) -> None:  # type: ignore[no-untyped-def]
    # Every hop (the first URL and each redirect) is resolved once, vetted and connected to the vetted
    # address by the pinned transport, so DNS rebinding between check and connect is impossible.
    with pinned_client(allow_private, timeout_s) as client:
        for _ in range(6):
            try:
                parse_http_url(url)
            except BadUrl as exc:
                raise FetchError(f"bad URL: {exc}") from exc
            try:
                with client.stream("GET", url) as resp:
                    if resp.is_redirect and resp.headers.get("location"):
                        url = urljoin(url, resp.headers["location"])
                        continue
                    if resp.status_code != 200:
                        raise FetchError(f"GET {url} answered HTTP {resp.status_code}")
                    total = 0
                    for chunk in resp.iter_bytes(1024 * 1024):
                        total += len(chunk)
                        if total > max_bytes:
                            raise FetchError(f"download exceeds {max_bytes} bytes")
                        out.write(chunk)
                    return
            except FetchError:
                raise
            except UnsafeTarget as exc:
                raise FetchError(str(exc)) from exc
            except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
                raise FetchError(f"GET {url} failed: {exc}") from exc
        raise FetchError("too many redirects")
