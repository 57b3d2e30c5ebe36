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
from openvod.logs import setup_logging
from openvod.notify.delivery import OutboxDeliverer
from openvod.runtime import Runtime

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
    )
    return uvicorn.Server(config)


def _quiet_signals(stop_signals: list[int]) -> None:
    # uvicorn re-raises the stop signal after its own shutdown; with these handlers that re-raise
    # returns to us instead of killing the process, so everything else stops cleanly.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: stop_signals.append(signum))


def _api_process_main(settings_json: str, nonce_args: tuple[str, int], nonce_lock: Any, wake: Any) -> None:
    """An extra API process: its own socket on the shared port, the shared nonce table."""
    settings = Settings.model_validate_json(settings_json)
    setup_logging(settings.log_level, settings.log_json)
    rt = Runtime(settings, migrate=False)
    rt.wake = wake.set
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
    """The extra API processes, restarted if they die."""

    def __init__(self, settings: Settings, n: int, nonces: SharedNonceStore, lock: Any, wake: Any):
        self.ctx = mp.get_context("spawn")
        self.args = (settings.model_dump_json(), nonces.attach_args(), lock, wake)
        self.n = n
        self.procs: list[Any] = []
        self._stop = threading.Event()

    def _spawn(self) -> Any:
        p = self.ctx.Process(target=_api_process_main, args=self.args, name="openvod-api", daemon=True)
        p.start()
        return p

    def start(self) -> None:
        self.procs = [self._spawn() for _ in range(self.n)]
        threading.Thread(target=self._supervise, name="api-supervisor", daemon=True).start()

    def _supervise(self) -> None:
        while not self._stop.wait(1.0):
            for i, p in enumerate(self.procs):
                if not p.is_alive() and not self._stop.is_set():
                    log.warning("API process died; restarting it", extra={"exitcode": p.exitcode})
                    self.procs[i] = self._spawn()

    def stop(self) -> None:
        self._stop.set()
        for p in self.procs:
            if p.is_alive():
                p.terminate()
        for p in self.procs:
            p.join(10)
            if p.is_alive():
                p.kill()


def serve(settings: Settings) -> None:
    setup_logging(settings.log_level, settings.log_json)
    rt = Runtime(settings)
    key = rt.accounts.bootstrap()
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
