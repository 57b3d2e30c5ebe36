"""Reading a whole (small) ASGI request body, shared by the API (``openvod.app``) and the console
(``openvod.console.app``): chunks are collected up to a limit, and a body over it is refused before
more of it is read."""

from __future__ import annotations

from typing import Any


class ClientGone(Exception):
    """The client disconnected before the body was complete: there is nobody to answer."""


async def read_body(receive: Any, limit: int) -> bytes | None:
    """The request body; None when it is longer than ``limit`` bytes (the caller answers 413).
    Raises :class:`ClientGone` when the client leaves half-way, so a truncated body is never acted on."""
    chunks, size = [], 0
    while True:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            raise ClientGone()
        part = msg.get("body", b"")
        size += len(part)
        if size > limit:
            return None
        chunks.append(part)
        if not msg.get("more_body"):
            return b"".join(chunks)
