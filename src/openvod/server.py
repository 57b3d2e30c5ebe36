"""``openvod serve``: API server, in-process worker pool, reaper and callback deliverer in one command."""

from __future__ import annotations

import json
import logging
import signal
import sys

import uvicorn

from openvod.app import OpenVodApp
from openvod.config import Settings
from openvod.engine.inprocess import WorkerPool
from openvod.logs import setup_logging
from openvod.notify.delivery import OutboxDeliverer
from openvod.runtime import Runtime

log = logging.getLogger(__name__)


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
    app = OpenVodApp(rt)
    config = uvicorn.Config(
        app,
        host=settings.api.host,
        port=settings.api.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    # uvicorn re-raises the stop signal after its own shutdown; with these handlers that re-raise
    # returns here instead of killing the process, so the workers and the outbox stop cleanly.
    stop_signals: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: stop_signals.append(signum))
    try:
        server.run()
    finally:
        log.info("shutting down")
        deliverer.stop()
        pool.stop()
        rt.close()
    sys.stdout.flush()
