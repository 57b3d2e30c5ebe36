"""Disk faults: recognise them, report them on /healthz, refuse to start on an unwritable data folder.

A full disk (ENOSPC, EDQUOT, SQLite's "database or disk is full") or a read-only data folder (EROFS,
EACCES, SQLite's "attempt to write a readonly database") is the operator's to fix, not a bug: a
request that hits one gets 503 ``ServiceUnavailable`` (the client may retry later) instead of 500
``InternalError``, and ``/healthz`` reports it before a client does.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import uuid
from pathlib import Path

DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO}
_SQLITE_DISK_MESSAGES = (
    "database or disk is full",
    "disk i/o error",
    "attempt to write a readonly database",
    "unable to open database file",
    "readonly database",
)


def disk_fault(exc: BaseException | None) -> str | None:
    """A short description if ``exc`` (or anything in its cause chain) is a disk fault, else None."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in DISK_ERRNOS:
            return os.strerror(exc.errno) if exc.errno is not None else str(exc)
        if type(exc).__module__.split(".")[0] in ("botocore", "boto3"):  # the S3 blob store (docs/scale-out.md)
            return f"object store unavailable: {type(exc).__name__}"
        if isinstance(exc, sqlite3.DatabaseError):
            msg = str(exc).lower()
            if any(m in msg for m in _SQLITE_DISK_MESSAGES):
                return str(exc)
        orig = getattr(exc, "orig", None)  # sqlalchemy.exc.DBAPIError wraps the driver's error
        if isinstance(orig, BaseException) and orig is not exc:
            found = disk_fault(orig)
            if found:
                return found
        exc = exc.__cause__ or exc.__context__
    return None


def write_probe(folder: Path) -> str | None:
    """Write, sync and remove a small file in ``folder``; the error if that fails, else None."""
    probe = folder / f".health-{uuid.uuid4().hex[:12]}"
    try:
        with open(probe, "wb") as fh:
            fh.write(b"\0" * 4096)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        return f"cannot write to {folder}: {exc.strerror or exc}"
    finally:
        try:
            probe.unlink()
        except OSError:
            pass
    return None


def disk_problems(data_dir: Path, min_free_bytes: int) -> list[str]:
    """What is wrong with the data folder's disk right now (empty when healthy)."""
    problems = []
    try:
        free = shutil.disk_usage(data_dir).free
        if free < min_free_bytes:
            problems.append(f"only {free} bytes free in {data_dir} (below {min_free_bytes})")
    except OSError as exc:
        problems.append(f"cannot stat {data_dir}: {exc.strerror or exc}")
    err = write_probe(data_dir)
    if err:
        problems.append(err)
    return problems


class DataDirError(RuntimeError):
    """The data folder cannot be used; the message is one line for the operator."""


def ensure_writable(data_dir: Path) -> None:
    """Create the data folder if needed and prove it is writable, or raise :class:`DataDirError`."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataDirError(f"cannot create the data folder {data_dir}: {exc.strerror or exc}") from None
    err = write_probe(data_dir)
    if err:
        raise DataDirError(f"the data folder is not writable ({err})")
