"""The migrations and store/tables.py describe the same schema (a table change needs a migration:
``.venv/bin/python scripts/make-migration.py "what changed"``)."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from openvod.store.db import init_schema, make_engine
from openvod.store.tables import metadata


def test_migrations_match_tables(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    init_schema(engine)
    init_schema(engine)  # idempotent
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
