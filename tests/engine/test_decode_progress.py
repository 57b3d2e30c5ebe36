"""Fine-grained progress from the media pipeline: a decode pass reports its decoded fraction of the
duration to the listener the job runner sets (openvod.pipeline.progress), also from a prefetch helper
thread; an AIMediaDNA job's stored progress then rises step by step, never back, within 0-100."""

from __future__ import annotations

from pathlib import Path

import pytest

from openvod.config import Settings
from openvod.engine import runner
from openvod.engine.runner import run_job
from openvod.pipeline import VideoNeed, open_media
from openvod.pipeline.prefetch import prefetch
from openvod.pipeline.progress import decode_progress
from openvod.runtime import Runtime
from openvod.services.media import validate_metadata
from openvod.store import jobrepo
from tests.media import make_video
from tests.conftest import settings_db


def test_a_decode_pass_reports_its_fraction(tmp_path: Path) -> None:
    clip = make_video(tmp_path / "c.mp4", seconds=4.0)
    media = open_media(clip)
    for depth in (0, 3):  # in this thread, and in prefetch's helper thread
        seen: list[float] = []
        with decode_progress(seen.append):
            n = sum(1 for _ in prefetch(media.video(VideoNeed(fps=5)), depth))
        assert n >= 15
        assert len(seen) >= 20, seen  # many steps, not a few fixed ones
        assert seen == sorted(seen) and len(set(seen)) == len(seen) and 0 < seen[0] and seen[-1] <= 1.0
        assert seen[-1] > 0.9
    quiet: list[float] = []
    for _ in media.video(VideoNeed(fps=5)):  # no listener: nothing is reported anywhere
        pass
    assert quiet == []


def test_dna_job_progress_rises_monotonically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("faiss")
    written: list[float] = []
    real = jobrepo.set_progress

    def record(engine, job_id, worker_id, pct):  # type: ignore[no-untyped-def]
        written.append(pct)
        real(engine, job_id, worker_id, pct)

    monkeypatch.setattr(jobrepo, "set_progress", record)
    monkeypatch.setattr(runner, "PROGRESS_EVERY_S", 0.0)  # every report is written (normally once a second)
    rt = Runtime(Settings(data_dir=tmp_path / "data", database_url=settings_db(tmp_path / "data")))
    acc = rt.accounts.ensure_account("a")
    clip = make_video(rt.settings.incoming_dir / "p.mp4", seconds=6.0)
    mid = rt.media.register(acc, [validate_metadata({"FileURL": str(clip), "Title": "p"}, 0)])[0][0].media_id
    jid = rt.jobs.submit(acc, mid, "AIMediaDNA", "{}", "")[0]["JobId"]
    assert run_job(rt, jid) == "success"
    assert written == sorted(written) and len(set(written)) == len(written), written
    assert all(0 <= p <= 100 for p in written)
    during_decode = [p for p in written if 2 < p < 68]
    assert len(during_decode) >= 10, written  # the decode pass moved it, not only the handler's fixed steps
    assert written[0] == 2.0 and 70.0 in written
    row = rt.jobs.list(acc, [jid])[0][0]
    assert row.status == "success" and row.progress == 100.0
    rt.close()
