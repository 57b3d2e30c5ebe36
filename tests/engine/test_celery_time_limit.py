"""Every wake-up carries Celery's hard time limit: the job's own time limit (engine.time_limits, by
type and media duration) plus ``scale.hard_time_limit_margin_s``, so the prefork pool kills a worker
process too stuck to enforce the limit itself. The kill and the re-run against a real worker:
tests/scaleout/test_ops.py."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("celery")

from openvod.config import EngineSettings, JobTimeLimit, Settings  # noqa: E402
from openvod.engine import celery_app  # noqa: E402
from openvod.runtime import Runtime  # noqa: E402
from openvod.services.media import validate_metadata  # noqa: E402
from tests.media import make_video  # noqa: E402
from tests.conftest import settings_db


def test_wake_ups_carry_the_hard_time_limit(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", database_url=settings_db(tmp_path / "data"),
        plugins=["tests.plugins:register"], media={"allowed_roots": [str(tmp_path)]},
        engine=EngineSettings(time_limits={"AIVideoTag": JobTimeLimit(base_s=10, per_media_s=2),
                                           "AIImage": JobTimeLimit(base_s=0, per_media_s=0)}),
        scale={"broker_url": "memory://", "hard_time_limit_margin_s": 5, "queues": {"AIVideoTag": "tl-tag"}},
    )
    rt = Runtime(settings)
    app = celery_app.make_celery(settings)
    try:
        acc = rt.accounts.ensure_account("acme")
        video = make_video(tmp_path / "v.mp4", seconds=2.0)
        done, _ = rt.media.register(acc, [validate_metadata({"FileURL": str(video), "Title": "v"}, 0)])
        mid = done[0].media_id
        duration = float(rt.media.get_row(acc, mid)["duration"])
        tag = rt.jobs.submit(acc, mid, "AIVideoTag", "", "")[0]["JobId"]
        assert celery_app.publish_now(rt, app, [tag]) == 1
        with app.connection_for_write() as conn:
            msg = conn.SimpleQueue("tl-tag").get(timeout=2)
            assert msg.payload[0] == [tag]
            hard, soft = msg.headers["timelimit"]
            assert hard == pytest.approx(10 + 2 * duration + 5) and soft is None
            msg.ack()
        assert celery_app.hard_time_limit(rt, "AIImage", 100.0) is None  # 0 + 0 = no limit, no kill
        assert celery_app.hard_time_limit(rt, "AIMediaDNA", 10.0) == 900 + 4 * 10 + 5  # the built-in default
    finally:
        rt.close()
