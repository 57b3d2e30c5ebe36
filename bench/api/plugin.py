"""A trivial AIVideoTag handler so the API benchmark measures the API, not an analyzer."""

from __future__ import annotations

from openvod.engine.registry import AnalyzerRegistry, JobContext, JobHandler, JobOutput


class NoopTagger(JobHandler):
    """Returns an empty tag result at once."""

    job_type = "AIVideoTag"
    name = "bench-noop"
    version = "1"

    def run(self, ctx: JobContext) -> JobOutput:
        return JobOutput(data={"Keyword": []})


def register(reg: AnalyzerRegistry) -> None:
    reg.register(NoopTagger(), replace=True)
