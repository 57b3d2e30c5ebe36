"""Blob storage. The local-folder backend is the embedded default; keys are relative POSIX paths."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


class BlobKeyError(ValueError):
    """A key that would escape the blob root or is otherwise unusable."""


class LocalBlobStore:
    """Blobs as files under one root folder. Writes are atomic (temp file + rename)."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        if not key or key.startswith("/") or "\\" in key or any(p in ("", ".", "..") for p in key.split("/")):
            raise BlobKeyError(key)
        p = (self.root / key).resolve()
        if self.root not in p.parents:
            raise BlobKeyError(key)
        return p

    def _atomic_target(self, key: str) -> tuple[Path, int, str]:
        dest = self.path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=dest.parent)
        return dest, fd, tmp

    def put_bytes(self, key: str, data: bytes) -> int:
        dest, fd, tmp = self._atomic_target(key)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return len(data)

    def put_file(self, key: str, src: Path) -> int:
        dest, fd, tmp = self._atomic_target(key)
        try:
            with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
                shutil.copyfileobj(inp, out, 1024 * 1024)
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return dest.stat().st_size

    def adopt(self, key: str, src: Path) -> int:
        """Move a finished temporary file in as ``key`` (a rename on the same file system, else a copy)."""
        dest = self.path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(src, dest)
        except OSError:
            size = self.put_file(key, src)
            Path(src).unlink(missing_ok=True)
            return size
        return dest.stat().st_size

    def exists(self, key: str) -> bool:
        try:
            return self.path(key).is_file()
        except BlobKeyError:
            return False

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def listing(self, prefix: str) -> list[tuple[str, int, float]]:
        """(key, size, modification time) of every blob under ``prefix/`` (a folder)."""
        base = self.path(prefix.rstrip("/"))
        out: list[tuple[str, int, float]] = []
        for dirpath, _dirs, names in os.walk(base):
            for name in names:
                p = Path(dirpath) / name
                try:
                    st = p.stat()
                except OSError:  # removed meanwhile
                    continue
                out.append((p.relative_to(self.root).as_posix(), st.st_size, st.st_mtime))
        return out

    def delete_prefix(self, prefix: str) -> None:
        """Remove every blob under ``prefix/`` (a folder)."""
        p = self.path(prefix.rstrip("/"))
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        elif p.is_file():
            p.unlink(missing_ok=True)
