"""Signed, expiring URLs for blobs served by openvod itself.

The scheme is Alibaba Cloud CDN's URL authentication "type A", so URLs look like the cloud's:
``/blobs/<key>?auth_key=<expires>-<rand>-<uid>-<md5>`` with
``md5 = MD5("/blobs/<key>-<expires>-<rand>-<uid>-<private key>")``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from urllib.parse import quote

BLOB_PREFIX = "/blobs/"


def load_or_create_key(path: Path) -> str:
    """The private signing key, generated once and kept in the data folder."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(24)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(key)
    tmp.chmod(0o600)
    try:
        # link() fails if another process created the key first; then use theirs.
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text().strip()


class UrlSigner:
    """Sign and verify blob URLs."""

    def __init__(self, private_key: str, ttl_s: int = 3600):
        self.key = private_key
        self.ttl_s = ttl_s

    @staticmethod
    def path_for(blob_key: str) -> str:
        return BLOB_PREFIX + quote(blob_key, safe="/")

    def _digest(self, path: str, expires: int, rand: str, uid: str) -> str:
        return hashlib.md5(f"{path}-{expires}-{rand}-{uid}-{self.key}".encode()).hexdigest()

    def sign(self, base_url: str, blob_key: str, ttl_s: int | None = None, now: float | None = None) -> str:
        path = self.path_for(blob_key)
        expires = int((now if now is not None else time.time()) + (ttl_s or self.ttl_s))
        rand, uid = "0", "0"
        return f"{base_url.rstrip('/')}{path}?auth_key={expires}-{rand}-{uid}-{self._digest(path, expires, rand, uid)}"

    def unsigned(self, base_url: str, blob_key: str) -> str:
        return base_url.rstrip("/") + self.path_for(blob_key)

    def verify(self, path: str, auth_key: str, now: float | None = None) -> bool:
        parts = auth_key.split("-")
        if len(parts) != 4 or not parts[0].isdigit():
            return False
        expires, rand, uid, digest = int(parts[0]), parts[1], parts[2], parts[3]
        if expires < (now if now is not None else time.time()):
            return False
        return hmac.compare_digest(self._digest(path, expires, rand, uid), digest)
