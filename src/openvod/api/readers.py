"""Read processes: the Actions whose answers grow with an account's data (ListAITemplate, GetVideoList,
SearchMedia, ...) run their handler and build their response body in a separate process.

Why: the API process serves every tenant's polling on one interpreter. A big read is milliseconds of
pure Python (rows to dicts, timestamps to text, JSON), and while a pool thread runs it, it holds the
interpreter lock against the event loop that answers other tenants' ListAIJob; every time the loop
gives the lock up (a socket write, a database call) it waits up to the switch interval to get it back.
In a read process that work competes with the event loop only for a CPU, which the kernel shares
preemptively, at a much finer grain, and favours the loop (it sleeps most of the time).

What stays in the API process: parsing, authentication, the nonce, throttling and the per-key gate
(one pool thread per key waits on the read process, releasing the lock while it waits), so security
checks and replay protection are exactly those of every other request. The read process gets only
the authenticated account, the parameters and the request id, runs the registered handler, and
sends back the rendered body (JSON or XML) or the error (code, message, status).

Children never outlive the server: each is bound to it the way workers are (``engine.liveness``: a
pipe whose write end only the server holds, watched for EOF from the child's first instruction on;
PR_SET_PDEATHSIG; the parent-PID check while starting), and they are started only from one supervisor
thread that lives until :meth:`ReadProcesses.stop`. A child that dies (or hangs) is replaced by that
thread; the request it was running is answered in-process instead.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import queue
import threading
import traceback
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openvod.config import Settings

log = logging.getLogger(__name__)


class ReaderUnavailable(Exception):
    """No read process could answer (not started, or it died): run the handler in-process."""


def _set_comm(name: bytes) -> None:
    """Name the process (``/proc/<pid>/comm``, ``ps -o comm``) so operators and tests can tell it apart."""
    try:
        import ctypes
        import ctypes.util

        ctypes.CDLL(ctypes.util.find_library("c") or None).prctl(15, ctypes.c_char_p(name[:15]), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _reader_main(conn: Any, alive: Any, settings_json: str, parent_pid: int) -> None:
    from openvod.engine.liveness import bind_to_parent

    bind_to_parent(alive, parent_pid, "read process")  # first of all: never outlive the server
    _set_comm(b"openvod-reader")
    from openvod import errors
    from openvod.api import actions  # noqa: F401  (registers every Action)
    from openvod.api.params import Params
    from openvod.api.render import to_json, to_xml
    from openvod.api.rpc import ACTIONS, Ctx
    from openvod.config import Settings
    from openvod.logs import setup_logging
    from openvod.runtime import Runtime
    from openvod.storage.health import disk_fault

    settings = Settings.model_validate_json(settings_json)
    setup_logging(settings.log_level, settings.log_json)
    rt = Runtime(settings, migrate=False)
    conn.send(("ready",))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):  # the server is gone (or closed us): exit
            os._exit(0)
        action, account_id, access_key_id, rid, base_url, params, want_json = msg
        try:
            result = ACTIONS[action](Ctx(rt, account_id, access_key_id, rid, base_url, Params(params)))
            body = {"RequestId": rid, **result}
            out: tuple[Any, ...] = ("ok", to_json(body) if want_json else to_xml(f"{action}Response", body))
        except errors.VodError as exc:
            out = ("err", exc.message, exc.code, exc.http_status)
        except Exception as exc:
            fault = disk_fault(exc)
            out = ("fault", fault) if fault else ("crash", traceback.format_exc(limit=8))
        try:
            conn.send(out)
        except (OSError, ValueError):
            os._exit(0)


class _Child:
    def __init__(self, proc: Any, conn: Any, alive_w: Any):
        self.proc, self.conn, self.alive_w = proc, conn, alive_w
        self.ready = False
        self.broken = False


class ReadProcesses:
    """``n`` read processes; :meth:`call` blocks the calling (pool) thread until one has answered."""

    def __init__(self, settings: Settings, n: int):
        self.ctx = mp.get_context("spawn")
        self.settings_json = settings.model_dump_json()
        self.n = n
        self._free: queue.Queue[_Child] = queue.Queue()
        self._all: list[_Child] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.enabled = False
        self.started = False
        self.answer_timeout_s = 300.0
        self.tick_s = 0.2

    def _spawn(self) -> _Child:
        """Only ever called on the supervisor thread (the child's PR_SET_PDEATHSIG is tied to it)."""
        here, there = self.ctx.Pipe(duplex=True)
        alive_r, alive_w = self.ctx.Pipe(duplex=False)
        p = self.ctx.Process(target=_reader_main, args=(there, alive_r, self.settings_json, os.getpid()),
                             name="openvod-reader", daemon=True)
        p.start()
        there.close()  # only the child holds these ends: it sees EOF when this process dies
        alive_r.close()
        return _Child(p, here, alive_w)

    def enable(self) -> None:
        """Allow starting the read processes (the server's lifespan startup). They start on the first
        offloaded request, so a server that never serves a big read never pays for them; that first
        request is answered in-process."""
        self.enabled = True

    def start(self) -> None:
        with self._lock:
            if self.started or self._stop.is_set() or not self.enabled:
                return
            self.started = True
        self._thread = threading.Thread(target=self._supervise, name="reader-supervisor", daemon=True)
        self._thread.start()

    def _supervise(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                children = list(self._all)
            for c in children:
                if c.broken or not c.proc.is_alive():
                    if c.ready and not c.broken:
                        log.warning("read process died; replacing it", extra={"exitcode": c.proc.exitcode})
                    self._discard(c)
                elif not c.ready:
                    try:
                        if c.conn.poll(0) and c.conn.recv() == ("ready",):
                            c.ready = True
                            self._free.put(c)
                    except (EOFError, OSError):
                        self._discard(c)
            with self._lock:
                missing = 0 if self._stop.is_set() else self.n - len(self._all)
            for _ in range(missing):
                c = self._spawn()
                with self._lock:
                    self._all.append(c)
            self._stop.wait(self.tick_s)

    def _discard(self, c: _Child) -> None:
        c.broken = True  # if it is still in the free queue, call() skips it
        with self._lock:
            self._all = [x for x in self._all if x is not c]
        for closing in (c.conn, c.alive_w):
            try:
                closing.close()
            except OSError:
                pass
        if c.proc.is_alive():
            c.proc.kill()
        c.proc.join(1)

    def call(self, action: str, account_id: str, access_key_id: str, rid: str, base_url: str,
             params: dict[str, str], want_json: bool, wait_s: float = 5.0) -> tuple[Any, ...]:
        """The child's answer: ("ok", payload) | ("err", message, code, status) | ("fault", what) |
        ("crash", traceback). ReaderUnavailable when none is ready within ``wait_s``, or it died or hung
        (it is then replaced)."""
        if not self.started:
            self.start()
            raise ReaderUnavailable()  # starting: this request is answered in-process
        if self._stop.is_set():
            raise ReaderUnavailable()
        while True:
            try:
                c = self._free.get(timeout=wait_s)
            except queue.Empty:
                raise ReaderUnavailable() from None
            if not c.broken:
                break
        try:
            c.conn.send((action, account_id, access_key_id, rid, base_url, params, want_json))
            if not c.conn.poll(self.answer_timeout_s):  # wedged: replace it rather than wait for ever
                raise TimeoutError("no answer")
            out: tuple[Any, ...] = c.conn.recv()
        except (EOFError, OSError, ValueError):  # (TimeoutError is an OSError)
            log.warning("read process died or hung; replacing it", extra={"exitcode": c.proc.exitcode})
            c.broken = True  # the supervisor replaces it
            raise ReaderUnavailable() from None
        self._free.put(c)
        return out

    def pids(self) -> list[int]:
        with self._lock:
            return [c.proc.pid for c in self._all if c.proc.pid]

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        with self._lock:
            children, self._all = list(self._all), []
        for c in children:
            for closing in (c.conn, c.alive_w):
                try:
                    closing.close()  # EOF: the child exits
                except OSError:
                    pass
        for c in children:
            c.proc.join(5)
            if c.proc.is_alive():
                c.proc.kill()
                c.proc.join(1)
