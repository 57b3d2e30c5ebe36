"""Shared fixtures: a real ``openvod serve`` subprocess on 127.0.0.1, keys, SDK clients, synthetic media."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import settings as hypothesis_settings

from tests.media import make_video

REPO = Path(__file__).resolve().parent.parent

# In CI (``CI`` set) property tests draw the same examples on every run: a rare failing example found by
# chance must not turn one commit red and the next green (a PiP box test did, at seed 1). Locally they
# stay random, and a failure found there gets its own test.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# OPENVOD_TEST_DATABASE=postgresql runs every ``Server`` and ``run_cli`` of the suite on PostgreSQL
# (OPENVOD_TEST_PG_URL, default the local server's `test` database): each data folder gets its own
# fresh database (named after the folder), dropped at the end of the session. Default: SQLite files.
TEST_DATABASE = os.environ.get("OPENVOD_TEST_DATABASE", "sqlite")
PG_URL = os.environ.get("OPENVOD_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_PG_DATABASES: set[str] = set()


def pg_database(name: str) -> str:
    """Create (once) a PostgreSQL database ``name`` next to PG_URL's and return its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(PG_URL)
    if name not in _PG_DATABASES:
        with psycopg.connect(base.set(drivername="postgresql").render_as_string(hide_password=False),
                             autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
        _PG_DATABASES.add(name)
    return base.set(database=name).render_as_string(hide_password=False)


def drop_pg_databases() -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(base, autocommit=True) as conn:
        for name in sorted(_PG_DATABASES):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _PG_DATABASES.clear()


def db_env(data_dir: Path) -> dict[str, str]:
    """The environment that points a process using ``data_dir`` at its database (nothing for SQLite)."""
    if TEST_DATABASE != "postgresql":
        return {}
    import hashlib

    digest = hashlib.sha1(str(Path(data_dir).resolve()).encode()).hexdigest()[:16]
    return {"OPENVOD_DATABASE_URL": pg_database(f"ovt_{digest}")}


def settings_db(data_dir: Path) -> str:
    """``database_url`` for an in-process ``Settings(data_dir=...)``: "" (its SQLite file) or, in
    PostgreSQL mode, the fresh database of that folder."""
    return db_env(data_dir).get("OPENVOD_DATABASE_URL", "")


def db_url(data_dir: Path) -> str:
    """The SQLAlchemy URL of the database a server on ``data_dir`` uses."""
    return db_env(data_dir).get("OPENVOD_DATABASE_URL") or f"sqlite:///{(Path(data_dir) / 'openvod.db').resolve()}"


class _PgCompat:
    """A psycopg connection that takes sqlite3-style ``?`` placeholders (tests' raw SQL runs on both)."""

    def __init__(self, url: str):
        import psycopg
        from sqlalchemy.engine import make_url

        self.conn = psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False),
                                    autocommit=True)

    def execute(self, sql: str, params: Any = ()) -> Any:
        return self.conn.execute(sql.replace("?", "%s"), tuple(params))

    def executemany(self, sql: str, rows: Any) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(sql.replace("?", "%s"), [tuple(r) for r in rows])

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> _PgCompat:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.conn.close()


def db_connect(data_dir: Path) -> Any:
    """A DB-API connection to a server's database: sqlite3 by default, psycopg in PostgreSQL mode."""
    import sqlite3

    env = db_env(data_dir)
    if env:
        return _PgCompat(env["OPENVOD_DATABASE_URL"])
    return sqlite3.connect(Path(data_dir) / "openvod.db", timeout=30)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _PG_DATABASES:
        drop_pg_databases()


def run_cli(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openvod.cli", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env={**os.environ, **db_env(data_dir), **(env or {})},
        cwd=REPO,
        timeout=120,
        check=False,
    )


@dataclass
class Key:
    """An AccessKey pair."""

    id: str
    secret: str


@dataclass
class Server:
    """A running ``openvod serve`` subprocess."""

    data_dir: Path
    port: int
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    args: list[str] = field(default_factory=list)  # extra ``serve`` flags (e.g. --role api)

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> Server:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.data_dir / f"server-{int(time.time() * 1000)}.log"
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "OPENVOD_PLUGINS": '["tests.plugins:register"]',
            "OPENVOD_ENGINE__WORKERS": "2",
            "OPENVOD_ENGINE__LEASE_S": "4",
            "OPENVOD_ENGINE__HEARTBEAT_S": "1",
            "OPENVOD_ENGINE__REAPER_INTERVAL_S": "0.5",
            "OPENVOD_ENGINE__POLL_INTERVAL_S": "0.2",
            "OPENVOD_CALLBACKS__ALLOW_PRIVATE_TARGETS": "true",
            "OPENVOD_CALLBACKS__BACKOFF_INITIAL_S": "0.2",
            "OPENVOD_CALLBACKS__BACKOFF_FACTOR": "1.5",
            "OPENVOD_CALLBACKS__POLL_INTERVAL_S": "0.1",
            "OPENVOD_MEDIA__ALLOW_PRIVATE_URLS": "true",
            "OPENVOD_MEDIA__ALLOWED_ROOTS": json.dumps([str(self.data_dir.parent)]),
            "OPENVOD_TEST_RUNLOG": str(self.data_dir / "runs.log"),
            **db_env(self.data_dir),
            **self.env,
        }
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "openvod.cli", "serve", "--data-dir", str(self.data_dir), "--port", str(self.port),
             *self.args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=REPO,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not start:\n{self.log_path.read_text()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def key(self, account: str = "default") -> Key:
        r = run_cli(self.data_dir, "keys", "create", "--account", account, "--json")
        assert r.returncode == 0, r.stderr
        d = json.loads(r.stdout)
        return Key(d["AccessKeyId"], d["AccessKeySecret"])

    def worker_pids(self) -> list[int]:
        """PIDs of this server's worker processes (children of the server process)."""
        assert self.proc is not None
        out = subprocess.run(["ps", "-o", "pid=,ppid=,args=", "-A"], capture_output=True, text=True).stdout
        pids = []
        for line in out.splitlines():
            parts = line.split(None, 2)
            if len(parts) == 3 and int(parts[1]) == self.proc.pid and "multiprocessing" in parts[2]:
                pids.append(int(parts[0]))
        return pids


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("srv")
    srv = Server(root / "data", free_port()).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def key(server: Server) -> Key:
    return server.key("alice")


@pytest.fixture(scope="session")
def other_key(server: Server) -> Key:
    return server.key("bob")


@pytest.fixture(scope="session")
def media_dir(server: Server) -> Path:
    d = server.data_dir.parent / "media"
    d.mkdir(exist_ok=True)
    return d


@pytest.fixture(scope="session")
def video(media_dir: Path) -> Path:
    return make_video(media_dir / "clip.mp4", seconds=2.0, audio=True)


def wait_for(fn: Any, timeout: float = 60.0, interval: float = 0.2) -> Any:
    """Poll ``fn`` until it returns a truthy value."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last value {last!r})")
