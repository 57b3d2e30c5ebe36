"""A test AIVideoTag analyzer for tests/scaleout/test_ops.py (``OPENVOD_PLUGINS='["tests.scaleout.ops_plugin:register"]'``).

Its first run of a job behaves as the media's title says; later runs of the same job succeed at once
(a marker file per job in ``OPENVOD_TEST_MARKERS``):

- ``stuck``: the worker process stops itself (SIGSTOP): every thread, the heartbeat included, is
  frozen, as with an analyzer holding the GIL in C code;
- ``slow``: works for up to 60 s, calling ``ctx.heartbeat()`` every 0.1 s (so a cancel stops it);
- anything else: succeeds at once.
Every run start is logged to ``OPENVOD_TEST_RUNLOG`` (job id, pid, time).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from openvod.domain.contract import AnalyzerRegistry, JobContext, JobHandler, JobOutput
from tests.plugins import _log_run


class ScriptedTagger(JobHandler):
    job_type = "AIVideoTag"
    name = "test-scripted"
    version = "1"

    def run(self, ctx: JobContext) -> JobOutput:
        _log_run(ctx)
        marker = Path(os.environ["OPENVOD_TEST_MARKERS"]) / ctx.job_id
        first = not marker.exists()
        marker.touch()
        title = str(ctx.media.get("title", ""))
        if first and title == "stuck":
            os.kill(os.getpid(), signal.SIGSTOP)
        if first and title == "slow":
            end = time.monotonic() + 60
            while time.monotonic() < end:
                ctx.heartbeat()
                time.sleep(0.1)
        return JobOutput(data={"Keyword": [{"Tag": "ok", "Times": ["0"]}]})


def register(reg: AnalyzerRegistry) -> None:
    reg.register(ScriptedTagger(), replace=True)
