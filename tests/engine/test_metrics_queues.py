"""``/metrics``: jobs waiting and running per queue (job type) and status, with this node's name and
role, read from the database with one aggregate query and reused for ``scale.metrics_cache_s``."""

from __future__ import annotations

import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert

from openvod.config import Settings
from openvod.engine.registry import AnalyzerRegistry
from openvod.metrics import Metrics
from openvod.runtime import Runtime
from openvod.store.tables import jobs
from tests.conftest import settings_db


def _samples(m: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for fam in text_string_to_metric_families(m.render().decode()):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _add(rt: Runtime, n: int, job_type: str, status: str, age_s: float = 0.0, config: str = "{}") -> None:
    t = time.time() - age_s
    with rt.engine.begin() as conn:
        for i in range(n):
            conn.execute(insert(jobs).values(id=f"{job_type[:6]}{status[:4]}{i}{int(age_s)}{len(config)}",
                                             account_id="a", media_id="m", type=job_type, status=status,
                                             config=config, created_at=t + i * 1e-3))


def _key(queue: str, job_type: str, status: str, name: str = "openvod_queue_jobs") -> tuple:  # type: ignore[type-arg]
    labels = {"queue": queue, "type": job_type, "status": status, "node": "node-a", "role": "api"}
    return (name, tuple(sorted(labels.items())))


def test_queue_depth_per_queue_and_status(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=settings_db(tmp_path / "data"),
                        scale={"role": "api", "node_name": "node-a", "metrics_cache_s": 60, "queues": {"AIImage": "gpu"}})
    rt = Runtime(settings, registry=AnalyzerRegistry())
    try:
        _add(rt, 3, "AIVideoTag", "init", age_s=30)
        _add(rt, 1, "AIVideoTag", "processing")
        _add(rt, 2, "AIImage", "init")
        _add(rt, 4, "AIMediaDNA", "success")
        m = Metrics(rt)
        s = _samples(m)
        assert s[_key("tag", "AIVideoTag", "init")] == 3
        assert s[_key("tag", "AIVideoTag", "processing")] == 1
        assert s[_key("gpu", "AIImage", "init")] == 2  # the queue of scale.queues
        assert s[_key("gpu", "AIImage", "processing")] == 0
        assert s[_key("dna", "AIMediaDNA", "init")] == 0  # a known type with an empty queue
        assert 29 <= s[_key("tag", "AIVideoTag", "init", "openvod_queue_oldest_seconds")] < 120
        assert s[("openvod_node_info", (("node", "node-a"), ("role", "api")))] == 1
        assert s[("openvod_queue_depth", ())] == 5  # the total, as before

        # Within metrics_cache_s a scrape reuses the figures; after it, they are read again.
        _add(rt, 5, "AIVideoTag", "init", age_s=1)
        assert _samples(m)[_key("tag", "AIVideoTag", "init")] == 3
        assert m.store._snap is not None
        m.store._snap = (time.monotonic() - 61, m.store._snap[1])  # the cache has expired
        assert _samples(m)[_key("tag", "AIVideoTag", "init")] == 8
    finally:
        rt.close()


def test_dna_jobs_count_on_the_queue_of_their_library(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=settings_db(tmp_path / "data"),
                        scale={"role": "api", "node_name": "node-a", "metrics_cache_s": 0,
                               "dna_queues": {"a/big": "dna-big", "b/*": "dna-b"}})
    rt = Runtime(settings, registry=AnalyzerRegistry())
    try:
        _add(rt, 2, "AIMediaDNA", "init", config='{"DNADBId": "big"}')
        _add(rt, 1, "AIMediaDNA", "init", age_s=5, config='{"DNADBId": "big"}')
        _add(rt, 3, "AIMediaDNA", "init")  # the default library: the type's queue
        _add(rt, 1, "AIVideoTag", "processing")
        s = _samples(Metrics(rt))
        assert s[_key("dna-big", "AIMediaDNA", "init")] == 3
        assert s[_key("dna", "AIMediaDNA", "init")] == 3
        assert s[_key("dna", "AIMediaDNA", "processing")] == 0
        assert s[_key("tag", "AIVideoTag", "processing")] == 1
        assert 4 <= s[_key("dna-big", "AIMediaDNA", "init", "openvod_queue_oldest_seconds")] < 60
        # A routed queue with nothing waiting or running reports 0 (an idle library's queue is visible).
        assert s[_key("dna-big", "AIMediaDNA", "processing")] == 0
        assert s[_key("dna-b", "AIMediaDNA", "init")] == 0 and s[_key("dna-b", "AIMediaDNA", "processing")] == 0
        # The queue of each job is the publisher's routing (ScaleSettings.queue_for), job by job.
        _add(rt, 2, "AIMediaDNA", "processing", age_s=7, config='{"DNADBId": "big", "Extra": 1}')
        s = _samples(Metrics(rt))
        assert s[_key("dna-big", "AIMediaDNA", "processing")] == 2 and s[_key("dna-big", "AIMediaDNA", "init")] == 3
    finally:
        rt.close()
