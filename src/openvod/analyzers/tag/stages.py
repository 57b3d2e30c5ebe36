"""Helpers of one AIVideoTag analysis: per-analyzer timers, frame stages in worker threads, a throttle."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any


class Timer:
    """Wall seconds and CPU seconds of the calling thread, per analyzer."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.lock = threading.Lock()

    def add(self, key: str, dt: float, cpu: float = 0.0) -> None:
        with self.lock:
            self.seconds[key] = self.seconds.get(key, 0.0) + dt
            self.cpu[key] = self.cpu.get(key, 0.0) + cpu

    def timed(self, key: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        t0, c0 = time.monotonic(), time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            self.add(key, time.monotonic() - t0, time.thread_time() - c0)


class Stage:
    """Feeds frames to analyzers in a worker thread (inline when not parallel), in order."""

    def __init__(self, name: str, steps: Sequence[tuple[str, Callable[..., None]]], timer: Timer, parallel: bool):
        self.steps = steps
        self.timer = timer
        self.error: BaseException | None = None
        self.q: queue.Queue[Any] = queue.Queue(maxsize=6)
        self.thread = threading.Thread(target=self._loop, name=f"tag-{name}", daemon=True) if parallel else None
        if self.thread is not None:
            self.thread.start()

    def _apply(self, frame: Any) -> None:
        if self.error is not None:
            return  # after a failure, drain without work; the error is raised at close
        try:
            for key, fn in self.steps:
                self.timer.timed(key, fn, frame)
        except BaseException as exc:
            self.error = exc

    def _loop(self) -> None:
        while True:
            frame = self.q.get()
            if frame is None:
                return
            self._apply(frame)

    def put(self, frame: Any) -> None:
        if self.thread is None:
            self._apply(frame)
        else:
            self.q.put(frame)
        if self.error is not None:
            self.raise_error()

    def close(self) -> None:
        if self.thread is not None:
            self.q.put(None)
            self.thread.join()

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error


def throttled(fn: Callable[[], None], every_s: float) -> Callable[[], None]:
    """Call ``fn`` at most once per ``every_s`` (a heartbeat is a database write)."""
    last = [time.monotonic()]

    def call() -> None:
        now = time.monotonic()
        if now - last[0] >= every_s:
            last[0] = now
            fn()

    return call
