"""The runtime: settings plus the shared objects every layer uses, built once per process."""

from __future__ import annotations

from collections.abc import Callable

from openvod.config import Settings
from openvod.engine.analyzer_options import analyzer_options, fingerprint_options, match_params
from openvod.engine.registry import AnalyzerRegistry, build_registry
from openvod.services.accounts import AccountService
from openvod.services.ai_images import AIImageService
from openvod.services.ai_jobs import JobService
from openvod.services.callbacks import CallbackService
from openvod.services.faces import FaceService
from openvod.services.fingerprints import FingerprintService
from openvod.services.job_blobs import JobBlobs
from openvod.services.library import LibraryService
from openvod.services.media import MediaService
from openvod.services.templates import TemplateService
from openvod.services.uploads import UploadService
from openvod.services.url_uploads import URLUploadHandler, URLUploadService
from openvod.storage.blobs import LocalBlobStore
from openvod.storage.urls import UrlSigner, load_or_create_key
from openvod.store.db import init_schema, make_engine


class Runtime:
    """Database engine, blob store, URL signer, analyzer registry and the services over them."""

    def __init__(self, settings: Settings, registry: AnalyzerRegistry | None = None, migrate: bool = True):
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        settings.incoming_dir.mkdir(exist_ok=True)
        self.engine = make_engine(settings.db_url)
        if migrate:  # child processes of a server skip this: the server migrated before starting them
            init_schema(self.engine)
        self.blobs = LocalBlobStore(settings.blob_dir)
        self.urls = UrlSigner(load_or_create_key(settings.data_dir / "url-signing.key"), settings.blobs.url_ttl_s)
        if registry is None:
            # UploadMediaByURL's fetch is not an analyzer but runs on the same job engine.
            registry = build_registry(settings.plugins, service_handlers=[URLUploadHandler()])
        self.analyzers = registry
        # Settings -> each analyzer's typed options, mapped once (JobContext.analyzer_options).
        self.analyzer_options = analyzer_options(settings)
        dna = settings.dna
        self.fingerprints = FingerprintService(
            self.engine, fingerprint_options(dna), match_params(dna), max_cached=dna.max_cached_libraries,
            flat_limit=dna.index_flat_limit, nprobe=dna.index_nprobe, index_dir=settings.data_dir / "dna-index")
        self.faces = FaceService(self.engine)
        self.accounts = AccountService(self.engine)
        self.media = MediaService(self)
        self.jobs = JobService(self)
        self.templates = TemplateService(self)
        self.images = AIImageService(self)
        self.callbacks = CallbackService(self)
        self.uploads = UploadService(self)
        self.library = LibraryService(self)
        self.url_uploads = URLUploadService(self)
        # Set by the dispatcher so a submit wakes idle workers at once.
        self.wake: Callable[[], None] = lambda: None

    def job_blobs(self, account_id: str, media_id: str) -> JobBlobs:
        """The ``BlobWriter`` a job on this video writes its derived files with."""
        return JobBlobs(self.blobs, self.urls, self.images.public_base_url(), account_id, media_id)

    def close(self) -> None:
        self.engine.dispose()
