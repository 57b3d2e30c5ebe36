"""Blobs in an S3-compatible object store (SeaweedFS in docs and tests; any S3 API works).

Same interface as :class:`openvod.storage.blobs.LocalBlobStore`. Objects live at
``<prefix><key>`` in one bucket. Code that needs a file (PyAV decoding, Pillow, serving a signed
URL) calls :meth:`path`, which returns a file in a local read-through cache under
``<data_dir>/blob-cache``: the object is downloaded on first use, and its ETag is checked with one
HEAD per call, so an object overwritten through another node (RefreshUploadVideo) is fetched again.
Writes go to the object store first and then into the cache, so the node that wrote a blob reads it
back without a download. The cache is kept under ``blobs.cache.max_bytes`` (least recently used
files go first, never one in use: storage/cache_trim.py). A cache hit is checked and touched under
the shared lock of its entry, and files are put in place or removed under the exclusive one, so a
trim pass never removes a file between its check as a hit and its hand-out.

Signed URLs stay openvod's own (``/blobs/<key>?auth_key=…``): any API node verifies them with the
shared signing key and streams the object through its cache; S3 presigned URLs are not used.
boto3 is imported lazily (the optional ``scale`` extra).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from openvod.storage.cache_trim import TrimResult, entry_lock, touch, trim
from openvod.storage.blobs import BlobKeyError

log = logging.getLogger(__name__)


def check_key(key: str) -> str:
    """The same key rules as the local store: a relative POSIX path without empty, . or .. parts."""
    if not key or key.startswith("/") or "\\" in key or any(p in ("", ".", "..") for p in key.split("/")):
        raise BlobKeyError(key)
    return key


def make_s3_client(endpoint_url: str, region: str, access_key_id: str, secret_access_key: str,
                   addressing_style: str = "path", max_pool_connections: int = 32, connect_timeout: float = 10,
                   read_timeout: float = 120, max_attempts: int = 5) -> Any:
    import boto3
    from botocore.config import Config

    cfg = Config(s3={"addressing_style": addressing_style}, retries={"max_attempts": max_attempts, "mode": "standard"},
                 max_pool_connections=max_pool_connections, connect_timeout=connect_timeout, read_timeout=read_timeout)
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url or None,
        region_name=region or "us-east-1",
        aws_access_key_id=access_key_id or None,
        aws_secret_access_key=secret_access_key or None,
        config=cfg,
    )


class S3BlobStore:
    """Blobs as objects ``<prefix><key>`` in one S3 bucket, with a local read-through cache."""

    def __init__(self, client: Any, bucket: str, prefix: str, cache_dir: Path, create_bucket: bool = False,
                 cache_max_bytes: int = 0, cache_min_idle_s: float = 300.0):
        self.s3 = client
        self.cache_max_bytes = cache_max_bytes
        self.cache_min_idle_s = cache_min_idle_s
        self._added = 0  # bytes this process put into the cache since its last trim pass
        self._last_trim = 0.0
        self._trim_lock = threading.Lock()
        self._trimming = False
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        # The cache doubles as the store's "root" for code that guards the data folder.
        self.root = Path(cache_dir).resolve() / "data"
        self.meta = Path(cache_dir).resolve() / "etag"
        self.root.mkdir(parents=True, exist_ok=True)
        self.meta.mkdir(parents=True, exist_ok=True)
        if create_bucket:
            self.ensure_bucket()

    # ------------------------------------------------------------------ helpers
    def ensure_bucket(self) -> None:
        from botocore.exceptions import ClientError

        try:
            self.s3.head_bucket(Bucket=self.bucket)
        except ClientError:
            try:
                self.s3.create_bucket(Bucket=self.bucket)
            except ClientError as exc:  # created meanwhile by another node
                if exc.response.get("Error", {}).get("Code") not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise

    def object_key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _cache_paths(self, key: str) -> tuple[Path, Path]:
        check_key(key)
        p = (self.root / key).resolve()
        if self.root not in p.parents:
            raise BlobKeyError(key)
        return p, self.meta / (hashlib.sha1(key.encode()).hexdigest() + ".etag")

    def _head(self, key: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            return self.s3.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def _remember(self, key: str, etag: str) -> None:
        _, meta = self._cache_paths(key)
        tmp = meta.with_name(meta.name + f".{os.getpid()}.tmp")
        tmp.write_text(etag)
        os.replace(tmp, meta)

    def _forget(self, key: str) -> None:
        local, meta = self._cache_paths(key)
        with entry_lock(self.root, key, exclusive=True):
            meta.unlink(missing_ok=True)
            local.unlink(missing_ok=True)

    def _place(self, key: str, tmp: str | Path, etag: str | None) -> Path:
        """Put a finished temporary file in place as the cached copy of ``key`` (and its ETag)."""
        local, _ = self._cache_paths(key)
        with entry_lock(self.root, key, exclusive=True):
            os.replace(tmp, local)
            touch(local)  # just used: min_idle_s protects it until it is opened
            if etag is not None:
                self._remember(key, etag)
        return local

    # ------------------------------------------------------------------ the blob store interface
    def path(self, key: str) -> Path:
        """A local file holding the blob (downloaded on first use); a missing path when there is no blob."""
        local, meta = self._cache_paths(key)
        head = self._head(key)
        if head is None:
            if local.exists():
                self._forget(key)
            return local
        etag = str(head.get("ETag", ""))
        with entry_lock(self.root, key):  # a trim pass cannot remove it between the check and the touch
            if local.is_file() and meta.is_file() and meta.read_text() == etag:
                touch(local)  # the LRU clock of the cache (and min_idle_s's)
                return local
        local.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".dl-", dir=local.parent)
        os.close(fd)
        try:
            self.s3.download_file(self.bucket, self.object_key(key), tmp)
            self._place(key, tmp, etag)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._added_to_cache(local)
        return local

    # ------------------------------------------------------------------ the cache's size cap
    def _added_to_cache(self, local: Path) -> None:
        """Count a file put into the cache; start a trim pass (in the background) when due: after a
        twentieth of the cap was added, or a minute after the last pass (the first fill after a start)."""
        if self.cache_max_bytes <= 0:
            return
        try:
            size = local.stat().st_size
        except OSError:
            return
        with self._trim_lock:
            self._added += size
            due = self._added >= self.cache_max_bytes // 20 or time.monotonic() - self._last_trim > 60
            if not due or self._trimming:
                return
            self._trimming = True
        threading.Thread(target=self._trim_in_background, name="blob-cache-trim", daemon=True).start()

    def _trim_in_background(self) -> None:
        try:
            self.trim_cache()
        except Exception:
            log.warning("blob cache trim failed", exc_info=True)
        finally:
            with self._trim_lock:
                self._trimming = False

    def trim_cache(self) -> TrimResult:
        """One trim pass now: least recently used files out until under 90 % of the cap."""
        with self._trim_lock:
            self._added = 0
            self._last_trim = time.monotonic()
        res = trim(self.root, self.cache_max_bytes, self.cache_min_idle_s, forget=self._forget_file,
                              lock_path=self.root.parent / ".trim.lock")
        if res.removed:
            log.info("blob cache trimmed", extra={"removed": len(res.removed), "bytes": res.total_after,
                                                  "cap": self.cache_max_bytes})
        return res

    def _forget_file(self, local: Path) -> None:
        """Drop the ETag record of a cached file that was removed."""
        key = local.relative_to(self.root).as_posix()
        (self.meta / (hashlib.sha1(key.encode()).hexdigest() + ".etag")).unlink(missing_ok=True)

    def _cache_file(self, key: str, src: Path, move: bool) -> None:
        """Put a just-uploaded file into the cache (best effort: the object store is the truth)."""
        try:
            head = self._head(key)
            local, _ = self._cache_paths(key)
            local.parent.mkdir(parents=True, exist_ok=True)
            etag = None if head is None else str(head.get("ETag", ""))
            if move:
                self._place(key, src, etag)
            else:
                fd, tmp = tempfile.mkstemp(prefix=".cp-", dir=local.parent)
                os.close(fd)
                shutil.copyfile(src, tmp)
                self._place(key, tmp, etag)
            self._added_to_cache(local)
        except OSError:
            log.warning("could not cache a blob locally", exc_info=True, extra={"blob_key": key})

    def put_bytes(self, key: str, data: bytes) -> int:
        r = self.s3.put_object(Bucket=self.bucket, Key=self.object_key(key), Body=data)
        local, _ = self._cache_paths(key)
        try:
            local.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".cp-", dir=local.parent)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            self._place(key, tmp, str(r.get("ETag", "")))
            self._added_to_cache(local)
        except OSError:
            log.warning("could not cache a blob locally", exc_info=True, extra={"blob_key": key})
        return len(data)

    def put_file(self, key: str, src: Path) -> int:
        self.s3.upload_file(str(src), self.bucket, self.object_key(key))
        size = Path(src).stat().st_size
        self._cache_file(key, Path(src), move=False)
        return size

    def adopt(self, key: str, src: Path) -> int:
        """Upload a finished temporary file as ``key``; the file moves into the cache."""
        self.s3.upload_file(str(src), self.bucket, self.object_key(key))
        size = Path(src).stat().st_size
        self._cache_file(key, Path(src), move=True)
        Path(src).unlink(missing_ok=True)
        return size

    def exists(self, key: str) -> bool:
        try:
            return self._head(key) is not None
        except BlobKeyError:
            return False

    def evict(self, key: str) -> None:
        """Drop this node's cached copy of a blob (the object stays): large blobs read once, such as
        index snapshots, need not stay in the cache."""
        self._forget(key)

    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=self.object_key(key))
        self._forget(key)

    def listing(self, prefix: str) -> list[tuple[str, int, float]]:
        """(key, size, modification time) of every blob under ``prefix/``."""
        out: list[tuple[str, int, float]] = []
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.object_key(prefix.rstrip("/")) + "/"):
            for o in page.get("Contents", []):
                out.append((o["Key"][len(self.prefix):], int(o.get("Size", 0)), o["LastModified"].timestamp()))
        return out

    def delete_prefix(self, prefix: str) -> None:
        """Remove every blob under ``prefix/`` (and a blob named exactly ``prefix``)."""
        prefix = check_key(prefix.rstrip("/"))
        keys: list[str] = []
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.object_key(prefix) + "/"):
            keys.extend(o["Key"] for o in page.get("Contents", []))
        if self._head(prefix) is not None:
            keys.append(self.object_key(prefix))
        for i in range(0, len(keys), 1000):
            self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in keys[i:i + 1000]],
                                                               "Quiet": True})
        for k in keys:
            self._cache_paths(k[len(self.prefix):])[1].unlink(missing_ok=True)
        local = (self.root / prefix).resolve()
        if local.is_dir():
            shutil.rmtree(local, ignore_errors=True)
        elif local.is_file():
            local.unlink(missing_ok=True)
