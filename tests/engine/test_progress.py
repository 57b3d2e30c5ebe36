"""JobContext.progress: a running job's progress is persisted (0-100) and shown as ListAIJob's extra Progress."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from openvod.config import Settings
from openvod.engine.registry import AnalyzerRegistry, JobContext, JobHandler, JobOutput
from openvod.engine.runner import run_job
from openvod.runtime import Runtime
from openvod.services.ai_jobs import job_wire
from openvod.services.media import validate_metadata
from tests.media import make_video
from tests.conftest import settings_db


class Halfway(JobHandler):
    job_type = "AIMediaDNA"
    name = "test-halfway"
    version = "1"

    def __init__(self) -> None:
        self.go = threading.Event()

    def run(self, ctx: JobContext) -> JobOutput:
        ctx.progress(0.25)
        ctx.progress(0.5)  # within a second of the first: kept, written at the next beat or report
        ctx.progress(0.4)  # never goes back
        self.go.wait(20)
        return JobOutput(data={"VideoDNA": []})


def test_progress_is_persisted_and_listed(tmp_path: Path) -> None:
    reg = AnalyzerRegistry()
    h = Halfway()
    reg.register(h)
    s = Settings(data_dir=tmp_path / "data", database_url=settings_db(tmp_path / "data"))
    s = s.model_copy(update={"engine": s.engine.model_copy(update={"heartbeat_s": 0.3})})
    rt = Runtime(s, registry=reg)
    acc = rt.accounts.ensure_account("a")
    clip = make_video(rt.settings.incoming_dir / "p.mp4", seconds=1.0)
    mid = rt.media.register(acc, [validate_metadata({"FileURL": str(clip), "Title": "p"}, 0)])[0][0].media_id
    jid = rt.jobs.submit(acc, mid, "AIMediaDNA", "{}", "")[0]["JobId"]
    t = threading.Thread(target=run_job, args=(rt, jid))
    t.start()
    try:
        deadline = time.monotonic() + 20
        seen = []
        while time.monotonic() < deadline:
            row = rt.jobs.list(acc, [jid])[0][0]
            seen.append(job_wire(row)["Progress"])
            if seen[-1] == "50":
                break
            time.sleep(0.05)
        assert seen[-1] == "50", seen
        assert job_wire(row)["Status"] == "processing"
        assert not [p for p in seen if p not in ("0", "25", "50")], seen
    finally:
        h.go.set()
        t.join(30)
    row = rt.jobs.list(acc, [jid])[0][0]
    assert row.status == "success" and job_wire(row)["Progress"] == "100"
    rt.close()
