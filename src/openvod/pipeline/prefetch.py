"""Run a decode pass in a helper thread, a few items ahead of its consumer (both release the GIL)."""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")


def prefetch(gen: Iterator[T], depth: int, name: str = "decode") -> Iterator[T]:
    """Yield ``gen``'s items, produced in a helper thread up to ``depth`` ahead; errors re-raised here."""
    if depth <= 0:
        yield from gen
        return
    q: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in gen:
                while not stop.is_set():
                    try:
                        q.put(("item", item), timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(("end", None))
        except BaseException as exc:  # handed to the consumer, raised there
            q.put(("error", exc))
        finally:
            close = getattr(gen, "close", None)
            if close is not None:
                close()

    # The helper runs in a copy of this thread's context, so context variables (the job's decode progress
    # listener, openvod.pipeline.progress) reach the decode pass.
    worker = threading.Thread(target=contextvars.copy_context().run, args=(produce,), name=name, daemon=True)
    worker.start()
    try:
        while True:
            kind, item = q.get()
            if kind == "end":
                break
            if kind == "error":
                raise item  # type: ignore[misc]
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        while worker.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                worker.join(0.05)
