"""The narrow interfaces an analyzer receives in its ``JobContext`` instead of the runtime.

The services implement them (``openvod.services.fingerprints``, ``openvod.services.faces``,
``openvod.services.job_blobs``); a contract test implements them in memory. Each is already bound to
the job's account, so an analyzer cannot reach another account's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class FingerprintLibrary(Protocol):
    """The account's fingerprint libraries (one per DNADBId; "" is the default library).

    ``fingerprint`` is the DNA analyzer's ``Fingerprint``; the result of ``search`` its ``PairMatch``
    list. The library stores and indexes them; what they mean is the analyzer's business.
    """

    def search(self, db_id: str, fingerprint: Any, exclude_media: str | None = None) -> list[Any]:
        """Every video of library ``db_id`` the fingerprint copies from (never ``exclude_media``)."""
        ...

    def size(self, db_id: str) -> int:
        """How many videos library ``db_id`` holds now."""
        ...

    def add(self, db_id: str, media_id: str, fingerprint: Any, job_id: str = "") -> None:
        """Store (or replace) the video's fingerprint in library ``db_id``."""
        ...


@dataclass(frozen=True)
class FaceMatch:
    """The library person a face cluster was matched to (or created as)."""

    person_id: str
    tag: str
    known: bool
    distance: float | None
    created: bool


@runtime_checkable
class FaceLibrary(Protocol):
    """The account's face library: named people and the unknown people seen in its videos."""

    def identify(self, backend: str, centroids: list[Any], match_distance: float, face_keys: list[str],
                 source: str = "") -> list[FaceMatch]:
        """Match each cluster centroid (an embedding of ``backend``) to a person; an unmatched cluster
        becomes a new unknown person. One result per centroid, in order."""
        ...


@runtime_checkable
class BlobWriter(Protocol):
    """Where a job writes derived files (face crops, covers), under its own prefix."""

    def key(self, name: str) -> str:
        """The blob key ``name`` (relative to the job's prefix) has."""
        ...

    def put(self, name: str, data: bytes) -> str:
        """Store ``data`` as ``name`` (relative to the job's prefix); returns the blob key."""
        ...

    def signed_url(self, key: str, ttl_s: int | None = None) -> str:
        """A signed, expiring URL of a stored blob (``ttl_s`` None: the server's default)."""
        ...
