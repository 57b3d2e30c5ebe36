"""Child processes (workers, extra API processes) never outlive the server that started them.

Two independent channels, both set up before the child does anything else:

- **A pipe.** The server keeps the write end of a pipe per child and never writes to it; the child
  holds only the read end and a thread blocks on it. When the server dies, however it dies (kill -9
  included), the kernel closes the write end, the read returns EOF and the child exits at once.
  The write ends are not inheritable and children are started with the ``spawn`` method, so no
  sibling holds a copy that would keep the pipe open.
- **PR_SET_PDEATHSIG** (Linux, through ``prctl``): the kernel sends the child SIGKILL when the
  thread that started it exits. Children are therefore started only from a thread that lives as
  long as the pool (see ``WorkerPool``). Setting it is racy by nature (the server may already be
  dead when the child gets to it), so the child then checks that its parent is still the server's
  PID it was given, instead of trusting whatever parent it finds (PID 1 after a reparenting).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import threading
from typing import Any

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1


def set_parent_death_signal(sig: int = signal.SIGKILL) -> bool:
    """Ask Linux to send ``sig`` when the parent (thread) exits. False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _exit_on_eof(conn: Any, what: str) -> None:
    try:
        conn.poll(None)  # returns when the server's end is closed (nothing is ever sent)
    except (OSError, EOFError):
        pass
    os.write(2, f"openvod: the server process is gone; {what} exits\n".encode())
    os._exit(70)


def bind_to_parent(conn: Any, parent_pid: int, what: str = "worker") -> None:
    """Call first thing in a child: exit as soon as the server (``parent_pid``) is gone."""
    set_parent_death_signal(signal.SIGKILL)
    if os.getppid() != parent_pid:  # the server died before the death signal was armed
        os.write(2, f"openvod: the server process is gone; {what} exits\n".encode())
        os._exit(70)
    threading.Thread(target=_exit_on_eof, args=(conn, what), name="parent-watch", daemon=True).start()


def parent_alive(parent_pid: int) -> bool:
    """The cheap per-loop check: our parent is still the server's PID."""
    return os.getppid() == parent_pid
