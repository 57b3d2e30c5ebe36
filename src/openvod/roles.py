"""Scaled-out roles (docs/scale-out.md): ``openvod serve --role api`` and ``openvod worker``.

``serve`` with no role stays the all-in-one embedded server (server.py). An API node serves the RPC
endpoint, the object endpoint and signed blob URLs, delivers callbacks (outbox claims are
compare-and-set, so several nodes share the work), and publishes a Celery wake-up for each job it
accepts; one API node at a time also runs the job sweep. Workers run jobs from their queues.
"""

from __future__ import annotations

import json
import logging
import sys

from openvod.config import Settings
from openvod.logs import setup_logging

log = logging.getLogger(__name__)

ROLES = ("all", "api")


def with_role(settings: Settings, role: str) -> Settings:
    return settings.model_copy(update={"scale": settings.scale.model_copy(update={"role": role})})


def serve_api(settings: Settings) -> None:
    """One API node: RPC + blobs + callbacks + Celery publisher (+ the sweep when elected)."""
    from openvod.api import nonce_store
    from openvod.app import OpenVodApp
    from openvod.engine.celery_app import Dispatcher
    from openvod.notify.delivery import OutboxDeliverer
    from openvod.server import _listen, _quiet_signals, _uvicorn, open_runtime

    settings = with_role(settings, "api")
    setup_logging(settings.log_level, settings.log_json)
    if settings.api.processes > 1:
        print("openvod: note: --role api runs one process; start more API nodes instead of api.processes",
              file=sys.stderr, flush=True)
    rt, key = open_runtime(settings, bootstrap=True)
    if key:
        print("openvod: first start, created account 'default' with this AccessKey pair (keep the secret safe):\n"
              + json.dumps({"AccessKeyId": key.access_key_id, "AccessKeySecret": key.secret}), flush=True)
    dispatcher = Dispatcher(rt)
    rt.wake = dispatcher.wake
    dispatcher.start()
    deliverer = OutboxDeliverer(rt)
    deliverer.start()
    sock = _listen(settings.api.host, settings.api.port, reuse_port=False)
    print(f"openvod: API node on {settings.api.host}:{settings.api.port} (protocol http); database "
          f"{rt.engine.url.render_as_string(hide_password=True)}; blobs {settings.blobs.backend}; broker "
          f"{settings.scale.broker_url.split('@')[-1]}; nonces {settings.scale.nonce_store}", flush=True)
    app = OpenVodApp(rt)
    nonce_store.install(app, settings)
    stop_signals: list[int] = []
    _quiet_signals(stop_signals)
    try:
        _uvicorn(app, settings).run(sockets=[sock])
    finally:
        log.info("shutting down")
        deliverer.stop()
        dispatcher.stop()
        rt.close()
    sys.stdout.flush()


def worker(settings: Settings, queues: list[str], concurrency: int, hostname: str = "", pool: str = "prefork") -> None:
    """A Celery worker on ``queues`` (engine/celery_app.py)."""
    from openvod.engine.celery_app import run_worker
    from openvod.runtime import Runtime

    setup_logging(settings.log_level, settings.log_json)
    run_worker(settings, Runtime, queues, concurrency, hostname=hostname, loglevel=settings.log_level, pool=pool)
