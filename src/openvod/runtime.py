"""The runtime: settings plus the shared objects every layer uses, built once per process."""

from __future__ import annotations

from collections.abc import Callable

from openvod.config import Settings
from openvod.engine.registry import AnalyzerRegistry, build_registry
from openvod.services.accounts import AccountService
from openvod.storage.blobs import LocalBlobStore
from openvod.storage.urls import UrlSigner, load_or_create_key
from openvod.store.db import init_schema, make_engine


class Runtime:
    """Database engine, blob store, URL signer, analyzer registry and the services over them."""

    def __init__(self, settings: Settings, registry: AnalyzerRegistry | None = None, migrate: bool = True):
        from openvod.services.ai_images import AIImageService
        from openvod.services.ai_jobs import JobService
        from openvod.services.audit import AuditService
        from openvod.services.callbacks import CallbackService
        from openvod.services.library import LibraryService
        from openvod.services.media import MediaService
        from openvod.services.templates import TemplateService
        from openvod.services.uploads import UploadService
        from openvod.services.url_uploads import URLUploadService

        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        settings.incoming_dir.mkdir(exist_ok=True)
        self.engine = make_engine(settings.db_url)
        if migrate:  # child processes of a server skip this: the server migrated before starting them
            init_schema(self.engine)
        self.blobs = LocalBlobStore(settings.blob_dir)
        self.urls = UrlSigner(load_or_create_key(settings.data_dir / "url-signing.key"), settings.blobs.url_ttl_s)
        self.analyzers = registry if registry is not None else build_registry(settings.plugins)
        self.accounts = AccountService(self.engine)
        self.media = MediaService(self)
        self.jobs = JobService(self)
        self.templates = TemplateService(self)
        self.images = AIImageService(self)
        self.callbacks = CallbackService(self)
        self.uploads = UploadService(self)
        self.library = LibraryService(self)
        self.url_uploads = URLUploadService(self)
        self.audit = AuditService(self)
        # Set by the dispatcher so a submit wakes idle workers at once.
        self.wake: Callable[[], None] = lambda: None

    def close(self) -> None:
        self.engine.dispose()
