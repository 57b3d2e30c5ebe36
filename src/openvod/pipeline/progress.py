"""Decode progress: how far a decode pass has come through the media, for whoever listens.

A job runner listens around a handler (``with decode_progress(callback): handler.run(ctx)``); every
:meth:`openvod.pipeline.Media.video` pass inside reports the decoded fraction of the duration (0..1)
to the callback, so an analyzer that decodes through the pipeline gets fine-grained progress without
calling anything itself. The listener is a context variable: each job's thread has its own, and a
decode pass run in a helper thread (:func:`openvod.pipeline.prefetch.prefetch`) carries its creator's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_listener: ContextVar[Callable[[float], None] | None] = ContextVar("openvod_decode_progress", default=None)

# Fractions closer than this to the last one reported are not reported (a 2-hour file at 25 fps has
# 180,000 frames; the listener hears from at most ~200 of them).
STEP = 0.005


@contextmanager
def decode_progress(callback: Callable[[float], None]) -> Iterator[None]:
    """Decode passes started inside the block report their fraction done (0..1) to ``callback``."""
    token = _listener.set(callback)
    try:
        yield
    finally:
        _listener.reset(token)


class Reporter:
    """One decode pass's reports: ``at(t)`` with each decoded frame's time."""

    __slots__ = ("callback", "duration", "last")

    def __init__(self, duration: float):
        self.callback = _listener.get() if duration > 0 else None
        self.duration = duration
        self.last = 0.0

    def at(self, t: float) -> None:
        if self.callback is None:
            return
        f = min(1.0, max(0.0, t / self.duration))
        if f >= self.last + STEP or (f >= 1.0 > self.last):
            self.last = f
            self.callback(f)
