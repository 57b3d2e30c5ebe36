"""A callback receiver for tests: an HTTP server on a free local port that records every POST."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple


class Hit(NamedTuple):
    at: float  # time.monotonic() when the request arrived
    code: int  # the status answered
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


class CallbackReceiver:
    """Records each POST's JSON body; answers HTTP 500 to the first ``fail_first`` requests, 200 after."""

    def __init__(self, fail_first: int = 0, host: str = "127.0.0.1", port: int = 0, path: str = "/cb"):
        self.fail_first = fail_first
        self.requests: list[Hit] = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                code = 500 if len(outer.requests) < outer.fail_first else 200
                outer.requests.append(Hit(time.monotonic(), code, self.path, dict(self.headers), json.loads(body)))
                self.send_response(code)
                self.end_headers()

            def log_message(self, *a: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, port), H)
        self.port = self.httpd.server_address[1]
        self.url = f"http://{host}:{self.port}{path}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [h.body for h in self.requests]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
