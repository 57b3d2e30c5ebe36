"""Every Action through alibabacloud_vod20170321, with V3 (default) and with signature_algorithm="v2"."""

from __future__ import annotations

import io
import json

import httpx
import pytest
from alibabacloud_vod20170321 import models as m
from PIL import Image

from tests.conftest import wait_for
from tests.sdk import new_client

pytestmark = pytest.mark.parametrize("v2", [False, True], ids=["v3", "v2"])


def _register(client, path, title="clip"):  # type: ignore[no-untyped-def]
    body = client.register_media(
        m.RegisterMediaRequest(register_metadatas=json.dumps([{"FileURL": str(path), "Title": title}]))
    ).body
    assert body.failed_file_urls == []
    return body.registered_media_list[0]


def test_register_and_describe(server, key, video, v2):  # type: ignore[no-untyped-def]
    c = new_client(server.endpoint, key, v2)
    first = _register(c, video)
    again = _register(c, video)
    assert again.media_id == first.media_id and again.new_register is False
    v = c.get_video_info(m.GetVideoInfoRequest(video_id=first.media_id)).body.video
    assert v.video_id == first.media_id and v.title == "clip"
    assert abs(v.duration - 2.0) < 0.2 and v.size == video.stat().st_size
    infos = c.get_video_infos(m.GetVideoInfosRequest(video_ids=f"{first.media_id},nope")).body
    assert [x.video_id for x in infos.video_list] == [first.media_id]
    assert infos.non_exist_video_ids == ["nope"]
    mz = c.get_mezzanine_info(m.GetMezzanineInfoRequest(video_id=first.media_id, addition_type="video,audio")).body
    assert mz.mezzanine.width == 320 and mz.mezzanine.height == 240
    assert mz.mezzanine.video_stream_list[0].codec_name == "h264"
    assert mz.mezzanine.audio_stream_list[0].codec_name == "aac"
    # the signed source URL really serves the file
    r = httpx.get(mz.mezzanine.file_url, timeout=30)
    assert r.status_code == 200 and r.content == video.read_bytes()


def test_ai_job_lifecycle(server, key, video, v2):  # type: ignore[no-untyped-def]
    c = new_client(server.endpoint, key, v2)
    mid = _register(c, video).media_id
    resp = c.submit_aijob(
        m.SubmitAIJobRequest(
            media_id=mid,
            types="AIVideoTag,AIMediaDNA",
            config='{"AIVideoTagConfig":{"AnalyseTypes":"ASR,OCR","OrigASRData":true}}',
            user_data='{"Extend":{"localId":"x1"}}',
        )
    ).body
    jobs = resp.aijob_list.aijob
    assert [j.type for j in jobs] == ["AIVideoTag", "AIMediaDNA"]
    ids = ",".join(j.job_id for j in jobs)

    def done():  # type: ignore[no-untyped-def]
        body = c.list_aijob(m.ListAIJobRequest(job_ids=ids + ",missing")).body
        return body if all(j.status in ("success", "fail") for j in body.aijob_list.aijob) else None

    body = wait_for(done)
    assert body.non_exist_aijob_ids.string == ["missing"]
    by_type = {j.type: j for j in body.aijob_list.aijob}
    tag = by_type["AIVideoTag"]
    assert tag.status == "success" and tag.code == "0" and tag.message == "OK"
    data = json.loads(tag.data)
    assert "OrigASRData" in data and data["Keyword"]
    assert tag.creation_time.endswith("Z") and tag.complete_time.endswith("Z")
    res = c.get_aivideo_tag_result(m.GetAIVideoTagResultRequest(media_id=mid)).body.video_tag_result
    assert [k.tag for k in res.keyword] == [k["Tag"] for k in data["Keyword"]]
    assert res.keyword[0].times == data["Keyword"][0]["Times"]
    assert res.person == [] and res.category[0].tag == "test"
    dna = c.get_media_dnaresult(m.GetMediaDNAResultRequest(media_id=mid)).body.dnaresult
    assert dna.video_dna == []
    d = c.submit_media_dnadelete_job(m.SubmitMediaDNADeleteJobRequest(media_id=mid)).body
    assert len(d.job_id) == 32


def test_templates(server, key, v2):  # type: ignore[no-untyped-def]
    c = new_client(server.endpoint, key, v2)
    tid = c.add_aitemplate(
        m.AddAITemplateRequest(template_name="gif", template_type="AIImage",
                               template_config='{"Format":"gif","SetDefaultCover":"false"}')
    ).body.template_id
    info = c.get_aitemplate(m.GetAITemplateRequest(template_id=tid)).body.template_info
    assert info.template_type == "AIImage" and info.is_default == "NotDefault" and info.source == "Custom"
    assert json.loads(info.template_config) == {"Format": "gif", "SetDefaultCover": "false"}
    c.update_aitemplate(m.UpdateAITemplateRequest(template_id=tid, template_name="png",
                                                  template_config='{"Format":"png","SetDefaultCover":"true"}'))
    c.set_default_aitemplate(m.SetDefaultAITemplateRequest(template_id=tid))
    d = c.get_default_aitemplate(m.GetDefaultAITemplateRequest(template_type="AIImage")).body.template_info
    assert d.template_id == tid and d.is_default == "Default" and d.template_name == "png"
    listed = c.list_aitemplate(m.ListAITemplateRequest(template_type="AIImage")).body.template_info_list
    assert tid in [t.template_id for t in listed]
    tid2 = c.add_aitemplate(
        m.AddAITemplateRequest(template_name="audit", template_type="AIMediaAudit",
                               template_config='{"AuditItem":["porn"],"AuditRange":["video"],'
                                               '"AuditContent":["screen"],"AuditAutoBlock":"no"}')
    ).body.template_id
    assert c.delete_aitemplate(m.DeleteAITemplateRequest(template_id=tid2)).body.template_id == tid2
    with pytest.raises(Exception) as ei:
        c.get_aitemplate(m.GetAITemplateRequest(template_id=tid2))
    assert "InvalidAITemplate.NotFound" in str(ei.value)


