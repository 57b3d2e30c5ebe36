"""AIImage jobs end to end through alibabacloud_vod20170321 against a real ``openvod serve`` running the
product's analyzer (no test plug-ins): templates, submission, GetAIImageJobs, ListAIImageInfo, real PNG/GIF
files within their bounds, CoverURL only when asked, the completion callback, and an all-black video."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from alibabacloud_vod20170321 import models as m
from PIL import Image

from tests.analyzers.imagegen import labelled_video, write_video
from tests.conftest import Server, free_port, wait_for
from tests.receiver import CallbackReceiver
from tests.sdk import new_client

GIF_BOUNDS = {"fps": 5, "duration_s": 1.2, "max_width": 240, "max_bytes": 150_000}


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("aiimage")
    env = {
        "OPENVOD_PLUGINS": "[]",  # the real AIImage analyzer, not the test stand-in
        "OPENVOD_AIIMAGE__IMAGES_PER_JOB": "2",
        "OPENVOD_AIIMAGE__GIF_FPS": str(GIF_BOUNDS["fps"]),
        "OPENVOD_AIIMAGE__GIF_DURATION_S": str(GIF_BOUNDS["duration_s"]),
        "OPENVOD_AIIMAGE__GIF_MAX_WIDTH": str(GIF_BOUNDS["max_width"]),
        "OPENVOD_AIIMAGE__GIF_MAX_BYTES": str(GIF_BOUNDS["max_bytes"]),
    }
    s = Server(root / "data", free_port(), env=env).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(srv: Server) -> Any:
    return new_client(srv.endpoint, srv.key("covers"))


@pytest.fixture(scope="module")
def video_id(srv: Server, client: Any) -> str:
    path, _ = labelled_video(srv.data_dir.parent / "labelled.mp4")
    return _register(client, path)


def _register(c: Any, path: Path) -> str:
    body = c.register_media(
        m.RegisterMediaRequest(register_metadatas=json.dumps([{"FileURL": str(path), "Title": path.stem}]))
    ).body
    assert body.failed_file_urls == [], body
    return str(body.registered_media_list[0].media_id)


def _template(c: Any, fmt: str, cover: bool) -> str:
    cfg = json.dumps({"Format": fmt, "SetDefaultCover": "true" if cover else "false"})
    return str(c.add_aitemplate(m.AddAITemplateRequest(template_name=f"{fmt}-{cover}", template_type="AIImage",
                                                       template_config=cfg)).body.template_id)


def _run(c: Any, vid: str, tid: str, user_data: str | None = None) -> Any:
    job_id = c.submit_aiimage_job(m.SubmitAIImageJobRequest(video_id=vid, aitemplate_id=tid, user_data=user_data)).body.job_id

    def done() -> Any:
        lst = c.get_aiimage_jobs(m.GetAIImageJobsRequest(job_ids=job_id)).body.aiimage_job_list
        return lst[0] if lst and lst[0].status in ("success", "fail") else None

    return wait_for(done, timeout=120)


def _cover(c: Any, vid: str) -> str:
    url = c.get_video_info(m.GetVideoInfoRequest(video_id=vid)).body.video.cover_url or ""
    return url.split("?")[0]


def test_png_covers_and_default_cover(client: Any, video_id: str) -> None:
    c = client
    assert _cover(c, video_id) == ""
    # SetDefaultCover "false": images, but the cover stays untouched.
    job = _run(c, video_id, _template(c, "png", False))
    assert job.status == "success", (job.code, job.message)
    assert _cover(c, video_id) == ""

    tid = _template(c, "png", True)
    ud = '{"Extend":{"localId":"cover-1"}}'
    job_id = c.submit_aiimage_job(m.SubmitAIImageJobRequest(video_id=video_id, aitemplate_id=tid, user_data=ud)).body.job_id
    # Changing the template after submission does not change the job's snapshot.
    c.update_aitemplate(m.UpdateAITemplateRequest(template_id=tid, template_name="changed",
                                                  template_config='{"Format":"gif","SetDefaultCover":"false"}'))
    job = wait_for(lambda: next((j for j in c.get_aiimage_jobs(m.GetAIImageJobsRequest(job_ids=job_id)).body.aiimage_job_list
                                 if j.status in ("success", "fail")), None), timeout=120)
    assert job.status == "success" and job.code == "Success" and job.message == "success"
    assert json.loads(job.template_config) == {"Format": "png", "SetDefaultCover": "true"}
    assert job.user_data == ud and job.video_id == video_id and job.template_id == tid

    result = json.loads(job.aiimage_result)
    assert len(result) == 2  # images_per_job
    for r in result:
        assert isinstance(r["Score"], float) and 0 < r["Score"] <= 10
        assert r["Url"].endswith(".png") and float(r["Time"]) >= 0
        assert set(r["Breakdown"]) >= {"Sharpness", "Exposure", "Contrast", "Colourfulness", "Noise", "Blockiness",
                                       "MotionBlur", "Text", "Faces"}
        assert r["Why"]
    assert result[0]["Score"] >= result[1]["Score"]

    infos = [i for i in c.list_aiimage_info(m.ListAIImageInfoRequest(video_id=video_id)).body.aiimage_info_list
             if i.job_id == job_id]
    assert len(infos) == 2
    best = max(infos, key=lambda i: float(i.score))
    for info in infos:
        assert info.format == "png" and isinstance(info.score, str)
        assert float(info.score) in [r["Score"] for r in result]
        assert "?" in info.file_url  # signed, expiring
        data = httpx.get(info.file_url, timeout=30).content
        img = Image.open(io.BytesIO(data))
        assert img.format == "PNG" and img.size == (480, 270)
    # The best image became the cover, and it is served.
    cover_url = c.get_video_info(m.GetVideoInfoRequest(video_id=video_id)).body.video.cover_url
    assert cover_url.split("?")[0] == best.file_url.split("?")[0]
    assert httpx.get(cover_url, timeout=30).content == httpx.get(best.file_url, timeout=30).content

    # DeleteAIImageInfos removes the image and its file.
    gone = min(infos, key=lambda i: float(i.score))
    c.delete_aiimage_infos(m.DeleteAIImageInfosRequest(aiimage_info_ids=gone.aiimage_info_id))
    left = c.list_aiimage_info(m.ListAIImageInfoRequest(video_id=video_id)).body.aiimage_info_list
    assert gone.aiimage_info_id not in [i.aiimage_info_id for i in left]
    assert httpx.get(gone.file_url, timeout=30).status_code == 404


def test_gif_highlight_within_bounds_and_callback(client: Any, video_id: str) -> None:
    c = client
    cover_before = _cover(c, video_id)
    rx = CallbackReceiver()
    try:
        ud = json.dumps({"MessageCallback": {"CallbackURL": rx.url}, "Extend": {"k": "gif"}})
        job = _run(c, video_id, _template(c, "gif", False), ud)
        assert job.status == "success", (job.code, job.message)
        result = json.loads(job.aiimage_result)
        assert len(result) == 1  # gif_images_per_job default
        info = next(i for i in c.list_aiimage_info(m.ListAIImageInfoRequest(video_id=video_id)).body.aiimage_info_list
                    if i.job_id == job.job_id)
        assert info.format == "gif"
        data = httpx.get(info.file_url, timeout=30).content
        img = Image.open(io.BytesIO(data))
        assert img.format == "GIF" and img.width <= GIF_BOUNDS["max_width"]
        assert len(data) <= GIF_BOUNDS["max_bytes"]
        assert 2 <= img.n_frames <= GIF_BOUNDS["fps"] * GIF_BOUNDS["duration_s"]
        assert img.info["duration"] == 1000 // GIF_BOUNDS["fps"]
        assert _cover(c, video_id) == cover_before  # SetDefaultCover "false"
        body = wait_for(lambda: next((b for b in rx.bodies if b.get("JobId") == job.job_id), None), timeout=60)
        assert body["EventType"] == "AIImageComplete" and body["Status"] == "success"
        ext = body["Extend"]
        assert body["VideoId"] == video_id and (json.loads(ext) if isinstance(ext, str) else ext) == {"k": "gif"}
        assert json.loads(body["Data"])[0]["Score"] == result[0]["Score"]
    finally:
        rx.httpd.shutdown()


def test_all_black_video_fails_with_a_code(srv: Server, client: Any) -> None:
    c = client
    path = write_video(srv.data_dir.parent / "black.mp4", [np.zeros((180, 320, 3), np.uint8)] * 24, fps=12)
    vid = _register(c, path)
    job = _run(c, vid, _template(c, "png", True))
    assert job.status == "fail" and job.code == "InvalidVideo.NoUsableFrame"
    assert "black" in job.message and job.aiimage_result == ""
    assert c.list_aiimage_info(m.ListAIImageInfoRequest(video_id=vid)).body.aiimage_info_list in ([], None)
    assert _cover(c, vid) == ""
