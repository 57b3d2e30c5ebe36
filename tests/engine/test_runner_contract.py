"""The runner's side of the job contract: the handler gets typed options and the narrow interfaces,
a lost lease stops the handler and discards its work, and a database error while loading the
job's video is retried (never reported as "the video does not exist")."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from openvod.config import EngineSettings, Settings
from openvod.domain.contract import AnalyzerRegistry, JobContext, JobHandler, JobOutput
from openvod.domain.interfaces import BlobWriter, FaceLibrary, FingerprintLibrary
from openvod.domain.jobs import JobStatus
from openvod.domain.options import VideoTagOptions
from openvod.engine.runner import run_job
from openvod.runtime import Runtime
from openvod.services.media import validate_metadata
from openvod.store import jobrepo
from openvod.store.tables import jobs
from tests.media import make_video
from tests.conftest import settings_db


class _Probe(JobHandler):
    """AIVideoTag stand-in that records its context and can be told to wait between heartbeats."""

    job_type = "AIVideoTag"
    name = "probe"
    version = "1"
    options_model = VideoTagOptions

    def __init__(self) -> None:
        self.ctx: JobContext | None = None
        self.before_beat = threading.Event()  # set: the handler may go on to its heartbeat
        self.before_beat.set()
        self.reached_end = False

    def run(self, ctx: JobContext) -> JobOutput:
        self.ctx = ctx
        self.before_beat.wait(10)
        ctx.report_progress(0.5)  # without a progress sink given, a heartbeat
        ctx.heartbeat()
        self.reached_end = True
        return JobOutput(data={"ok": True})


@pytest.fixture()
def env(tmp_path: Path):  # type: ignore[no-untyped-def]
    handler = _Probe()
    reg = AnalyzerRegistry()
    reg.register(handler)
    rt = Runtime(Settings(data_dir=tmp_path / "data", database_url=settings_db(tmp_path / "data"),
                          engine=EngineSettings(workers=1, lease_s=30, heartbeat_s=30,
                                                max_attempts=3)), registry=reg)
    acc = rt.accounts.ensure_account("acme")
    video = make_video(tmp_path / "c.mp4", seconds=1.0)
    rt.settings.media.allowed_roots = [str(tmp_path)]
    done, failed = rt.media.register(acc, [validate_metadata({"FileURL": str(video), "Title": "c"}, 0)])
    assert not failed
    job_id = rt.jobs.submit(acc, done[0].media_id, "AIVideoTag", '{"AIVideoTag":{"AnalyseTypes":"ocr,asr"}}', "")[0][
        "JobId"]
    yield rt, handler, job_id
    rt.close()


def _row(rt: Runtime, job_id: str) -> Any:
    with rt.engine.connect() as conn:
        return conn.execute(select(jobs).where(jobs.c.id == job_id)).first()


def test_handler_gets_typed_options_and_interfaces(env) -> None:  # type: ignore[no-untyped-def]
    rt, handler, job_id = env
    assert run_job(rt, job_id, "w1") == JobStatus.SUCCESS
    ctx = handler.ctx
    assert isinstance(ctx.options, VideoTagOptions) and ctx.options.AnalyseTypes == ["ASR", "OCR"]
    assert ctx.config == {"AnalyseTypes": ["ASR", "OCR"], "OrigASRData": False}
    assert ctx.analyzer_options is rt.analyzer_options["AIVideoTag"]
    assert isinstance(ctx.fingerprints, FingerprintLibrary) and isinstance(ctx.faces, FaceLibrary)
    assert isinstance(ctx.blobs, BlobWriter)
    assert ctx.blobs.key("x.jpg") == f"derived/{ctx.account_id}/{ctx.media_id}/x.jpg"
    assert ctx.probe  # the probe stored at RegisterMedia


def test_lost_lease_stops_the_handler_and_discards_its_work(env) -> None:  # type: ignore[no-untyped-def]
    rt, handler, job_id = env
    handler.before_beat.clear()
    result: list[str | None] = []
    t = threading.Thread(target=lambda: result.append(run_job(rt, job_id, "w1")))
    t.start()
    for _ in range(200):  # wait until the handler runs
        if handler.ctx is not None:
            break
        threading.Event().wait(0.05)
    # The lease expired meanwhile and another worker took the job over.
    with rt.engine.begin() as conn:
        conn.execute(update(jobs).where(jobs.c.id == job_id).values(claimed_by="w2"))
    handler.before_beat.set()
    t.join(20)
    assert result == [None]
    assert not handler.reached_end  # the heartbeat stopped it
    row = _row(rt, job_id)
    assert (row.status, row.claimed_by) == (JobStatus.PROCESSING, "w2")  # w2's job, untouched by w1
    assert not row.data


def test_database_error_loading_the_video_is_retried_not_not_found(env, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    rt, handler, job_id = env

    def broken(account_id: str, media_id: str) -> Any:
        raise OperationalError("SELECT media", {}, Exception("database is locked"))

    monkeypatch.setattr(rt.media, "get_row", broken)
    assert run_job(rt, job_id, "w1") == JobStatus.INIT
    row = _row(rt, job_id)
    assert row.status == JobStatus.INIT and row.code in (None, "") and handler.ctx is None
    monkeypatch.undo()
    assert jobrepo.claim(rt.engine, job_id, "w2", 30)
    assert run_job(rt, job_id, "w2", claimed=True) == JobStatus.SUCCESS
