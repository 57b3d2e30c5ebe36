"""media.cate_id and uploads.cate_id as BigInteger (CateId is a signed 64-bit Long on the wire)

Revision ID: d5e1c0a7b3f2
Revises: c4d1e7a95b20
Create Date: 2026-12-03 16:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'd5e1c0a7b3f2'
down_revision = 'c4d1e7a95b20'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The Actions accept any CateId in [-2**63, 2**63 - 1]; PostgreSQL's INTEGER is 32-bit, so any
    # CateId past 2**31 - 1 failed the INSERT/UPDATE with a 500 there. SQLite stores every INTEGER in
    # up to 8 bytes: there the change is the declared type only (batch mode recreates the tables; no
    # foreign key points at either).
    for table in ('media', 'uploads'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('cate_id', existing_type=sa.INTEGER(), type_=sa.BigInteger(),
                                  existing_nullable=True)


def downgrade() -> None:
    for table in ('uploads', 'media'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('cate_id', existing_type=sa.BigInteger(), type_=sa.INTEGER(),
                                  existing_nullable=True)
