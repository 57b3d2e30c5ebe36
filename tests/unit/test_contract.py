"""The job contract's own rules: one handler per job type unless replaced on purpose, one options
model per job type (wire and stored forms, its messages), failure codes as VodError subclasses."""

from __future__ import annotations

from pathlib import Path

import pytest

from openvod.domain.contract import AnalyzerRegistry, DuplicateAnalyzer, JobContext, JobHandler, JobOutput
from openvod.domain.jobs import AnalyzerUnavailable, JobFailed, JobTimeout, MediaDamaged
from openvod.domain.options import ANALYSE_TYPES, AIImageOptions, MediaDNAOptions, VideoTagOptions, parse_options
from openvod.errors import InvalidParameter, VodError


class _A(JobHandler):
    job_type = "T"
    name = "a"
    version = "1"

    def run(self, ctx: JobContext) -> JobOutput:
        return JobOutput()


class _B(_A):
    name = "b"


def test_register_refuses_a_second_handler_for_a_type() -> None:
    reg = AnalyzerRegistry()
    a = _A()
    reg.register(a)
    reg.register(a)  # the same handler again is harmless
    with pytest.raises(DuplicateAnalyzer, match="already has the analyzer a@1"):
        reg.register(_B())
    assert reg.get("T") is a
    b = _B()
    reg.register(b, replace=True)
    assert reg.get("T") is b and reg.types() == ["T"]


def test_handler_hooks_are_explicit_defaults() -> None:
    h = _A()
    assert h.needs_media_file and h.options_model is None and h.unavailable_reason() is None
    assert h.validate_config({"x": 1}) == {"x": 1} and h.parse_options({"x": 1}) is None
    h.on_media_deleted("acc", "m")
    h.on_fingerprints_deleted("acc", "m", "")


def test_context_progress_defaults_to_heartbeat() -> None:
    beats: list[int] = []
    ctx = JobContext(job_id="j", account_id="a", job_type="T", media_id="m", media_path=Path("x"),
                     heartbeat=lambda: beats.append(1))
    ctx.report_progress(2.0)
    assert beats == [1]
    seen: list[float] = []
    ctx2 = JobContext(job_id="j", account_id="a", job_type="T", media_id="m", media_path=Path("x"),
                      progress=seen.append)
    ctx2.report_progress(-1)
    ctx2.report_progress(0.25)
    assert seen == [0.0, 0.25]


def test_failure_codes_are_vod_errors() -> None:
    for exc, code in ((MediaDamaged("x"), "InvalidVideo.Damaged"), (AnalyzerUnavailable("x"), "AnalyzerUnavailable"),
                      (JobTimeout("x"), "JobTimeout"), (JobFailed("Custom.Code", "x"), "Custom.Code")):
        assert isinstance(exc, VodError) and isinstance(exc, JobFailed)
        assert exc.code == code and exc.message == "x" and str(exc) == f"{code}: x"


def test_tag_options_wire_and_stored_forms() -> None:
    assert VideoTagOptions().AnalyseTypes == list(ANALYSE_TYPES)
    wire = parse_options(VideoTagOptions, {"AnalyseTypes": " ocr,FACE ", "OrigASRData": "true"}, wire=True)
    assert wire.AnalyseTypes == ["Face", "OCR"] and wire.OrigASRData is True
    stored = parse_options(VideoTagOptions, wire.model_dump(mode="json"))
    assert stored == wire
    with pytest.raises(InvalidParameter, match="comma-separated string"):
        parse_options(VideoTagOptions, {"AnalyseTypes": ["ASR"]}, wire=True)  # a list is the stored form only
    with pytest.raises(InvalidParameter, match="Smell"):
        parse_options(VideoTagOptions, {"AnalyseTypes": "ASR,Smell"}, wire=True)


@pytest.mark.parametrize("db", ["", " ", "a b", "x" * 65, 5])
def test_dna_db_id_one_rule_on_the_wire(db: object) -> None:
    with pytest.raises(InvalidParameter) as ei:
        parse_options(MediaDNAOptions, {"DNADBId": db}, wire=True)
    assert ei.value.param == "Config" and "DNADBId" in ei.value.message


def test_dna_db_id_default_library() -> None:
    assert parse_options(MediaDNAOptions, {}, wire=True).DNADBId == ""
    assert parse_options(MediaDNAOptions, {"DNADBId": ""}).DNADBId == ""  # stored form of the default
    assert parse_options(MediaDNAOptions, {"DNADBId": "x" * 64}, wire=True).DNADBId == "x" * 64


def test_image_options_message_param_and_order() -> None:
    with pytest.raises(InvalidParameter) as ei:
        parse_options(AIImageOptions, {"Format": "jpg", "Count": 0}, param="TemplateConfig")
    assert ei.value.param == "TemplateConfig" and ei.value.message.endswith("Format is required and must be gif or png.")
    ok = parse_options(AIImageOptions, {"Format": "GIF", "SetDefaultCover": True, "Count": "4"})
    assert ok.model_dump(mode="json", exclude_none=True) == {"Format": "gif", "SetDefaultCover": "true", "Count": 4}
