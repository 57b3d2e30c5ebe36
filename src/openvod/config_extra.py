"""Settings sections of the scaled-out roles, the web console and AIMediaAudit (split from
``openvod.config`` for size; import them from there)."""

from __future__ import annotations

import json

from pydantic import BaseModel, Field


# Celery queue of each job type (a type not named here gets the queue of its lowercased name).
DEFAULT_QUEUES: dict[str, str] = {"AIMediaDNA": "dna", "AIVideoTag": "tag", "AIImage": "image", "URLUpload": "urlpull"}


class BlobCacheSettings(BaseModel):
    """The local cache of an object store's blobs (``blobs.backend = "s3"``) on each machine."""

    # Size cap of <data_dir>/blob-cache; least recently used files are removed past it (0 = no cap).
    # Files open in a process of the machine, or used within min_idle_s, are never removed.
    max_bytes: int = Field(default=20 * 1024**3, ge=0)
    min_idle_s: float = Field(default=300.0, ge=0)


class ScaleSettings(BaseModel):
    """Scaled-out roles (docs/scale-out.md): ``serve --role api`` and ``worker`` on Celery, shared stores."""

    # The role of this process, set by the command: "all" (serve), "api" (serve --role api), "worker".
    role: str = "all"
    # Celery broker: redis://host:6379/0 or amqp://user:pass@host:5672//. Needed by --role api and worker.
    broker_url: str = ""
    queues: dict[str, str] = Field(default_factory=dict)  # job type -> queue, over DEFAULT_QUEUES
    # AIMediaDNA jobs of chosen libraries on queues of their own ("<AccountId>/<DNADBId>" or
    # "<AccountId>/*" -> queue; "" is the default library), so only the workers that take such a queue
    # hold those libraries' indexes in memory (docs/scale-out.md: sharding fingerprint libraries).
    dna_queues: dict[str, str] = Field(default_factory=dict)
    # The sweep (one API node at a time, under a PostgreSQL advisory lock): re-queues jobs whose lease
    # expired and re-publishes a wake-up for jobs still waiting this long after their last one.
    sweep_interval_s: float = Field(default=5.0, gt=0)
    republish_after_s: float = Field(default=120.0, gt=0)
    # Celery's hard time limit of a job's task = the job's time limit (engine.time_limits) + this
    # margin: the prefork pool kills a worker process too stuck to enforce the limit itself.
    hard_time_limit_margin_s: float = Field(default=60.0, ge=0)
    # Replay nonces across API nodes: "local" (this machine's memory + the durable database copy, where
    # only state-changing requests are checked across nodes), "database" (every request's nonce is
    # claimed in the shared database before it runs) or "redis" (SET NX with the window's expiry).
    nonce_store: str = "local"
    redis_url: str = ""  # for nonce_store = "redis"
    # Database connections per process of each role (PostgreSQL; SQLite keeps its own defaults).
    api_pool_size: int = Field(default=16, ge=1)
    api_max_overflow: int = Field(default=16, ge=0)
    worker_pool_size: int = Field(default=2, ge=1)  # per Celery child: the job and its heartbeat
    worker_max_overflow: int = Field(default=2, ge=0)
    # /readyz: each dependency (database, data folder, broker, object store, Redis nonces) must answer
    # within this time; answers are reused for ready_cache_s so frequent probes stay cheap.
    ready_timeout_s: float = Field(default=2.0, gt=0)
    ready_cache_s: float = Field(default=1.0, ge=0)
    # /metrics: the database figures are queried at most once per metrics_cache_s; node_name labels
    # this node's figures ("" = the host name).
    metrics_cache_s: float = Field(default=2.0, ge=0)
    node_name: str = ""

    def queue_for(self, job_type: str, account_id: str = "", config: str = "") -> str:
        """The queue of a job: by its type, or for AIMediaDNA by its library (``dna_queues``)."""
        if job_type == "AIMediaDNA" and self.dna_queues:
            try:
                db = json.loads(config or "{}").get("DNADBId") or ""
            except (ValueError, AttributeError):
                db = ""
            routed = self.dna_queues.get(f"{account_id}/{db}") or self.dna_queues.get(f"{account_id}/*")
            if routed:
                return routed
        return self.queues.get(job_type) or DEFAULT_QUEUES.get(job_type) or job_type.lower()

    def db_pool(self) -> dict[str, int]:
        """Connection pool of one process of this role (the all-in-one server keeps 16 + 32)."""
        if self.role == "api":
            return {"pool_size": self.api_pool_size, "max_overflow": self.api_max_overflow}
        if self.role == "worker":
            return {"pool_size": self.worker_pool_size, "max_overflow": self.worker_max_overflow}
        return {"pool_size": 16, "max_overflow": 32}
class ConsoleSettings(BaseModel):
    """The web console at /console (docs/console.md)."""

    enabled: bool = True
    # A signed-in session lasts this long (absolute, from sign-in); then the user signs in again.
    session_ttl_s: int = Field(default=8 * 3600, ge=60)
    # Send the session cookie with ``Secure`` (set it when the console is served over HTTPS).
    secure_cookie: bool = False
    page_size: int = Field(default=24, ge=1, le=200)
    # Largest file one console upload may send.
    max_upload_bytes: int = Field(default=2 * 1024**3, ge=1024)
class AuditSettings(BaseModel):
    """AIMediaAudit (content moderation); see docs/audit.md for the models, rules and thresholds."""

    # Frame sampling: a base rate everywhere (lowered on long videos to stay under max_samples) and
    # a confirmation rate in a window around every porn hit.
    base_fps: float = Field(default=1.0, gt=0, le=10)
    max_samples: int = Field(default=900, ge=10)
    confirm_fps: float = Field(default=4.0, gt=0, le=30)
    confirm_window_s: float = Field(default=1.0, gt=0, le=10)
    confirm_min: int = Field(default=2, ge=0, le=20)
    max_side: int = Field(default=640, ge=160, le=1920)
    # When no AIVideoTag result of the media has OCR (or ASR), run that analysis as part of the audit
    # (several CPU-seconds per minute of video); when false, the affected scenes end in review.
    run_ocr: bool = True
    run_asr: bool = True
    # Lifetime of the signed TopList / detail frame URLs in results (re-signed on every read).
    frame_url_ttl_s: int = Field(default=3600, ge=60)
    porn_threads: int = Field(default=1, ge=1, le=16)
    # Custom audit words an account may hold, all labels together (CLI, console): an add that would
    # go past it is refused whole with Forbidden.WordLimitExceeded (403).
    max_custom_words: int = Field(default=10_000, ge=1, le=1_000_000)
    # Proxies (IPs / CIDR blocks) whose X-Forwarded-For is believed when matching a caller against the
    # audit security IPs (SetAuditSecurityIp); empty = the TCP peer's address is the caller's.
    trusted_proxies: list[str] = Field(default_factory=list)
