"""Private brokers for the scale-out tests: a Redis and a RabbitMQ node of the test's own, on free ports.

The machine's shared Redis (6379) and RabbitMQ (5672) serve other users; a test that restarts its
broker mid-run must not touch them. ``PrivateRedis`` is ``redis-server --save '' --appendonly no``
(a restart loses every message: the sweep must publish lost wake-ups again). ``PrivateRabbit`` is
a second RabbitMQ node (``openvod-test-<port>@localhost``) with its own data, log, plugin and config
files under the test's tmp folder; it registers with the machine's epmd like any other node (where
none runs, Erlang starts one, and it outlives the test, as it would for any Erlang node). It is
started with the server script below ``/usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin`` (the wrapper on
PATH switches to the ``rabbitmq`` user) and stopped with SIGTERM (the Erlang VM shuts down cleanly:
durable queues and persistent messages survive a restart, as with a real broker restart).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.seaweed import _free_ports


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"broker exited ({proc.returncode}):\n{_tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"broker did not listen on {port} within {timeout}s:\n{_tail(log)}")


def _tail(path: Path, n: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return ""


def _stop_group(proc: subprocess.Popen[bytes] | None, timeout: float = 30.0) -> None:
    """SIGTERM the broker's process group, SIGKILL it after ``timeout``."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    # The Erlang VM may outlive the script that started it for a moment.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class PrivateBroker:
    kind = ""
    port = 0
    root: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        raise NotImplementedError

    def start(self) -> PrivateBroker:
        raise NotImplementedError

    def stop(self) -> None:
        _stop_group(self.proc)
        self.proc = None

    def restart(self, down_s: float = 2.0) -> float:
        """Stop, stay down ``down_s``, start again on the same port; the seconds it was unreachable."""
        t0 = time.monotonic()
        self.stop()
        time.sleep(down_s)
        self.start()
        return time.monotonic() - t0


class PrivateRedis(PrivateBroker):
    kind = "redis"

    def __init__(self, root: Path):
        self.root = Path(root)
        self.port = _free_ports(1)[0]

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        self.root.mkdir(parents=True, exist_ok=True)
        log = self.root / "redis.log"
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.root), "--daemonize", "no", "--logfile", str(log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
        _wait_port(self.port, self.proc, log, 30)
        return self


def _rabbit_sbin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin/rabbitmq-server"))
    return Path(found[-1]).parent if found else None


class PrivateRabbit(PrivateBroker):
    kind = "rabbitmq"

    def __init__(self, root: Path):
        self.root = Path(root)
        self.port, self.dist_port = _free_ports(2)
        self.node = f"openvod-test-{self.port}@localhost"

    @staticmethod
    def available() -> bool:
        return _rabbit_sbin() is not None and shutil.which("erl") is not None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def env(self) -> dict[str, str]:
        r = self.root
        return {
            **os.environ,
            "HOME": str(r),  # the node's own Erlang cookie
            "RABBITMQ_CONF_ENV_FILE": str(r / "rabbitmq-env.conf"),  # not /etc/rabbitmq's (it names the shared node)
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(r / "mnesia"),
            "RABBITMQ_LOG_BASE": str(r / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(r / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(r / "rabbitmq.conf"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }

    def start(self) -> PrivateRabbit:
        sbin = _rabbit_sbin()
        assert sbin is not None
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "rabbitmq-env.conf").write_text("")
        (self.root / "enabled_plugins").write_text("[].\n")
        (self.root / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{self.port}\nloopback_users = none\n")
        log = self.root / "server.log"
        self.proc = subprocess.Popen([str(sbin / "rabbitmq-server")], stdout=open(log, "ab"),
                                     stderr=subprocess.STDOUT, env=self.env(), cwd=self.root, start_new_session=True)
        _wait_port(self.port, self.proc, log, 120)
        return self


def private_broker(kind: str, root: Path) -> PrivateBroker | None:
    """A started private broker of ``kind``, or None where this machine cannot run one."""
    cls = PrivateRedis if kind == "redis" else PrivateRabbit
    if not cls.available():
        return None
    b = cls(root)
    try:
        return b.start()
    except RuntimeError:
        b.stop()
        raise


def reachable(url: str) -> bool:
    """True when a Celery broker (Redis or AMQP URL) accepts a connection within a few seconds."""
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=3) as c:
            c.ensure_connection(max_retries=1)
        return True
    except Exception:
        return False
