"""Test stand-ins for the AIMediaAudit tests (``OPENVOD_PLUGINS='["tests.audit_plugins:register"]'``).

``TruthTagger`` plays AIVideoTag: its detail carries the OCR lines and ASR sentences that a JSON file
(``OPENVOD_TEST_AUDIT_TRUTH``, keyed by the media's MD5) says the video contains, in the real
analyzer's detail shape. It lets the audit's reuse of AIVideoTag results be tested in seconds; the
real OCR/ASR path is tested in tests/e2e/test_audit_real.py (slow).
"""

from __future__ import annotations

import json
import os
from typing import Any

from openvod.domain.contract import AnalyzerRegistry, JobContext, JobHandler, JobOutput


class TruthTagger(JobHandler):
    job_type = "AIVideoTag"
    name = "test-truth-tagger"
    version = "1"

    def run(self, ctx: JobContext) -> JobOutput:
        truth: dict[str, Any] = {}
        path = os.environ.get("OPENVOD_TEST_AUDIT_TRUTH")
        if path and os.path.exists(path):
            truth = json.load(open(path)).get(ctx.media["md5"], {})
        types = ctx.config.get("AnalyseTypes") or ["OCR", "ASR"]
        detail: dict[str, Any] = {"AnalyseTypes": types}
        if "OCR" in types:
            detail["OCR"] = [{"Text": c["text"], "StartTime": int(c["start"] * 1000), "EndTime": int(c["end"] * 1000),
                              "Confidence": 0.99} for c in truth.get("captions", [])]
        if "ASR" in types:
            detail["ASR"] = {"Sentences": [{"StartTime": int(s["start"] * 1000), "EndTime": int(s["end"] * 1000),
                                            "Text": s["text"]} for s in truth.get("speech", [])]}
        return JobOutput(data={"Keyword": [], "Category": []}, detail=detail)


def register(reg: AnalyzerRegistry) -> None:
    reg.register(TruthTagger(), replace=True)
