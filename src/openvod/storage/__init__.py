"""Blob storage and signed URLs. :func:`make_blob_store` picks the backend the settings name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openvod.config import Settings
    from openvod.storage.urls import UrlSigner


def make_blob_store(settings: Settings) -> Any:
    """The blob store: a local folder (default) or an S3-compatible bucket (``blobs.backend = "s3"``)."""
    backend = settings.blobs.backend.lower()
    if backend == "local":
        from openvod.storage.blobs import LocalBlobStore

        return LocalBlobStore(settings.blob_dir)
    if backend == "s3":
        from openvod.storage.s3 import S3BlobStore, make_s3_client

        c = settings.blobs.s3
        client = make_s3_client(c.endpoint_url, c.region, c.access_key_id, c.secret_access_key,
                                c.addressing_style, c.max_pool_connections)
        return S3BlobStore(client, c.bucket, c.prefix, (settings.data_dir / "blob-cache").resolve(),
                           create_bucket=c.create_bucket, cache_max_bytes=settings.blobs.cache.max_bytes,
                           cache_min_idle_s=settings.blobs.cache.min_idle_s)
    raise ValueError(f"blobs.backend must be 'local' or 's3', got {settings.blobs.backend!r}")


def make_url_signer(settings: Settings) -> UrlSigner:
    """Signer of blob URLs; its key is shared by every API node when ``blobs.url_signing_key`` is set."""
    from openvod.storage.urls import UrlSigner, load_or_create_key

    key = settings.blobs.url_signing_key or load_or_create_key(settings.data_dir / "url-signing.key")
    return UrlSigner(key, settings.blobs.url_ttl_s)
