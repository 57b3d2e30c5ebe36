"""Pieces of the scale-out end-to-end test: worker processes, the run log, reads compared across nodes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import REPO
from tests.procs import descendants
from tests.sdk import v1_request

DEDUPE_HEADER = "x-openvod-dedupe-key"


class Worker:
    """``openvod worker`` in its own session, so the whole process tree can be killed like a lost machine."""

    def __init__(self, name: str, data_dir: Path, env: dict[str, str], queues: str, concurrency: int = 2):
        self.name, self.data_dir, self.env, self.concurrency = name, data_dir, env, concurrency
        self.queues = queues
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.data_dir / f"worker-{int(time.time() * 1000)}.log", "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "openvod.cli", "worker", "--data-dir", str(self.data_dir),
             "--queues", self.queues, "--concurrency", str(self.concurrency), "--hostname", f"{self.name}@%h"],
            stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=REPO, start_new_session=True)
        return self

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        """Warm shutdown (running jobs finish first), then SIGKILL of the whole group if it lingers."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # pool children left behind, if any
        except ProcessLookupError:
            pass
        if self.proc.poll() is None:
            self.proc.wait(10)


def children(pid: int) -> set[int]:
    """``pid`` and every process below it."""
    return descendants(pid)


def runs(runlog: Path) -> list[tuple[str, int, float]]:
    """(job id, pid, time) of every job run start the test analyzers logged."""
    if not runlog.exists():
        return []
    out = []
    for line in runlog.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3:
            out.append((parts[0], int(parts[1]), float(parts[2])))
    return out


_URL = re.compile(r"https?://[^/\s\"]+(/[^?\s\"]*)(\?[^\s\"]*)?")


def signed_urls(value: Any) -> list[str]:
    """Every openvod-signed URL (``…?auth_key=…``) inside a decoded JSON answer."""
    found: list[str] = []
    if isinstance(value, dict):
        for v in value.values():
            found += signed_urls(v)
    elif isinstance(value, list):
        for v in value:
            found += signed_urls(v)
    elif isinstance(value, str):
        found += [m.group(0) for m in _URL.finditer(value) if m.group(2) and "auth_key=" in m.group(2)]
    return found


def normalized(value: Any) -> Any:
    """An answer without what legitimately differs per request and node: RequestId (and, in errors,
    HostId and the Recommend link that embeds the RequestId), and the host and signature of signed
    URLs (each node signs with its own public address and a fresh expiry)."""
    if isinstance(value, dict):
        return {k: normalized(v) for k, v in value.items() if k not in ("RequestId", "HostId", "Recommend")}
    if isinstance(value, list):
        return [normalized(v) for v in value]
    if isinstance(value, str):
        return _URL.sub(lambda m: m.group(1) if m.group(2) and "auth_key=" in m.group(2) else m.group(0), value)
    return value


def read_everywhere(nodes: list[Any], key: Any, reads: list[tuple[str, dict[str, str]]]) -> dict[str, Any]:
    """Each read Action on every node (V1-signed, as the old SDK sends it); asserts the answers agree and
    that every signed URL of node 0's answer downloads the same bytes from every node. Returns node 0's
    decoded answers by Action."""
    out: dict[str, Any] = {}
    for action, params in reads:
        answers = []
        for srv in nodes:
            r = v1_request(srv.url, key, action, params)
            answers.append((r.status_code, r.json()))
        first = answers[0]
        for srv, other in zip(nodes[1:], answers[1:]):
            assert (first[0], normalized(first[1])) == (other[0], normalized(other[1])), (
                f"{action} {params} differs between {nodes[0].url} and {srv.url}:\n{first}\n{other}")
        out[action] = first[1]
        for url in signed_urls(first[1]):
            path = url.split("://", 1)[1].split("/", 1)[1]
            got = [httpx.get(f"{srv.url}/{path}", timeout=60) for srv in nodes]
            assert all(g.status_code == 200 for g in got), (action, url, [g.status_code for g in got])
            assert len({g.content for g in got}) == 1, f"{url} downloads differently from the nodes"
    return out


def callback_keys(hits: list[Any]) -> dict[str, set[str]]:
    """Job id -> the dedupe keys its callback deliveries carried ("" where a delivery had none)."""
    keys: dict[str, set[str]] = {}
    for h in hits:
        headers = {k.lower(): v for k, v in h.headers.items()}
        keys.setdefault(str(h.body.get("JobId")), set()).add(headers.get(DEDUPE_HEADER, ""))
    return keys


def dedupe_header_shipped() -> bool:
    """Whether this tree's callback deliverer sends the dedupe header (helper scaleops adds it)."""
    import openvod.notify

    return any(DEDUPE_HEADER in p.read_text().lower() for p in Path(openvod.notify.__file__).parent.glob("*.py"))
