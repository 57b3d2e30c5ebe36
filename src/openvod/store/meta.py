"""The SQLAlchemy ``MetaData`` every table of the schema belongs to (store/tables*.py)."""

from __future__ import annotations

from sqlalchemy import MetaData

metadata = MetaData()
