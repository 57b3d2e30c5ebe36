"""Write a new Alembic revision from the difference between store/tables.py and the migrations.

    .venv/bin/python scripts/make-migration.py "what changed"
"""

import sys
import tempfile
from pathlib import Path

from alembic import command

from openvod.store.db import alembic_config, make_engine

with tempfile.TemporaryDirectory() as tmp:
    url = f"sqlite:///{Path(tmp) / 'm.db'}"
    engine = make_engine(url)
    cfg = alembic_config(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        command.revision(cfg, message=sys.argv[1] if len(sys.argv) > 1 else "change", autogenerate=True)
