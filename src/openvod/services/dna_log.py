"""The change log of fingerprint libraries, and where each library's published index snapshot is.

Every add or removal of a library video writes, in the same transaction as the ``dna_videos``
change, one ``dna_library_log`` row numbered by the library's counter in ``dna_library_versions``.
The counter is incremented first: its row lock serialises the writers of one library (PostgreSQL
re-reads the row after the lock wait), so one library's versions commit in order and without gaps,
and a worker that has applied version ``v`` needs exactly the rows ``> v``. Checking whether
anything changed is one primary-key read of the counter.

Snapshots: ``dna_index_snapshots`` points at the blob of a library's index and names the version it
reflects. Publishing is a compare-and-set on that version (a higher version replaces a lower one,
never the reverse), after the blob itself was written under a key of its own: readers see either
the old snapshot or the new one, whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from openvod.store.tables import dna_index_snapshots, dna_library_log, dna_library_versions
from openvod.util import now

T = TypeVar("T")

# Log rows kept per library (a worker or snapshot further behind re-reads the library's row ids),
# trimmed every TRIM_EVERY changes.
LOG_KEEP = 10_000
TRIM_EVERY = 1_000


def write_retry(engine: Engine, fn: Callable[[Connection], T], attempts: int = 5) -> T:
    """Run ``fn`` in one transaction, again when a concurrent writer made it fail (the first add to a
    new library by two workers at once, a serialisation failure)."""
    for attempt in range(attempts):
        try:
            with engine.begin() as conn:
                return fn(conn)
        except (IntegrityError, OperationalError):
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def bump(conn: Connection, account_id: str, db_id: str) -> int:
    """Increment the library's version (locking its counter row until commit); the new version."""
    v = dna_library_versions.c
    where = (v.account_id == account_id, v.db_id == db_id)
    t = now()
    if conn.execute(update(dna_library_versions).where(*where).values(version=v.version + 1, updated_at=t)).rowcount:
        return int(conn.execute(select(v.version).where(*where)).scalar_one())
    conn.execute(insert(dna_library_versions).values(account_id=account_id, db_id=db_id, version=1, updated_at=t))
    return 1


def log_change(conn: Connection, account_id: str, db_id: str, version: int, op: str, row_id: int,
               media_id: str) -> None:
    """The log row of a change numbered ``version`` (from :func:`bump` in the same transaction)."""
    conn.execute(insert(dna_library_log).values(account_id=account_id, db_id=db_id, version=version, op=op,
                                                row_id=int(row_id), media_id=media_id, created_at=now()))
    if version % TRIM_EVERY == 0:  # keep the last LOG_KEEP changes (a worker further behind re-reads)
        c = dna_library_log.c
        conn.execute(delete(dna_library_log).where(c.account_id == account_id, c.db_id == db_id,
                                                   c.version <= version - LOG_KEEP))


def record(conn: Connection, account_id: str, db_id: str, op: str, row_id: int, media_id: str) -> int:
    """Log one change of the library inside the caller's transaction; its version."""
    version = bump(conn, account_id, db_id)
    log_change(conn, account_id, db_id, version, op, row_id, media_id)
    return version


def current_version(conn: Connection, account_id: str, db_id: str) -> int:
    """The library's latest version (0: never changed since the log exists)."""
    v = dna_library_versions.c
    got = conn.execute(select(v.version).where(v.account_id == account_id, v.db_id == db_id)).scalar()
    return int(got or 0)


@dataclass(frozen=True)
class Change:
    version: int
    op: str
    row_id: int
    media_id: str


def changes_after(conn: Connection, account_id: str, db_id: str, version: int) -> list[Change]:
    c = dna_library_log.c
    rows = conn.execute(select(c.version, c.op, c.row_id, c.media_id).where(
        c.account_id == account_id, c.db_id == db_id, c.version > version).order_by(c.version))
    return [Change(int(r.version), str(r.op), int(r.row_id), str(r.media_id)) for r in rows]


# ---------------------------------------------------------------------------------------------- snapshots
def snapshot_prefix(account_id: str, db_id: str, fp_version: str) -> str:
    """Blob folder of a library's snapshots: under the account (DNADBId and version hashed)."""
    lib = hashlib.sha1(f"{db_id}\0{fp_version}".encode()).hexdigest()[:24]
    return f"dna-index/{account_id}/{lib}/"


@dataclass(frozen=True)
class Snapshot:
    version: int
    blob_key: str
    videos: int
    codes: int
    bytes: int


def published(conn: Connection, account_id: str, db_id: str, fp_version: str) -> Snapshot | None:
    """The library's published snapshot; None when there is none or its key is not this library's
    (a pointer is only ever followed inside the account's own snapshot folder)."""
    s = dna_index_snapshots.c
    r = conn.execute(select(s.version, s.blob_key, s.videos, s.codes, s.bytes).where(
        s.account_id == account_id, s.db_id == db_id, s.fp_version == fp_version)).first()
    if r is None or not str(r.blob_key).startswith(snapshot_prefix(account_id, db_id, fp_version)):
        return None
    return Snapshot(int(r.version), str(r.blob_key), int(r.videos), int(r.codes), int(r.bytes))


def publish(engine: Engine, account_id: str, db_id: str, fp_version: str, snap: Snapshot) -> tuple[bool, str | None]:
    """Point the library at ``snap`` unless a snapshot of the same or a higher version is published.
    Returns (published, the blob key it replaced)."""
    if not snap.blob_key.startswith(snapshot_prefix(account_id, db_id, fp_version)):
        raise ValueError("a snapshot key outside the library's folder")
    s = dna_index_snapshots.c
    where = (s.account_id == account_id, s.db_id == db_id, s.fp_version == fp_version)
    values: dict[str, Any] = {"version": snap.version, "blob_key": snap.blob_key, "videos": snap.videos,
                              "codes": snap.codes, "bytes": snap.bytes, "created_at": now()}

    def go(conn: Connection) -> tuple[bool, str | None]:
        cur = conn.execute(select(s.version, s.blob_key).where(*where).with_for_update()).first()
        if cur is None:
            conn.execute(insert(dna_index_snapshots).values(account_id=account_id, db_id=db_id, fp_version=fp_version,
                                                            **values))
            return True, None
        if int(cur.version) >= snap.version:
            return False, None
        moved = conn.execute(update(dna_index_snapshots).where(*where, s.version < snap.version).values(**values))
        if not moved.rowcount:
            return False, None
        return True, str(cur.blob_key)

    return write_retry(engine, go)

