"""UploadMediaByURL uses RegisterMedia's SSRF guard: with private targets not allowed (the default), a URL
on loopback ends DOWNLOAD_FAIL with the reason, and the video is UploadFail (run in-process through
run_job, the entry point every dispatcher calls)."""

from __future__ import annotations

from pathlib import Path

from openvod.config import Settings
from openvod.engine.registry import AnalyzerRegistry
from openvod.engine.runner import run_job
from openvod.runtime import Runtime
from openvod.services.url_uploads import URLUploadHandler
from tests.conftest import settings_db


def test_private_target_refused(tmp_path: Path) -> None:
    rt = Runtime(Settings(data_dir=tmp_path / "data", database_url=settings_db(tmp_path / "data")),
                 registry=AnalyzerRegistry())  # registers URLUpload itself
    assert isinstance(rt.analyzers.get("URLUpload"), URLUploadHandler)
    try:
        acc = rt.accounts.ensure_account("a")
        (job,) = rt.url_uploads.submit(acc, ["http://127.0.0.1:1/x.mp4"], [], "", "app-1000000", "")
        assert run_job(rt, job["JobId"]) == "fail"
        (info,), missing = rt.url_uploads.infos(acc, [job["JobId"]], [])
        assert not missing and info["Status"] == "DOWNLOAD_FAIL" and info["ErrorCode"] == "DownloadFailed"
        assert "non-public address" in info["ErrorMessage"]
        assert rt.media.get_row(acc, info["MediaId"])["status"] == "UploadFail"
    finally:
        rt.close()