def test_ai_image_job(server, key, video, v2):  # type: ignore[no-untyped-def]
    c = new_client(server.endpoint, key, v2)
    mid = _register(c, video).media_id
    tid = c.add_aitemplate(
        m.AddAITemplateRequest(template_name="cover", template_type="AIImage",
                               template_config='{"Format":"png","SetDefaultCover":"true"}')
    ).body.template_id
    ud = '{"Extend":{"k":"v"}}'
    job_id = c.submit_aiimage_job(m.SubmitAIImageJobRequest(video_id=mid, aitemplate_id=tid, user_data=ud)).body.job_id

    def done():  # type: ignore[no-untyped-def]
        lst = c.get_aiimage_jobs(m.GetAIImageJobsRequest(job_ids=job_id)).body.aiimage_job_list
        return lst[0] if lst and lst[0].status in ("success", "fail") else None

    job = wait_for(done)
    assert job.status == "success" and job.code == "Success"
    assert job.user_data == ud and json.loads(job.template_config)["Format"] == "png"
    result = json.loads(job.aiimage_result)
    assert result and isinstance(result[0]["Score"], float)
    infos = c.list_aiimage_info(m.ListAIImageInfoRequest(video_id=mid)).body.aiimage_info_list
    mine = [i for i in infos if i.job_id == job_id]
    assert len(mine) == len(result) and all(i.format == "png" for i in mine)
    img = Image.open(io.BytesIO(httpx.get(mine[0].file_url, timeout=30).content))
    assert img.format == "PNG" and img.size == (320, 240)
    cover = c.get_video_info(m.GetVideoInfoRequest(video_id=mid)).body.video.cover_url
    assert "/blobs/aiimage/" in cover and httpx.get(cover, timeout=30).status_code == 200
    c.delete_aiimage_infos(m.DeleteAIImageInfosRequest(aiimage_info_ids=mine[0].aiimage_info_id))
    left = c.list_aiimage_info(m.ListAIImageInfoRequest(video_id=mid)).body.aiimage_info_list
    assert mine[0].aiimage_info_id not in [i.aiimage_info_id for i in left]
    assert httpx.get(mine[0].file_url, timeout=30).status_code == 404


def test_message_callback_settings(server, key, v2):  # type: ignore[no-untyped-def]
    c = new_client(server.endpoint, key, v2)
    c.set_message_callback(
        m.SetMessageCallbackRequest(callback_type="HTTP", callback_url="http://127.0.0.1:9/cb",
                                    event_type_list="AIComplete", auth_switch="on", auth_key="Abc123")
    )
    mc = c.get_message_callback(m.GetMessageCallbackRequest()).body.message_callback
    assert mc.callback_url == "http://127.0.0.1:9/cb" and mc.event_type_list == "AIComplete"
    assert mc.auth_switch == "on" and mc.auth_key == "Abc123" and mc.callback_type == "HTTP"
    c.set_message_callback(m.SetMessageCallbackRequest(callback_type="HTTP", callback_url="http://127.0.0.1:9/cb",
                                                       event_type_list="", auth_switch="off"))


def test_delete_video(server, key, media_dir, v2):  # type: ignore[no-untyped-def]
    from tests.media import make_video

    path = make_video(media_dir / f"del-{v2}.mp4", seconds=1.0, seed=7 + int(v2))
    c = new_client(server.endpoint, key, v2)
    mid = _register(c, path).media_id
    r = c.delete_video(m.DeleteVideoRequest(video_ids=f"{mid},ghost")).body
    assert r.non_exist_video_ids == ["ghost"]
    with pytest.raises(Exception) as ei:
        c.get_video_info(m.GetVideoInfoRequest(video_id=mid))
    assert "InvalidVideo.NotFound" in str(ei.value)
    assert not list((server.data_dir / "blobs" / "media").glob(f"*/{mid}"))


def test_get_job_detail(server, key, video, v2):  # type: ignore[no-untyped-def]
    c = new_client(server.endpoint, key, v2)
    mid = _register(c, video).media_id
    jid = c.submit_aijob(m.SubmitAIJobRequest(media_id=mid, types="AIVideoTag")).body.aijob_list.aijob[0].job_id
    d = c.get_job_detail(m.GetJobDetailRequest(job_id=jid, job_type="ai")).body
    assert d.job_type == "ai" and d.aijob_detail.job_id == jid and d.aijob_detail.media_id == mid
    assert d.aijob_detail.job_type == "AIVideoTag" and d.aijob_detail.trigger == "Manual"
    assert isinstance(d.aijob_detail.user_id, int) and d.aijob_detail.create_time.endswith("Z")
    with pytest.raises(Exception) as ei:
        c.get_job_detail(m.GetJobDetailRequest(job_id=jid, job_type="transcode"))
    assert "InvalidParameter" in str(ei.value)
    with pytest.raises(Exception) as ei:
        c.get_job_detail(m.GetJobDetailRequest(job_id="0" * 32, job_type="ai"))
    assert "InvalidAIJob.NotFound" in str(ei.value)
