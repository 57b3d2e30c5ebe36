"""UploadMediaByURL through the jobs engine: a good URL ends SUCCESS (video Normal, events
UploadByURLComplete + FileUploadComplete), a missing one ends DOWNLOAD_FAIL with a code, jobs still
waiting can be canceled, GetURLUploadInfos answers by JobIds or UploadURLs."""

from __future__ import annotations

import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from alibabacloud_vod20170321 import models as m

from tests.conftest import Server, wait_for
from tests.media import make_video
from tests.receiver import CallbackReceiver
from tests.sdk import new_client
from tests.upload.test_oss_flow import events


@pytest.fixture(scope="module")
def files(up_server: Server) -> tuple[str, Path]:
    root = up_server.data_dir.parent / "www"
    root.mkdir(exist_ok=True)
    make_video(root / "pulled.mp4", seconds=1.0, seed=5)

    class H(SimpleHTTPRequestHandler):
        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, directory=str(root), **kw)

        def do_GET(self) -> None:  # noqa: N802
            if self.path.startswith("/slow"):
                time.sleep(4)
                self.send_error(404)
                return
            super().do_GET()

        def log_message(self, *a: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{httpd.server_address[1]}", root


def _infos(c: Any, ids: list[str]) -> list[Any]:
    return c.get_urlupload_infos(m.GetURLUploadInfosRequest(job_ids=",".join(ids))).body.urlupload_info_list


def test_upload_by_url(up_server: Server, files: tuple[str, Path]) -> None:
    base, root = files
    c = new_client(up_server.endpoint, up_server.key("puller"))
    rec = CallbackReceiver()
    c.set_message_callback(m.SetMessageCallbackRequest(callback_type="HTTP", callback_url=rec.url, event_type_list="ALL"))
    good, bad = f"{base}/pulled.mp4", f"{base}/missing.mp4"
    body = c.upload_media_by_url(m.UploadMediaByURLRequest(
        upload_urls=",".join(quote(u, safe="") for u in (good, bad)),
        upload_metadatas=f'[{{"SourceURL":"{good}","Title":"pulled one","Tags":"p"}}]')).body
    jobs = {j.source_url: j.job_id for j in body.upload_jobs}
    assert set(jobs) == {good, bad}
    done = wait_for(lambda: (lambda xs: xs if all(x.status in ("SUCCESS", "DOWNLOAD_FAIL", "UPLOAD_FAIL")
                                                   for x in xs) else None)(_infos(c, list(jobs.values()))), timeout=60)
    by = {x.upload_url: x for x in done}
    assert by[good].status == "SUCCESS" and by[good].file_size == str((root / "pulled.mp4").stat().st_size)
    assert by[bad].status == "DOWNLOAD_FAIL" and by[bad].error_code == "DownloadFailed" and by[bad].error_message
    v = c.get_video_info(m.GetVideoInfoRequest(video_id=by[good].media_id)).body.video
    assert (v.status, v.title, v.tags) == ("Normal", "pulled one", "p")
    assert c.get_video_info(m.GetVideoInfoRequest(video_id=by[bad].media_id)).body.video.status == "UploadFail"
    wait_for(lambda: {"UploadByURLComplete", "FileUploadComplete"} <= set(events(rec, by[good].media_id)), timeout=30)
    ev = next(b for b in rec.bodies if b["EventType"] == "UploadByURLComplete" and b["VideoId"] == by[bad].media_id)
    assert ev["Status"] == "fail" and ev["JobId"] == jobs[bad] and ev["SourceURL"] == bad
    by_url = c.get_urlupload_infos(m.GetURLUploadInfosRequest(upload_urls=quote(good, safe=""))).body
    assert [x.job_id for x in by_url.urlupload_info_list] == [jobs[good]]
    miss = c.get_urlupload_infos(m.GetURLUploadInfosRequest(job_ids="nope")).body
    assert miss.non_exists == ["nope"] and miss.urlupload_info_list == []
    # ListJobInfo lists AI jobs only
    assert c.list_job_info(m.ListJobInfoRequest(job_type="ai", media_id=by[good].media_id)).body.job_info_list == []


def test_cancel_pending(up_server: Server, files: tuple[str, Path]) -> None:
    base, _ = files
    c = new_client(up_server.endpoint, up_server.key("canceller"))
    urls = [f"{base}/slow{i}.mp4" for i in range(5)]  # two workers: some wait while the first are slow
    body = c.upload_media_by_url(m.UploadMediaByURLRequest(upload_urls=",".join(urls))).body
    ids = [j.job_id for j in body.upload_jobs]
    r = c.cancel_url_upload_jobs(m.CancelUrlUploadJobsRequest(job_ids=",".join(ids[2:]) + ",nope")).body
    assert r.canceled_jobs and set(r.canceled_jobs) <= set(ids[2:]) and "nope" in r.non_exists
    infos = {x.job_id: x for x in _infos(c, r.canceled_jobs)}
    assert all(x.error_code == "UploadCanceled" for x in infos.values())
    done = wait_for(lambda: (lambda xs: xs if all(x.status not in ("PENDING", "PROCESSING") for x in xs) else None)(
        _infos(c, ids)), timeout=90)
    assert {x.job_id for x in done if x.error_code == "UploadCanceled"} == set(r.canceled_jobs)
    assert "InvalidParameter" in _code(lambda: c.upload_media_by_url(m.UploadMediaByURLRequest(upload_urls="ftp://x/a.mp4")))
    assert "InvalidFileName.Extension" in _code(lambda: c.upload_media_by_url(
        m.UploadMediaByURLRequest(upload_urls=quote(f"{base}/noext", safe=""))))


def _code(fn: Any) -> str:
    with pytest.raises(Exception) as ei:
        fn()
    return str(getattr(ei.value, "code", "")) or str(ei.value)
