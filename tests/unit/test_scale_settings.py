"""Scale-out settings and helpers that need no services (the rest: tests/scaleout, -m scaleout)."""

from __future__ import annotations

from pathlib import Path

import pytest

from openvod.config import Settings
from openvod.storage import make_blob_store
from openvod.storage.blobs import LocalBlobStore
from openvod.storage.health import disk_fault


def test_queue_per_job_type_and_pools_per_role() -> None:
    s = Settings(scale={"queues": {"AIVideoTag": "tag-gpu"}})
    assert [s.scale.queue_for(t) for t in ("AIMediaDNA", "AIVideoTag", "AIImage", "URLUpload", "AIMediaAudit")] == \
        ["dna", "tag-gpu", "image", "urlpull", "aimediaaudit"]
    assert s.scale.db_pool() == {"pool_size": 16, "max_overflow": 32}  # serve: unchanged
    assert Settings(scale={"role": "api"}).scale.db_pool() == {"pool_size": 16, "max_overflow": 16}
    assert Settings(scale={"role": "worker"}).scale.db_pool() == {"pool_size": 2, "max_overflow": 2}


def test_blob_backend_is_chosen_by_setting(tmp_path: Path) -> None:
    assert isinstance(make_blob_store(Settings(data_dir=tmp_path)), LocalBlobStore)
    with pytest.raises(ValueError, match="blobs.backend"):
        make_blob_store(Settings(data_dir=tmp_path, blobs={"backend": "ftp"}))


def test_an_unreachable_object_store_is_a_503_not_a_500() -> None:
    botocore = pytest.importorskip("botocore.exceptions")
    err = botocore.EndpointConnectionError(endpoint_url="http://weed:8333")
    try:
        try:
            raise err
        except Exception as inner:
            raise RuntimeError("upload failed") from inner
    except RuntimeError as outer:
        assert disk_fault(outer) == "object store unavailable: EndpointConnectionError"
    assert disk_fault(ValueError("x")) is None


def test_the_distributed_toml_example_in_the_docs_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from openvod.config import load_settings

    for var in [v for v in __import__("os").environ if v.startswith("OPENVOD_")]:
        monkeypatch.delenv(var)
    doc = (Path(__file__).resolve().parents[2] / "docs" / "scale-out.md").read_text()
    toml = doc.split("```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "openvod.toml").write_text(toml)
    s = load_settings(tmp_path / "openvod.toml")
    assert s.database_url.startswith("postgresql+psycopg://") and s.blobs.backend == "s3"
    assert s.blobs.s3.endpoint_url and s.blobs.url_signing_key and s.scale.broker_url.startswith("redis://")
    assert s.scale.nonce_store == "redis" and s.scale.redis_url
