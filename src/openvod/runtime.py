"""The runtime: settings plus the shared objects every layer uses, built once per process."""

from __future__ import annotations

from collections.abc import Callable

from openvod.config import Settings
from openvod.engine.analyzer_options import analyzer_options, fingerprint_options, match_params
from openvod.engine.registry import AnalyzerRegistry, build_registry
from openvod.services.accounts import AccountService
from openvod.services.ai_images import AIImageService
from openvod.services.ai_jobs import JobService
from openvod.services.audit import AuditService
from openvod.services.audit_handler import MediaAuditHandler
from openvod.services.audit_image import IMAGE_AUDIT_TYPE, ImageAuditHandler
from openvod.services.callbacks import CallbackService
from openvod.services.faces import FaceService
from openvod.services.fingerprints import FingerprintService
from openvod.services.job_blobs import JobBlobs
from openvod.services.library import LibraryService
from openvod.services.media import MediaService
from openvod.services.tag_export import TagExportService
from openvod.services.templates import TemplateService
from openvod.services.uploads import UploadService
from openvod.services.url_uploads import URL_UPLOAD_TYPE, URLUploadHandler, URLUploadService
from openvod.storage import make_blob_store, make_url_signer
from openvod.store.db import init_schema, make_engine


class Runtime:
    """Database engine, blob store, URL signer, analyzer registry and the services over them."""

    def __init__(self, settings: Settings, registry: AnalyzerRegistry | None = None, migrate: bool = True):
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        settings.incoming_dir.mkdir(exist_ok=True)
        self.engine = make_engine(settings.db_url, **settings.scale.db_pool())
        if migrate:  # child processes of a server skip this: the server migrated before starting them
            init_schema(self.engine)
        self.blobs = make_blob_store(settings)  # local folder, or S3 (blobs.backend; docs/scale-out.md)
        self.urls = make_url_signer(settings)
        self.analyzers = registry if registry is not None else build_registry(settings.plugins)
        # Settings -> each analyzer's typed options, mapped once (JobContext.analyzer_options).
        self.analyzer_options = analyzer_options(settings)
        # Set by the dispatcher so a submit wakes idle workers at once (services call it through here),
        # with the new job ids after their commit (the Celery dispatcher publishes one wake-up per id).
        self.wake: Callable[..., None] = lambda *job_ids: None
        wake = self._wake
        # The services, each given what it uses (no service reaches another through the runtime).
        dna = settings.dna
        self.fingerprints = FingerprintService(  # index snapshots in the blob store (S3 when configured)
            self.engine, fingerprint_options(dna), match_params(dna), max_cached=dna.max_cached_libraries,
            flat_limit=dna.index_flat_limit, nprobe=dna.index_nprobe, blobs=self.blobs)
        self.faces = FaceService(self.engine)
        self.accounts = AccountService(self.engine)
        self.callbacks = CallbackService(self.engine, settings.callbacks)
        self.uploads = UploadService(self.engine, settings.upload, settings.data_dir, self.blobs, self.urls,
                                     self.callbacks)
        self.media = MediaService(self.engine, settings, self.blobs, self.urls, self.uploads, self.fingerprints,
                                  self.analyzers)
        self.jobs = JobService(self.engine, self.analyzers, self.media, self.fingerprints, wake)
        self.templates = TemplateService(self.engine, settings.api)
        self.images = AIImageService(self.engine, settings.api, self.blobs, self.urls, self.templates, self.jobs,
                                     self.media)
        self.library = LibraryService(self.engine, self.blobs, self.urls, self.media)
        self.url_uploads = URLUploadService(self.engine, settings, self.blobs, self.uploads, wake)
        self.tag_export = TagExportService(self.engine, self.blobs, self.urls, self.images.public_base_url,
                                           settings.tag.face_url_ttl_s)
        self.audit = AuditService(self.engine, settings.audit, self.urls, self.media, self.templates, self.jobs,
                                  self.images.public_base_url)
        if self.analyzers.get(MediaAuditHandler.job_type) is None:
            # AIMediaAudit's job glue lives with its service (it reads AIVideoTag results and the
            # account's word library); the moderation itself is the pure analyzers/audit package.
            self.analyzers.register(MediaAuditHandler())
        video_audit = self.analyzers.get(MediaAuditHandler.job_type)
        if self.analyzers.get(IMAGE_AUDIT_TYPE) is None and isinstance(video_audit, MediaAuditHandler):
            self.analyzers.register(ImageAuditHandler(video_audit))  # SubmitAIImageAuditJob
        if self.analyzers.get(URL_UPLOAD_TYPE) is None:
            # UploadMediaByURL's fetch is not an analyzer but runs on the same job engine.
            self.analyzers.register(URLUploadHandler(self.url_uploads))

    def _wake(self, *job_ids: str) -> None:
        self.wake(*job_ids)

    def job_blobs(self, account_id: str, media_id: str) -> JobBlobs:
        """The ``BlobWriter`` a job on this video writes its derived files with."""
        return JobBlobs(self.blobs, self.urls, self.images.public_base_url(), account_id, media_id)

    def close(self) -> None:
        self.engine.dispose()
