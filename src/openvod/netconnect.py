"""The connect path of the SSRF guard: resolve a host once, vet every address, connect to a vetted one.

``openvod.net.check_http_target`` answers "may this URL be contacted?" at submit time. Checking a
name and then letting the HTTP client resolve it again leaves a window for DNS rebinding (the first
answer public, the second 127.0.0.1). :class:`PinnedTransport` closes it: for every request (so for
every redirect hop too) it resolves the host itself, refuses the request if any answer is a
non-public address (unless private targets are allowed), and connects to the address it checked.
The ``Host`` header and the TLS server name (SNI, and so certificate verification) stay the
original host name. Connections are not kept alive, so a TLS connection verified for one name is
never reused for another name that resolves to the same address.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import httpx

from openvod.net import UnsafeTarget, _is_private


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, in the resolver's order (``socket.getaddrinfo``)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError) as exc:
        raise UnsafeTarget(f"cannot resolve host {host!r}: {exc}") from exc
    out: list[str] = []
    for info in infos:
        addr = str(info[4][0]).split("%")[0]
        if addr not in out:
            out.append(addr)
    if not out:
        raise UnsafeTarget(f"host {host!r} has no address")
    return out


def vetted_addresses(host: str, port: int, allow_private: bool) -> list[str]:
    """Resolve once; refuse if any address is non-public (unless allowed). Returns the addresses to try."""
    addrs = resolve(host, port)
    if not allow_private:
        for a in addrs:
            if _is_private(ipaddress.ip_address(a)):
                raise UnsafeTarget(f"host {host!r} resolves to a non-public address ({a})")
    return addrs


class PinnedTransport(httpx.HTTPTransport):
    """An httpx transport that connects only to the addresses it vetted for the request's host."""

    def __init__(self, allow_private: bool, **kwargs: Any):
        kwargs.setdefault("limits", httpx.Limits(max_keepalive_connections=0))
        super().__init__(**kwargs)
        self.allow_private = allow_private

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https") or not url.raw_host:
            raise UnsafeTarget(f"not an http(s) URL: {str(url)!r}")
        host = url.raw_host.decode("ascii")
        port = url.port or (443 if url.scheme == "https" else 80)
        addrs = vetted_addresses(host, port, self.allow_private)
        original_ext = request.extensions
        if "Host" not in request.headers:
            request.headers["Host"] = url.netloc.decode("ascii")
        last: Exception | None = None
        try:
            for addr in addrs:
                request.url = url.copy_with(host=addr)
                if url.scheme == "https":
                    request.extensions = {**original_ext, "sni_hostname": host}
                try:
                    return super().handle_request(request)
                except httpx.ConnectError as exc:  # try the next vetted address; nothing was sent yet
                    last = exc
            assert last is not None
            raise last
        finally:
            request.url = url
            request.extensions = original_ext


def pinned_client(allow_private: bool, timeout: float | httpx.Timeout, **kwargs: Any) -> httpx.Client:
    """An httpx client whose every request (and redirect hop) goes through :class:`PinnedTransport`.

    ``trust_env`` is off: a proxy from the environment would resolve the name itself, which is the
    very thing pinning prevents.
    """
    return httpx.Client(
        transport=PinnedTransport(allow_private),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        **kwargs,
    )
