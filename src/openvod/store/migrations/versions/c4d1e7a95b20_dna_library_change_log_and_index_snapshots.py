"""dna library change log, versions and index snapshots

Revision ID: c4d1e7a95b20
Revises: b0d0457f8713
Create Date: 2026-12-03 15:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = 'c4d1e7a95b20'
down_revision = 'b0d0457f8713'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite reuses the largest rowid after it was deleted (a video replaced right after it was added
    # got its old row id back); the change log names rows by id, so ids must never come back:
    # AUTOINCREMENT (PostgreSQL sequences never reuse ids already).
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table('dna_videos', recreate='always',
                                  table_kwargs={'sqlite_autoincrement': True}) as batch_op:
            batch_op.alter_column('id', existing_type=sa.Integer(), autoincrement=True)
    op.create_table('dna_library_versions',
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('db_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'db_id')
    )
    op.create_table('dna_library_log',
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('db_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('op', sa.String(length=8), nullable=False),
    sa.Column('row_id', sa.BigInteger(), nullable=False),
    sa.Column('media_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'db_id', 'version')
    )
    op.create_table('dna_index_snapshots',
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('db_id', sa.String(length=64), nullable=False),
    sa.Column('fp_version', sa.String(length=64), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('blob_key', sa.String(length=512), nullable=False),
    sa.Column('videos', sa.Integer(), nullable=False),
    sa.Column('codes', sa.BigInteger(), nullable=False),
    sa.Column('bytes', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'db_id', 'fp_version')
    )


def downgrade() -> None:
    op.drop_table('dna_index_snapshots')
    op.drop_table('dna_library_log')
    op.drop_table('dna_library_versions')
