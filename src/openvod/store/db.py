"""Engine creation and schema set-up. SQLite (WAL) by default; any SQLAlchemy URL (PostgreSQL) when scaled out."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event, insert, select
from sqlalchemy.engine import make_url

from openvod.store import tables


def make_engine(url: str) -> Engine:
    """Create an engine tuned for many readers and a few writers across processes."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_size=32,
            max_overflow=64,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=16, max_overflow=32)


def init_schema(engine: Engine) -> None:
    """Create missing tables and record the schema version (idempotent, safe across processes)."""
    tables.metadata.create_all(engine, checkfirst=True)
    with engine.begin() as conn:
        row = conn.execute(select(tables.schema_info.c.version)).first()
        if row is None:
            conn.execute(insert(tables.schema_info).values(id=1, version=tables.SCHEMA_VERSION))
        elif row.version > tables.SCHEMA_VERSION:
            raise RuntimeError(
                f"database schema version {row.version} is newer than this openvod ({tables.SCHEMA_VERSION})"
            )
