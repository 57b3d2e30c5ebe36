"""Where object bytes go while they arrive: streamed into temporary files (never held in memory),
hashed on the way (MD5 for the ETag, CRC-64 for ``x-oss-hash-crc64ecma``), and only committed to the
blob store when the object is complete. Parts of a multipart upload live in their own folder until
CompleteMultipartUpload concatenates them, or AbortMultipartUpload drops them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from typing import BinaryIO
from dataclasses import dataclass
from pathlib import Path

from openvod.oss.crc64 import Crc64

CHUNK = 1024 * 1024


class TooLarge(Exception):
    """The body went over its size limit."""


class Incomplete(Exception):
    """The client went away before the declared body length arrived."""


@dataclass
class Written:
    """A body streamed to a file."""

    path: Path
    size: int
    md5: str  # hex, lower case
    crc64: int


def stream_to_file(chunks: Iterable[bytes], dest_dir: Path, limit: int, expect: int | None = None) -> Written:
    """Write ``chunks`` into a new temporary file in ``dest_dir``; TooLarge past ``limit`` bytes."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".up-", dir=dest_dir)
    md5, crc, size = hashlib.md5(), Crc64(), 0
    try:
        with os.fdopen(fd, "wb", buffering=0) as fh:
            buf: list[bytes] = []
            pending = 0
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise TooLarge()
                buf.append(chunk)
                pending += len(chunk)
                if pending >= CHUNK:
                    data = b"".join(buf)
                    md5.update(data)
                    crc.update(data)
                    fh.write(data)
                    buf, pending = [], 0
            if buf:
                data = b"".join(buf)
                md5.update(data)
                crc.update(data)
                fh.write(data)
        if expect is not None and size != expect:
            raise Incomplete()
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Written(Path(tmp), size, md5.hexdigest(), crc.value)


def concatenate(paths: list[Path], dest_dir: Path, progress: Callable[[int], None] | None = None) -> Path:
    """Concatenate part files into a new temporary file (streamed copy)."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".mp-", dir=dest_dir)
    try:
        with os.fdopen(fd, "wb") as out:
            for p in paths:
                with open(p, "rb") as inp:
                    _copy_all(inp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _copy_all(inp: BinaryIO, out: BinaryIO) -> None:
    """Append ``inp`` to ``out``: in the kernel (copy_file_range) where it can, else through a buffer."""
    size = os.fstat(inp.fileno()).st_size
    if hasattr(os, "copy_file_range"):
        out.flush()
        left = size
        try:
            while left > 0:
                n = os.copy_file_range(inp.fileno(), out.fileno(), min(left, 1 << 30))
                if n == 0:
                    break
                left -= n
            if left == 0:
                return
        except OSError:
            pass
        # fall back from wherever the kernel stopped
        inp.seek(size - left)
        out.seek(0, os.SEEK_END)
    shutil.copyfileobj(inp, out, 4 * CHUNK)


class PartStore:
    """Part files of open multipart uploads: ``<root>/<upload id>/<part number>``."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def dir(self, upload_id: str) -> Path:
        if not upload_id.isalnum():
            raise ValueError(upload_id)
        return self.root / upload_id

    def path(self, upload_id: str, part_number: int) -> Path:
        return self.dir(upload_id) / f"{part_number:05d}"

    def put(self, upload_id: str, part_number: int, written: Written) -> None:
        os.replace(written.path, self.path(upload_id, part_number))

    def remove(self, upload_id: str) -> None:
        shutil.rmtree(self.dir(upload_id), ignore_errors=True)
