"""The media library through the Tea SDK: GetVideoList paging through 250 videos, SearchMedia (Match
protocol, paging, ScrollToken, AiData: finding a video by a word spoken in it), UpdateVideoInfo(s),
GetImageInfo(s), ListJobInfo, DescribeVodAIData, GetPlayInfo refusals."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from alibabacloud_vod20170321 import models as m

from openvod.api import signing

from tests.conftest import Key, Server, wait_for
from tests.media import make_video
from tests.sdk import new_client, v1_params
from tests.upload.conftest import bucket_for, decode


@pytest.fixture(scope="module")
def lib_key(up_server: Server) -> Key:
    return up_server.key("library")


@pytest.fixture(scope="module")
def client(up_server: Server, lib_key: Key) -> Any:
    return new_client(up_server.endpoint, lib_key)


@pytest.fixture(scope="module")
def many(up_server: Server, lib_key: Key) -> list[str]:
    """250 videos (created, not uploaded), oldest first. Hand-signed V1 calls on one keep-alive connection."""
    ids = []
    with httpx.Client(base_url=up_server.url, timeout=30) as http:
        for i in range(250):
            params = {"Title": f"bulk {i:03d}", "FileName": f"bulk{i}.mp4", "Tags": "bulk,even" if i % 2 == 0 else "bulk"}
            if i % 5 == 0:
                params["CateId"] = "7"
            p = v1_params(lib_key, "CreateUploadVideo", params)
            p["Signature"] = signing.v1_sign(lib_key.secret, signing.v1_string_to_sign("GET", p))
            r = http.get("/", params=p)
            assert r.status_code == 200, r.text
            ids.append(r.json()["VideoId"])
    return ids


def _err(fn: Any) -> str:
    with pytest.raises(Exception) as ei:
        fn()
    return str(getattr(ei.value, "code", "")) or str(ei.value)


def test_get_video_list_pages_through_250(client: Any, many: list[str]) -> None:
    seen: list[str] = []
    for page in (1, 2, 3):
        body = client.get_video_list(m.GetVideoListRequest(page_no=page, page_size=100)).body
        assert body.total == 250
        seen += [v.video_id for v in body.video_list.video]
    assert seen == list(reversed(many))  # CreationTime:Desc by default, no gaps, no repeats
    asc = client.get_video_list(m.GetVideoListRequest(page_no=3, page_size=100, sort_by="CreationTime:Asc")).body
    assert [v.video_id for v in asc.video_list.video] == many[200:]
    empty = client.get_video_list(m.GetVideoListRequest(page_no=4, page_size=100)).body
    assert empty.total == 250 and not empty.video_list.video
    cat = client.get_video_list(m.GetVideoListRequest(cate_id=7, page_size=100)).body
    assert cat.total == 50 and all(v.cate_id == 7 for v in cat.video_list.video)
    assert client.get_video_list(m.GetVideoListRequest(status="Normal")).body.total == 0
    assert client.get_video_list(m.GetVideoListRequest(status="Uploading")).body.total == 250
    assert "InvalidParameter" in _err(lambda: client.get_video_list(m.GetVideoListRequest(page_size=101)))
    assert "InvalidParameter" in _err(lambda: client.get_video_list(m.GetVideoListRequest(sort_by="Title:Asc")))


def test_search_media_match_paging_and_scroll(client: Any, many: list[str]) -> None:
    r = client.search_media(m.SearchMediaRequest(match="Title = 'bulk 00' and Status = 'Uploading'",
                                                 page_size=100)).body
    assert r.total == 10 and {x.video.title for x in r.media_list} == {f"bulk 00{i}" for i in range(10)}
    r = client.search_media(m.SearchMediaRequest(match="Tags = 'even' and CateId in (7)", page_size=100)).body
    assert r.total == 25  # multiples of 10
    r = client.search_media(m.SearchMediaRequest(match=f"VideoId in ('{many[0]}','{many[1]}')")).body
    assert {x.media_id for x in r.media_list} == set(many[:2])
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 60))
    r = client.search_media(m.SearchMediaRequest(match=f"CreationTime = ('','{now}') and Title = 'bulk'")).body
    assert r.total == 250
    # ScrollToken: the whole set, 100 at a time, in order
    seen: list[str] = []
    token = None
    for _ in range(4):
        body = client.search_media(m.SearchMediaRequest(match="Title = 'bulk'", page_size=100,
                                                        scroll_token=token)).body
        seen += [x.media_id for x in body.media_list]
        token = body.scroll_token
        if not token:
            break
    assert seen == list(reversed(many))
    assert "InvalidParameter" in _err(lambda: client.search_media(m.SearchMediaRequest(match="Nope = 'x'")))
    assert "InvalidParameter" in _err(lambda: client.search_media(m.SearchMediaRequest(page_no=51, page_size=100)))


def test_search_by_spoken_word_and_ocr(client: Any, up_server: Server) -> None:
    media = up_server.data_dir.parent / "media"
    media.mkdir(exist_ok=True)
    talk = make_video(media / "talk.mp4", seconds=1.0, seed=11)
    quiet = make_video(media / "quiet.mp4", seconds=1.0, seed=12)
    table = {hashlib.md5(talk.read_bytes()).hexdigest(): {
        "words": [["hello", 0.2, 0.5], ["submarine", 0.6, 0.9]], "ocr": [["Chapter One", 0.0, 0.8]]}}
    (up_server.data_dir.parent / "transcripts.json").write_text(json.dumps(table))
    ids = {}
    for p in (talk, quiet):
        vid, addr, auth = _create(client, p.name)
        bucket_for(addr, auth).put_object_from_file(addr["FileName"], str(p))
        ids[p.name] = vid
        job = client.submit_aijob(m.SubmitAIJobRequest(media_id=vid, types="AIVideoTag")).body.aijob_list.aijob[0]
        wait_for(lambda j=job: client.list_aijob(m.ListAIJobRequest(job_ids=j.job_id)).body.aijob_list.aijob[0]
                 .status == "success", timeout=60)
    r = client.search_media(m.SearchMediaRequest(match="AiLabel = 'Submarine'", fields="AiData")).body
    assert [x.media_id for x in r.media_list] == [ids["talk.mp4"]]
    ai = r.media_list[0].ai_data
    sub = next(lab for lab in ai.ai_label_info if lab.label_name == "submarine")
    assert sub.category == "Keyword" and (sub.occurrences[0].from_, sub.occurrences[0].to) == (0.6, 0.9)
    assert [(o.content, o.from_, o.to) for o in ai.ocr_info] == [("Chapter One", 0.0, 0.8)]
    r = client.search_media(m.SearchMediaRequest(match="AiText = 'chapter'")).body
    assert [x.media_id for x in r.media_list] == [ids["talk.mp4"]] and r.media_list[0].ai_data is None
    assert client.search_media(m.SearchMediaRequest(match="AiLabel = 'walrus'")).body.total == 0
    # ListJobInfo and DescribeVodAIData read the job table
    jobs = client.list_job_info(m.ListJobInfoRequest(job_type="ai", media_id=ids["talk.mp4"])).body
    assert len(jobs.job_info_list) == 1 and jobs.job_info_list[0].status == "success"
    day = time.strftime("%Y-%m-%dT00:00:00Z", time.gmtime())
    tomorrow = time.strftime("%Y-%m-%dT00:00:00Z", time.gmtime(time.time() + 86400))
    usage = client.describe_vod_aidata(m.DescribeVodAIDataRequest(start_time=day, end_time=tomorrow,
                                                                   aitype="AIVideoTag")).body
    assert usage.data_interval == "hour" and len(usage.aidata.aidata_item) == 24
    total = sum(float(d.value) for it in usage.aidata.aidata_item for d in it.data.data_item)
    assert total == pytest.approx(2.0, abs=1.01)  # two 1-second videos, rounded per hour


def _create(client: Any, name: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    b = client.create_upload_video(m.CreateUploadVideoRequest(title=name, file_name=name)).body
    return b.video_id, decode(b.upload_address), decode(b.upload_auth)


def test_update_video_info_and_play_refusals(client: Any, up_server: Server, many: list[str]) -> None:
    vid = many[0]
    client.update_video_info(m.UpdateVideoInfoRequest(video_id=vid, title="renamed", tags="a,b", cate_id=9,
                                                      description="d"))
    v = client.get_video_info(m.GetVideoInfoRequest(video_id=vid)).body.video
    assert (v.title, v.tags, v.cate_id, v.description) == ("renamed", "a,b", 9, "d")
    r = client.update_video_infos(m.UpdateVideoInfosRequest(update_content=json.dumps(
        [{"VideoId": many[1], "Title": "bulk renamed"}, {"VideoId": "0" * 32, "Title": "x"}]))).body
    assert r.non_exist_video_ids == ["0" * 32]
    assert client.get_video_info(m.GetVideoInfoRequest(video_id=many[1])).body.video.title == "bulk renamed"
    assert "InvalidVideo.NotFound" in _err(lambda: client.update_video_info(
        m.UpdateVideoInfoRequest(video_id="0" * 32, title="x")))
    assert "CountExceededMax" in _err(lambda: client.update_video_infos(m.UpdateVideoInfosRequest(
        update_content=json.dumps([{"VideoId": i} for i in many[:21]]))))
    # not uploaded yet: the cloud's status error; audio only: no stream to play
    assert "Forbidden.IllegalStatus" in _err(lambda: client.get_play_info(m.GetPlayInfoRequest(video_id=vid)))
    media = up_server.data_dir.parent / "media"
    media.mkdir(exist_ok=True)
    audio = _make_audio(media / "tone.m4a")
    avid, addr, auth = _create(client, "tone.m4a")
    bucket_for(addr, auth).put_object_from_file(addr["FileName"], str(audio))
    assert "InvalidVideo.NoneStream" in _err(lambda: client.get_play_info(m.GetPlayInfoRequest(video_id=avid)))
    p = client.get_play_info(m.GetPlayInfoRequest(video_id=avid, stream_type="audio")).body
    assert p.video_base.media_type == "audio" and p.play_info_list.play_info[0].stream_type == "audio"


def _make_audio(path: Path) -> Path:
    from fractions import Fraction

    import av
    import numpy as np

    with av.open(str(path), "w") as c:
        s = c.add_stream("aac", rate=16000)
        s.layout = "mono"
        t = np.arange(16000) / 16000
        sig = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        for start in range(0, len(sig), 1024):
            f = av.AudioFrame.from_ndarray(sig[start:start + 1024].reshape(1, -1), format="flt", layout="mono")
            f.sample_rate, f.pts, f.time_base = 16000, start, Fraction(1, 16000)
            for pkt in s.encode(f):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return path


def test_images(client: Any) -> None:
    import io

    from PIL import Image

    body = client.create_upload_image(m.CreateUploadImageRequest(image_type="cover", image_ext="jpg", title="c",
                                                                 tags="x")).body
    addr, auth = decode(body.upload_address), decode(body.upload_auth)
    info = client.get_image_info(m.GetImageInfoRequest(image_id=body.image_id)).body.image_info
    assert info.status == "Uploading"
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (0, 90, 0)).save(buf, format="JPEG")
    bucket_for(addr, auth).put_object(addr["FileName"], buf.getvalue())
    info = client.get_image_info(m.GetImageInfoRequest(image_id=body.image_id)).body.image_info
    assert (info.status, info.image_type, info.mezzanine.width, info.mezzanine.height) == ("Normal", "cover", 40, 30)
    assert info.mezzanine.file_size == str(len(buf.getvalue()))
    many = client.get_image_infos(m.GetImageInfosRequest(image_ids=f"{body.image_id},nope")).body
    assert [i.image_id for i in many.image_info] == [body.image_id] and many.non_exist_image_ids == ["nope"]
    assert "InvalidImage.NotFound" in _err(lambda: client.get_image_info(m.GetImageInfoRequest(image_id="nope")))
    r = client.search_media(m.SearchMediaRequest(search_type="image", match="Tags = 'x'")).body
    assert [x.media_id for x in r.media_list] == [body.image_id] and r.media_list[0].image.url


def test_reference_ids_ai_refusal_and_delete(client: Any, up_server: Server) -> None:
    body = client.create_upload_video(m.CreateUploadVideoRequest(title="r", file_name="r.mp4",
                                                                 reference_id="lib-ref-001")).body
    vid, addr, auth = body.video_id, decode(body.upload_address), decode(body.upload_auth)
    assert client.get_video_info(m.GetVideoInfoRequest(reference_id="lib-ref-001")).body.video.video_id == vid
    r = client.get_video_infos(m.GetVideoInfosRequest(reference_ids="lib-ref-001,lib-ref-none")).body
    assert [v.video_id for v in r.video_list] == [vid] and r.non_exist_reference_ids == ["lib-ref-none"]
    # no AI job before the bytes are there
    assert "Forbidden.IllegalStatus" in _err(lambda: client.submit_aijob(
        m.SubmitAIJobRequest(media_id=vid, types="AIVideoTag")))
    # UpdateVideoInfo moves the ReferenceId
    client.update_video_info(m.UpdateVideoInfoRequest(video_id=vid, reference_id="lib-ref-002"))
    assert client.get_video_info(m.GetVideoInfoRequest(reference_id="lib-ref-002")).body.video.video_id == vid
    assert "InvalidVideo.NotFound" in _err(lambda: client.get_video_info(m.GetVideoInfoRequest(reference_id="lib-ref-001")))
    # DeleteVideo also retires its upload credential and ReferenceId
    client.delete_video(m.DeleteVideoRequest(video_ids=vid))
    import oss2

    with pytest.raises(oss2.exceptions.OssError) as ei:
        bucket_for(addr, auth).put_object(addr["FileName"], b"late bytes")
    assert ei.value.code == "InvalidAccessKeyId"
    client.create_upload_video(m.CreateUploadVideoRequest(title="r2", file_name="r.mp4", reference_id="lib-ref-002"))


def test_ai_cover_as_image(client: Any, up_server: Server, tmp_path: Path) -> None:
    """AI covers and GIFs of an uploaded video answer GetImageInfo under their AIImageInfoId."""
    src = make_video(tmp_path / "cov.mp4", seconds=1.0, seed=21)
    vid, addr, auth = _create(client, "cov.mp4")
    bucket_for(addr, auth).put_object_from_file(addr["FileName"], str(src))
    tid = client.add_aitemplate(m.AddAITemplateRequest(template_name="c", template_type="AIImage",
                                                       template_config='{"Format":"png","SetDefaultCover":"false"}')).body.template_id
    job_id = client.submit_aiimage_job(m.SubmitAIImageJobRequest(video_id=vid, aitemplate_id=tid)).body.job_id
    wait_for(lambda: (client.get_aiimage_jobs(m.GetAIImageJobsRequest(job_ids=job_id)).body.aiimage_job_list or
                      [None])[0] is not None and client.get_aiimage_jobs(m.GetAIImageJobsRequest(job_ids=job_id))
             .body.aiimage_job_list[0].status == "success", timeout=90)
    infos = client.list_aiimage_info(m.ListAIImageInfoRequest(video_id=vid)).body.aiimage_info_list
    assert infos
    img = client.get_image_info(m.GetImageInfoRequest(image_id=infos[0].aiimage_info_id)).body.image_info
    assert (img.image_type, img.status, img.mezzanine.width, img.mezzanine.height) == ("cover", "Normal", 320, 240)
    assert int(img.mezzanine.file_size) > 0 and img.url
