"""The fingerprint-library tables (AIMediaDNA): videos, their change log, and index snapshots.

Part of the one schema of ``openvod.store.tables`` (which imports them; same ``metadata``).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, LargeBinary, String, Table, UniqueConstraint

from openvod.store.meta import metadata

# Video fingerprint libraries (AIMediaDNA). One row per video per library, written in one statement
# (a killed job leaves either the whole fingerprint or none). ``codes`` feeds each worker's in-memory
# ANN index (built from here, or from a snapshot plus the change log below); ``fingerprint`` is read
# only for candidates being verified.
dna_videos = Table(
    "dna_videos",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(32), nullable=False),
    Column("db_id", String(64), nullable=False, default=""),  # DNADBId; "" = the account's default library
    Column("media_id", String(32), nullable=False),
    Column("job_id", String(32), nullable=False, default=""),
    Column("version", String(64), nullable=False),  # fingerprint format + options; others are ignored
    Column("duration", Float, nullable=False),
    Column("n_codes", Integer, nullable=False),
    Column("codes", LargeBinary, nullable=False),  # uint8[n_codes, 8]
    Column("fingerprint", LargeBinary, nullable=False),  # Fingerprint.to_bytes()
    Column("created_at", Float, nullable=False),
    UniqueConstraint("account_id", "db_id", "media_id", name="uq_dna_videos_media"),
    Index("ix_dna_videos_library", "account_id", "db_id", "version", "id"),
    sqlite_autoincrement=True,  # row ids never come back (the change log names rows by id)
)

# Change log of each fingerprint library (account, DNADBId): one row per video added or removed,
# written in the transaction that changes ``dna_videos``. ``dna_library_versions`` numbers them per
# library: a writer increments its row first, and that row lock makes one library's versions commit
# in order without gaps, so a worker applies ``version > applied`` and misses nothing.
dna_library_versions = Table(
    "dna_library_versions",
    metadata,
    Column("account_id", String(32), primary_key=True),
    Column("db_id", String(64), primary_key=True),
    Column("version", BigInteger, nullable=False),
    Column("updated_at", Float, nullable=False),
)

dna_library_log = Table(
    "dna_library_log",
    metadata,
    Column("account_id", String(32), primary_key=True),
    Column("db_id", String(64), primary_key=True),
    Column("version", BigInteger, primary_key=True),
    Column("op", String(8), nullable=False),  # add | del
    Column("row_id", BigInteger, nullable=False),  # dna_videos.id added or removed
    Column("media_id", String(32), nullable=False),
    Column("created_at", Float, nullable=False),
)

# The published snapshot of a library's index in the blob store (one per fingerprint version): the
# blob key and the library version it reflects. Replaced only by a snapshot of a higher version.
dna_index_snapshots = Table(
    "dna_index_snapshots",
    metadata,
    Column("account_id", String(32), primary_key=True),
    Column("db_id", String(64), primary_key=True),
    Column("fp_version", String(64), primary_key=True),
    Column("version", BigInteger, nullable=False),
    Column("blob_key", String(512), nullable=False),
    Column("videos", Integer, nullable=False),
    Column("codes", BigInteger, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("created_at", Float, nullable=False),
)
