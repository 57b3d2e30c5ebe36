"""AI job states and the transitions allowed between them."""

from __future__ import annotations

from enum import StrEnum

from openvod.errors import VodError


class JobStatus(StrEnum):
    """Wire values of a job's Status."""

    INIT = "init"
    PROCESSING = "processing"
    SUCCESS = "success"
    FAIL = "fail"


TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.INIT: frozenset({JobStatus.PROCESSING, JobStatus.FAIL}),
    # processing -> init: a lease expired and the reaper re-queues the job for another attempt.
    JobStatus.PROCESSING: frozenset({JobStatus.SUCCESS, JobStatus.FAIL, JobStatus.INIT}),
    JobStatus.SUCCESS: frozenset(),
    # fail -> init: only the operator's `openvod jobs requeue` (a run from scratch, attempts reset).
    JobStatus.FAIL: frozenset({JobStatus.INIT}),
}


AI_JOB_TYPES = ("AIVideoTag", "AIMediaDNA")  # SubmitAIJob / ListAIJob
AI_IMAGE_TYPE = "AIImage"  # SubmitAIImageJob / GetAIImageJobs


def sources(dst: JobStatus) -> list[JobStatus]:
    """The states a job may move to ``dst`` from (the WHERE of a compare-and-set)."""
    return [src for src, dsts in TRANSITIONS.items() if dst in dsts]


class JobFailed(VodError):
    """A permanent failure: the job ends ``fail`` with this Code and Message, no retry.

    ``JobFailed(code, message)`` for any code; the subclasses below carry their code, so
    ``MediaDamaged("...")`` is enough. Both spellings give ``.code`` and ``.message``.
    """

    code = "JobFailed"
    http_status = 500

    def __init__(self, code_or_message: str, message: str | None = None):
        if message is None:
            super().__init__(code_or_message)
        else:
            super().__init__(message, code=code_or_message)


class AnalyzerUnavailable(JobFailed):
    code = "AnalyzerUnavailable"


class MediaNotFound(JobFailed):
    code = "InvalidVideo.NotFound"


class MediaFileMissing(JobFailed):
    code = "InvalidVideo.NoneStream"


class MediaDamaged(JobFailed):
    code = "InvalidVideo.Damaged"


class NoUsableFrame(JobFailed):
    code = "InvalidVideo.NoUsableFrame"


class JobTimeout(JobFailed):
    code = "JobTimeout"


class AttemptsExhausted(JobFailed):
    code = "JobAttemptsExhausted"


class AnalyzerCrashed(JobFailed):
    code = "InternalError"


class LeaseLost(Exception):  # noqa: N818 (a signal, not an error to report)
    """Raised by ``ctx.heartbeat()`` once another worker owns the job: the handler stops there and
    the runner discards whatever it did (the other worker's run is the one that counts)."""


class TransientJobError(Exception):
    """A failure worth retrying (the job goes back to ``init`` until attempts run out)."""
