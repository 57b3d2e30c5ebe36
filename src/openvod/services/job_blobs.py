"""``BlobWriter`` (the analyzers' interface) over the blob store and the URL signer, for one job.

Everything a job writes lands under ``derived/<account>/<media>/``, which DeleteVideo removes with
the video.
"""

from __future__ import annotations

from openvod.storage.blobs import LocalBlobStore
from openvod.storage.urls import UrlSigner


class JobBlobs:
    """Writes a job's derived files under its video's prefix and signs URLs to them."""

    def __init__(self, blobs: LocalBlobStore, urls: UrlSigner, base_url: str, account_id: str, media_id: str):
        self.blobs = blobs
        self.urls = urls
        self.base_url = base_url
        self.prefix = f"derived/{account_id}/{media_id}"

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}"

    def put(self, name: str, data: bytes) -> str:
        key = self.key(name)
        self.blobs.put_bytes(key, data)
        return key

    def signed_url(self, key: str, ttl_s: int | None = None) -> str:
        return self.urls.sign(self.base_url, key, ttl_s=ttl_s)
