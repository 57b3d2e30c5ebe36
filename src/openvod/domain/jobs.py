"""AI job states and the transitions allowed between them."""

from __future__ import annotations

from enum import StrEnum


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
    JobStatus.FAIL: frozenset(),
}


AI_JOB_TYPES = ("AIVideoTag", "AIMediaDNA")  # SubmitAIJob / ListAIJob
AI_IMAGE_TYPE = "AIImage"  # SubmitAIImageJob / GetAIImageJobs


def sources(dst: JobStatus) -> list[JobStatus]:
    """The states a job may move to ``dst`` from (the WHERE of a compare-and-set)."""
    return [src for src, dsts in TRANSITIONS.items() if dst in dsts]


class JobFailed(Exception):
    """A permanent failure: the job ends ``fail`` with this Code and Message, no retry."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class TransientJobError(Exception):
    """A failure worth retrying (the job goes back to ``init`` until attempts run out)."""
