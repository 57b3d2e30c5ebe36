"""A test AIVideoTag analyzer that "hears" a fixed transcript: ``OPENVOD_TEST_TRANSCRIPTS`` names a JSON
file mapping a media file's MD5 to ``{"words": [[word, start_s, end_s], ...], "ocr": [[text, start_s,
end_s], ...]}``; the job's result carries those words as ASR keywords and the texts as OCR, in the same
wire shape as the built-in tagger (Keyword with Times/Intervals/Source, OCR with Text/Intervals)."""

from __future__ import annotations

import json
import os
from typing import Any

from openvod.engine.registry import AnalyzerRegistry, JobContext, JobHandler, JobOutput


class TranscriptTagger(JobHandler):
    """AIVideoTag stand-in whose speech recognition is a lookup table."""

    job_type = "AIVideoTag"
    name = "test-transcript"
    version = "1"

    def run(self, ctx: JobContext) -> JobOutput:
        path = os.environ.get("OPENVOD_TEST_TRANSCRIPTS", "")
        table: dict[str, Any] = {}
        if path and os.path.exists(path):
            with open(path) as fh:
                table = json.load(fh)
        entry = table.get(ctx.media["md5"], {})
        keywords = [{"Tag": w, "Times": [str(int(a * 1000))], "Source": "asr", "Confidence": 0.9,
                     "Intervals": [{"Start": int(a * 1000), "End": int(b * 1000)}]} for w, a, b in entry.get("words", [])]
        ocr = [{"Text": t, "Times": [str(int(a * 1000))], "Intervals": [{"Start": int(a * 1000), "End": int(b * 1000)}],
                "Confidence": 0.95} for t, a, b in entry.get("ocr", [])]
        data = {"Person": [], "Keyword": keywords, "Location": [], "Time": [], "Category": [{"Tag": "test"}],
                "OCR": ocr}
        return JobOutput(data=data)


def register(reg: AnalyzerRegistry) -> None:
    reg.register(TranscriptTagger(), replace=True)
