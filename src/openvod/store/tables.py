"""SQLAlchemy Core tables. Every row that belongs to a customer carries ``account_id``."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from openvod.store.meta import metadata

# The DNA library tables live in tables_dna.py (size); imported here so one ``metadata`` holds all.
from openvod.store.tables_dna import (  # noqa: E402, F401
    dna_index_snapshots,
    dna_library_log,
    dna_library_versions,
    dna_videos,
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
)

access_keys = Table(
    "access_keys",
    metadata,
    Column("id", String(64), primary_key=True),  # the AccessKeyId
    Column("secret", String(128), nullable=False),
    Column("account_id", String(32), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("status", String(16), nullable=False, default="Active"),  # Active | Inactive
    Column("created_at", Float, nullable=False),
)

media = Table(
    "media",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("account_id", String(32), nullable=False),
    Column("file_url", String(1024), nullable=False),
    Column("title", String(256), nullable=False, default=""),
    Column("description", Text, nullable=False, default=""),
    Column("tags", String(1024), nullable=False, default=""),
    Column("cover_url", String(1024), nullable=False, default=""),
    Column("cate_id", BigInteger, nullable=True),
    Column("status", String(32), nullable=False),
    Column("blob_key", String(512), nullable=False),
    Column("file_name", String(512), nullable=False, default=""),
    Column("size", BigInteger, nullable=False, default=0),
    Column("md5", String(32), nullable=False, default=""),
    Column("duration", Float, nullable=False, default=0.0),
    Column("width", Integer, nullable=False, default=0),
    Column("height", Integer, nullable=False, default=0),
    Column("fps", Float, nullable=False, default=0.0),
    Column("bitrate", Float, nullable=False, default=0.0),  # kbit/s
    Column("probe", Text, nullable=False, default="{}"),  # JSON: container + stream details
    Column("template_group_id", String(64), nullable=False, default=""),
    Column("user_data", Text, nullable=False, default=""),
    Column("created_at", Float, nullable=False),
    Column("modified_at", Float, nullable=False),
    UniqueConstraint("account_id", "file_url", name="uq_media_account_url"),
)

ai_templates = Table(
    "ai_templates",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("account_id", String(32), nullable=False, index=True),
    Column("name", String(256), nullable=False),
    Column("type", String(32), nullable=False),
    Column("config", Text, nullable=False),
    Column("source", String(16), nullable=False, default="Custom"),
    Column("is_default", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    Column("modified_at", Float, nullable=False),
    # ListAITemplate pages in creation order without sorting the account's templates.
    Index("ix_ai_templates_account_type_created", "account_id", "type", "created_at", "id"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("account_id", String(32), nullable=False),
    Column("media_id", String(32), nullable=False),
    Column("type", String(32), nullable=False),  # AIVideoTag | AIMediaDNA | AIImage
    Column("status", String(16), nullable=False),  # init | processing | success | fail
    Column("code", String(64), nullable=False, default=""),
    Column("message", Text, nullable=False, default=""),
    Column("config", Text, nullable=False, default="{}"),  # normalised per-type config (JSON)
    Column("user_data", Text, nullable=False, default=""),
    Column("template_id", String(32), nullable=False, default=""),
    Column("template_config", Text, nullable=False, default=""),
    Column("data", Text, nullable=True),  # wire result (JSON string)
    Column("detail", Text, nullable=True),  # richer result (JSON), beyond the wire shape
    Column("analyzer", String(128), nullable=False, default=""),  # name@version that produced data
    Column("created_at", Float, nullable=False),
    Column("started_at", Float, nullable=True),
    Column("completed_at", Float, nullable=True),
    Column("claimed_by", String(128), nullable=True),
    Column("lease_until", Float, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    # 0-100 while the job runs (JobContext.progress, persisted by the heartbeat, throttled); 100 at success.
    Column("progress", Float, nullable=True),
    Index("ix_jobs_status_created", "status", "created_at"),
    Index("ix_jobs_account_media_type", "account_id", "media_id", "type"),
)

ai_images = Table(
    "ai_images",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("account_id", String(32), nullable=False),
    Column("job_id", String(32), nullable=False, index=True),
    Column("video_id", String(32), nullable=False, index=True),
    Column("format", String(8), nullable=False),
    Column("score", Float, nullable=False),
    Column("blob_key", String(512), nullable=False),
    Column("version", String(32), nullable=False),
    Column("detail", Text, nullable=False, default="{}"),
    Column("created_at", Float, nullable=False),
)

callback_settings = Table(
    "callback_settings",
    metadata,
    Column("account_id", String(32), primary_key=True),
    Column("app_id", String(64), primary_key=True),
    Column("callback_type", String(8), nullable=False, default="HTTP"),
    Column("callback_url", String(256), nullable=False, default=""),
    Column("event_types", String(1024), nullable=False, default=""),
    Column("auth_switch", String(4), nullable=False, default="off"),
    Column("auth_key", String(64), nullable=False, default=""),
    Column("mns_endpoint", String(256), nullable=False, default=""),
    Column("mns_queue", String(256), nullable=False, default=""),
    Column("modified_at", Float, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(32), nullable=False),
    Column("job_id", String(32), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("url", String(1024), nullable=False),
    Column("body", Text, nullable=False),
    Column("auth_key", String(64), nullable=False, default=""),
    Column("status", String(16), nullable=False, default="pending"),  # pending | delivered | dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False),
    Column("last_error", Text, nullable=False, default=""),
    Column("created_at", Float, nullable=False),
    Column("delivered_at", Float, nullable=True),
    # 0 for a job's first event of a type; 1, 2, … for the events of runs after `openvod jobs requeue`
    # (each run ends once: the job's compare-and-set), so every event has its own dedupe key.
    Column("seq", Integer, nullable=False, default=0, server_default="0"),
    UniqueConstraint("job_id", "event_type", "seq", name="uq_outbox_job_event_seq"),
    Index("ix_outbox_status_next", "status", "next_attempt_at"),
)

# Face library of an account (AIVideoTag Face): named people added by the operator (``source`` =
# "library") and unknown people first seen in a video ("auto"), each with the centroid of its face
# embeddings, so the same person keeps one PersonId across the account's videos. Embeddings are
# comparable only within one face backend (``backend``).
face_people = Table(
    "face_people",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("account_id", String(32), nullable=False),
    Column("name", String(256), nullable=False, default=""),  # "" = not named yet
    Column("source", String(16), nullable=False),  # library | auto
    Column("backend", String(32), nullable=False),  # dlib | opencv
    Column("embedding", LargeBinary, nullable=False),  # float32 centroid
    Column("samples", Integer, nullable=False, default=1),
    Column("face_key", String(512), nullable=False, default=""),  # blob key of a representative crop
    Column("created_at", Float, nullable=False),
    Column("modified_at", Float, nullable=False),
    Index("ix_face_people_account", "account_id", "backend"),
)

# Example faces of named people (one row per example image); matched one by one, nearest wins.
face_examples = Table(
    "face_examples",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("account_id", String(32), nullable=False),
    Column("person_id", String(32), nullable=False, index=True),
    Column("backend", String(32), nullable=False),
    Column("embedding", LargeBinary, nullable=False),  # float32
    Column("source", String(512), nullable=False, default=""),  # file name or media id it came from
    Column("created_at", Float, nullable=False),
)

# ---------------------------------------------------------------------------------------------- uploads
# One upload target per CreateUploadVideo / CreateUploadImage / CreateUploadAttachedMedia. Videos also
# have a ``media`` row (status Uploading until the object is committed); images and attached media live
# here only. ``status`` is the wire Status of images / attached media; the upload_* columns are the
# progress that GetUploadDetails reports (fed by the object endpoint and ReportUploadProgress).
uploads = Table(
    "uploads",
    metadata,
    Column("media_id", String(32), primary_key=True),
    Column("account_id", String(32), nullable=False),
    Column("kind", String(16), nullable=False),  # video | image | attached
    Column("bucket", String(64), nullable=False),
    Column("object_key", String(1024), nullable=False),
    Column("object_prefix", String(1024), nullable=False, default=""),  # m3u8: slices go under it
    Column("blob_key", String(512), nullable=False),
    Column("file_name", String(512), nullable=False, default=""),  # the caller's original name
    Column("file_size", BigInteger, nullable=False, default=0),  # declared by the caller
    Column("title", String(256), nullable=False, default=""),
    Column("description", Text, nullable=False, default=""),
    Column("tags", String(1024), nullable=False, default=""),
    Column("cate_id", BigInteger, nullable=True),
    Column("sub_type", String(32), nullable=False, default=""),  # ImageType | BusinessType
    Column("ext", String(16), nullable=False, default=""),
    Column("app_id", String(64), nullable=False, default="app-1000000"),
    Column("user_data", Text, nullable=False, default=""),
    Column("status", String(32), nullable=False),
    Column("size", BigInteger, nullable=False, default=0),
    Column("width", Integer, nullable=False, default=0),
    Column("height", Integer, nullable=False, default=0),
    Column("upload_size", BigInteger, nullable=False, default=0),
    Column("upload_ip", String(64), nullable=False, default=""),
    Column("upload_source", String(64), nullable=False, default=""),
    Column("device_model", String(128), nullable=False, default=""),
    Column("created_at", Float, nullable=False),
    Column("modified_at", Float, nullable=False),
    Column("completed_at", Float, nullable=True),
    UniqueConstraint("bucket", "object_key", name="uq_uploads_object"),
    Index("ix_uploads_account_kind", "account_id", "kind", "created_at"),
)

# ReferenceId of a video, unique per account.
media_refs = Table(
    "media_refs",
    metadata,
    Column("account_id", String(32), primary_key=True),
    Column("reference_id", String(64), primary_key=True),
    Column("media_id", String(32), nullable=False, unique=True),
)

# Temporary credentials (STS-like) scoped to one object or one prefix of one upload.
upload_credentials = Table(
    "upload_credentials",
    metadata,
    Column("access_key_id", String(64), primary_key=True),
    Column("secret", String(64), nullable=False),
    Column("token", String(256), nullable=False),
    Column("account_id", String(32), nullable=False),
    Column("media_id", String(32), nullable=False, index=True),
    Column("bucket", String(64), nullable=False),
    Column("object_key", String(1024), nullable=False),
    Column("object_prefix", String(1024), nullable=False, default=""),
    Column("expires_at", Float, nullable=False),
    Column("created_at", Float, nullable=False),
)

# Committed objects of the OSS-compatible endpoint, mapped onto blobs.
oss_objects = Table(
    "oss_objects",
    metadata,
    Column("bucket", String(64), primary_key=True),
    Column("object_key", String(1024), primary_key=True),
    Column("account_id", String(32), nullable=False),
    Column("media_id", String(32), nullable=False, index=True),
    Column("blob_key", String(512), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("etag", String(64), nullable=False),
    Column("crc64", String(24), nullable=False),  # unsigned 64-bit, decimal
    Column("content_type", String(128), nullable=False, default=""),
    Column("created_at", Float, nullable=False),
)

multipart_uploads = Table(
    "multipart_uploads",
    metadata,
    Column("id", String(32), primary_key=True),  # the UploadId
    Column("bucket", String(64), nullable=False),
    Column("object_key", String(1024), nullable=False),
    Column("account_id", String(32), nullable=False),
    Column("media_id", String(32), nullable=False, index=True),
    Column("access_key_id", String(64), nullable=False),
    Column("content_type", String(128), nullable=False, default=""),
    Column("status", String(16), nullable=False),  # open | completed | aborted
    Column("created_at", Float, nullable=False),
    Column("completed_at", Float, nullable=True),
)

multipart_parts = Table(
    "multipart_parts",
    metadata,
    Column("upload_id", String(32), primary_key=True),
    Column("part_number", Integer, primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("etag", String(64), nullable=False),
    Column("md5", String(32), nullable=False),
    Column("crc64", String(24), nullable=False),
    Column("created_at", Float, nullable=False),
)

# Replay protection that survives a restart: every signed request's (AccessKeyId, SignatureNonce),
# as a 128-bit digest, kept until its timestamp leaves the signature window (api.timestamp_window_s).
request_nonces = Table(
    "request_nonces",
    metadata,
    Column("digest", String(32), primary_key=True),
    Column("expires_at", Float, nullable=False, index=True),
)


# ---------------------------------------------------------------------------------------------- console
# Web console users (``openvod console-user add --account A``): each belongs to one account and sees
# only that account. Passwords are argon2id hashes.
console_users = Table(
    "console_users",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("account_id", String(32), nullable=False, index=True),
    Column("username", String(128), nullable=False, unique=True),
    Column("password_hash", String(256), nullable=False),
    Column("created_at", Float, nullable=False),
)

# Signed-in console sessions. ``id`` is the SHA-256 of the cookie's token (a stolen database does not
# hold usable cookies); ``csrf`` is the token every write must echo; rows past ``expires_at`` are dead.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", String(32), nullable=False, index=True),
    Column("account_id", String(32), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("expires_at", Float, nullable=False, index=True),
    Column("created_at", Float, nullable=False),
)

# AIMediaAudit: per-account custom word libraries (label: spam, ad, abuse, politics, contraband, porn,
# terrorism, logo), the manual review history (CreateAudit / GetAuditHistory) and the review-console
# IP allow-lists (SetAuditSecurityIp / ListAuditSecurityIp).
audit_words = Table(
    "audit_words",
    metadata,
    Column("account_id", String(32), primary_key=True),
    Column("label", String(32), primary_key=True),
    Column("word", String(128), primary_key=True),
    Column("created_at", Float, nullable=False),
)

audit_history = Table(
    "audit_history",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("account_id", String(32), nullable=False),
    Column("video_id", String(32), nullable=False),
    Column("status", String(16), nullable=False),  # Normal | Blocked
    Column("reason", String(512), nullable=False, default=""),
    Column("comment", String(1024), nullable=False, default=""),
    Column("auditor", String(128), nullable=False, default=""),
    Column("created_at", Float, nullable=False),
    Index("ix_audit_history_video", "account_id", "video_id", "created_at"),
)

audit_security_ips = Table(
    "audit_security_ips",
    metadata,
    Column("account_id", String(32), primary_key=True),
    Column("group_name", String(64), primary_key=True),
    Column("ips", Text, nullable=False, default=""),
    Column("created_at", Float, nullable=False),
    Column("modified_at", Float, nullable=False),
)
