"""``openvod serve``: API server(s), in-process worker pool, reaper and callback deliverer in one command.

With ``api.processes`` > 1 the RPC endpoint is served by that many processes, each with its own
listening socket on the same port (SO_REUSEPORT, so the kernel spreads connections) and one
shared-memory nonce table, so replay protection holds across them. The main process also owns the
worker pool and the callback deliverer.
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import signal
import socket
import sys
import threading
from typing import Any

import uvicorn

from openvod.api.nonces import MemoryNonceStore, NonceStore, SharedNonceStore
from openvod.app import OpenVodApp
from openvod.config import Settings
from openvod.engine.inprocess import WorkerPool
from openvod.engine.liveness import bind_to_parent
from openvod.logs import setup_logging
from openvod.notify.delivery import OutboxDeliverer
from openvod.runtime import Runtime
from openvod.services.ai_images import WILDCARD_HOSTS
from openvod.storage.health import DataDirError, disk_fault, ensure_writable

log = logging.getLogger(__name__)


def _listen(host: str, port: int, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _uvicorn(app: Any, settings: Settings) -> uvicorn.Server:
    config = uvicorn.Config(
        app, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=5,
        host=settings.api.host, port=settings.api.port,
        # The client address is the TCP peer: X-Forwarded-For is believed only from audit.trusted_proxies
        # (services/audit_ips.py), never by uvicorn's default trust of 127.0.0.1 / FORWARDED_ALLOW_IPS.
        proxy_headers=False,
    )
    return uvicorn.Server(config)


def _quiet_signals(stop_signals: list[int]) -> None:
    # uvicorn re-raises the stop signal after its own shutdown; with these handlers that re-raise
    # returns to us instead of killing the process, so everything else stops cleanly.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: stop_signals.append(signum))


def _api_process_main(
    settings_json: str, nonce_args: tuple[str, int], nonce_lock: Any, wake: Any, alive: Any = None, parent_pid: int = 0
) -> None:
    """An extra API process: its own socket on the shared port, the shared nonce table."""
    if alive is not None:  # first of all: never outlive the main server process (engine/liveness.py)
        bind_to_parent(alive, parent_pid, "API process")
    settings = Settings.model_validate_json(settings_json)
    setup_logging(settings.log_level, settings.log_json)
    rt = Runtime(settings, migrate=False)
    rt.wake = lambda *_job_ids: wake.set()
    name, slots = nonce_args
    nonces = SharedNonceStore(nonce_lock, slots=slots, name=name)
    sock = _listen(settings.api.host, settings.api.port, reuse_port=True)
    stop_signals: list[int] = []
    _quiet_signals(stop_signals)
    try:
        _uvicorn(OpenVodApp(rt, nonces=nonces), settings).run(sockets=[sock])
    finally:
        nonces.close()
        rt.close()


class ApiProcesses:
    """The extra API processes, restarted if they die.

    They are started only from the supervisor thread, which lives until :meth:`stop` has finished
    (their PR_SET_PDEATHSIG fires when the thread that started them exits).
    """

    def __init__(self, settings: Settings, n: int, nonces: SharedNonceStore, lock: Any, wake: Any):
        self.ctx = mp.get_context("spawn")
        self.args = (settings.model_dump_json(), nonces.attach_args(), lock, wake)
        self.n = n
        self.procs: list[Any] = []
        self._alive_w: list[Any] = []
        self._stop = threading.Event()
        self._closed = threading.Event()
        self._started = threading.Event()
        self._thread: threading.Thread | None = None

    def _spawn(self) -> tuple[Any, Any]:
        alive_r, alive_w = self.ctx.Pipe(duplex=False)
        p = self.ctx.Process(
            target=_api_process_main, args=(*self.args, alive_r, os.getpid()), name="openvod-api", daemon=True
        )
        p.start()
        alive_r.close()
        return p, alive_w

    def start(self) -> None:
        self._thread = threading.Thread(target=self._supervise, name="api-supervisor", daemon=True)
        self._thread.start()
        self._started.wait(120)

    def _supervise(self) -> None:
        try:
            for _ in range(self.n):
                p, w = self._spawn()
                self.procs.append(p)
                self._alive_w.append(w)
        finally:
            self._started.set()
        while not self._closed.wait(1.0):
            for i, p in enumerate(self.procs):
                if not p.is_alive() and not self._stop.is_set():
                    log.warning("API process died; restarting it", extra={"exitcode": p.exitcode})
                    self._alive_w[i].close()
                    self.procs[i], self._alive_w[i] = self._spawn()

    def stop(self) -> None:
        self._stop.set()
        for p in self.procs:
            if p.is_alive():
                p.terminate()
        for p in self.procs:
            p.join(10)
            if p.is_alive():
                p.kill()
        for w in self._alive_w:
            w.close()
        self._closed.set()
        if self._thread:
            self._thread.join(2)


def open_runtime(settings: Settings, bootstrap: bool = False) -> tuple[Runtime, Any]:
    """The runtime (and the first start's key), or exit with one line when the data folder cannot be written."""
    try:
        ensure_writable(settings.data_dir)
        rt = Runtime(settings)
        return rt, (rt.accounts.bootstrap() if bootstrap else None)
    except DataDirError as exc:
        raise SystemExit(f"openvod: {exc}") from None
    except Exception as exc:
        fault = disk_fault(exc)
        if not fault:
            raise
        raise SystemExit(f"openvod: cannot use the data folder {settings.data_dir.resolve()}: {fault}") from None


def serve(settings: Settings) -> None:
    setup_logging(settings.log_level, settings.log_json)
    rt, key = open_runtime(settings, bootstrap=True)
    endpoint = f"{settings.api.host}:{settings.api.port}"
    if key:
        print(
            "openvod: first start, created account 'default' with this AccessKey pair (keep the secret safe):\n"
            + json.dumps({"AccessKeyId": key.access_key_id, "AccessKeySecret": key.secret}),
            flush=True,
        )
    n_api = max(1, settings.api.processes)
    sock = _listen(settings.api.host, settings.api.port, reuse_port=n_api > 1)
    print(
        f"openvod: endpoint {endpoint} (protocol http); data in {settings.data_dir.resolve()}; "
        f"analyzers: {', '.join(rt.analyzers.types()) or 'none installed'}",
        flush=True,
    )
    if settings.api.host in WILDCARD_HOSTS and not settings.api.public_url:
        print(
            f"openvod: note: listening on {settings.api.host or 'all addresses'} without api.public_url: URLs "
            "that jobs write into results (FaceUrl, AI image URLs) use 127.0.0.1; set OPENVOD_API__PUBLIC_URL "
            "to the address clients reach",
            flush=True,
        )
    pool = WorkerPool(rt)
    rt.wake = pool.wake
    pool.start()
    deliverer = OutboxDeliverer(rt)
    deliverer.start()
    nonces: NonceStore
    extra: ApiProcesses | None = None
    if n_api > 1:
        lock = mp.get_context("spawn").Lock()
        nonces = SharedNonceStore(lock, slots=settings.api.nonce_slots)
        extra = ApiProcesses(settings, n_api - 1, nonces, lock, pool.wake_event)
        extra.start()
    else:
        nonces = MemoryNonceStore()
    stop_signals: list[int] = []
    _quiet_signals(stop_signals)
    try:
        _uvicorn(OpenVodApp(rt, nonces=nonces), settings).run(sockets=[sock])
    finally:
        log.info("shutting down")
        if extra:
            extra.stop()
        deliverer.stop()
        pool.stop()
        if isinstance(nonces, SharedNonceStore):
            nonces.close()
        rt.close()
    sys.stdout.flush()
