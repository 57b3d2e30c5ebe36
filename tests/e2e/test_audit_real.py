"""AIMediaAudit with the real OCR and ASR (slow): a custom banned word shown on screen (Pillow
caption) and spoken (espeak-ng) is found with its time, once by an audit that runs OCR/ASR itself
and once by an audit that reuses a real AIVideoTag result of the media."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from alibabacloud_vod20170321 import models as m

from bench.audit.media import AuditClip, render
from bench.tag.media import Caption, Shot, Speech, espeak_available
from tests.conftest import Server, free_port, run_cli, wait_for
from tests.sdk import new_client

pytestmark = pytest.mark.slow
pytest.importorskip("rapidocr", reason="needs the tag extra")
pytest.importorskip("faster_whisper", reason="needs the tag extra")
NEEDS_SPEECH = pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")
TEMPLATE = '{"AuditItem":["porn","ad","live","audio"],"AuditRange":["video"],"AuditContent":["screen"],"AuditAutoBlock":"no"}'


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = Server(tmp_path_factory.mktemp("auditreal") / "data", free_port(),
               env={"OPENVOD_PLUGINS": "[]", "OPENVOD_ENGINE__WORKERS": "1"}).start()
    yield s
    s.stop()


def _wait_audit(c: Any, jid: str) -> Any:
    def done() -> Any:
        j = c.get_aimedia_audit_job(m.GetAIMediaAuditJobRequest(job_id=jid)).body.media_audit_job
        return j if j.status in ("success", "fail") else None

    job = wait_for(done, timeout=600, interval=1.0)
    assert job.status == "success", (job.code, job.message)
    return job


@NEEDS_SPEECH
@pytest.mark.parametrize("reuse_tag", [False, True])
def test_banned_word_shown_and_spoken(srv: Server, reuse_tag: bool) -> None:
    key = srv.key("real")
    r = run_cli(srv.data_dir, "audit", "words", "add", "--account", "real", "--label", "contraband", "moonshine")
    assert r.returncode == 0, r.stderr
    c = new_client(srv.endpoint, key)
    d = srv.data_dir.parent / "media"
    d.mkdir(exist_ok=True)
    p = d / f"real-{reuse_tag}.mp4"
    render(AuditClip(duration=10, shots=[Shot(0, 10, "gradient", 8)],
                     captions=[Caption("Fresh moonshine for sale", 2.0, 4.5, "middle", 0.09)],
                     speech=[Speech("Tonight we sell moonshine behind the barn.", 6.0)]), p)
    mid = str(c.register_media(m.RegisterMediaRequest(register_metadatas=json.dumps(
        [{"FileURL": str(p), "Title": "farm"}]))).body.registered_media_list[0].media_id)
    if reuse_tag:
        jid = c.submit_aijob(m.SubmitAIJobRequest(media_id=mid, types="AIVideoTag",
                                                  config='{"AIVideoTag":{"AnalyseTypes":"OCR,ASR"}}')
                             ).body.aijob_list.aijob[0].job_id
        wait_for(lambda: c.list_aijob(m.ListAIJobRequest(job_ids=jid)).body.aijob_list.aijob[0].status == "success",
                 timeout=600, interval=1.0)
    tid = c.add_aitemplate(m.AddAITemplateRequest(template_name="t", template_type="AIMediaAudit",
                                                  template_config=TEMPLATE)).body.template_id
    job = _wait_audit(c, c.submit_aimedia_audit_job(m.SubmitAIMediaAuditJobRequest(media_id=mid, template_id=tid)
                                                    ).body.job_id)
    data = job.data
    hits = [x for x in data.video_result.ad_result.top_list if x.label == "contraband"]
    assert hits and 1500 <= int(hits[0].timestamp) <= 3000, data.video_result.ad_result.to_map()
    audio = c.get_media_audit_audio_result_detail(m.GetMediaAuditAudioResultDetailRequest(media_id=mid)).body
    said = [x for x in audio.media_audit_audio_result_detail.list if x.label == "contraband"]
    assert said and 5 <= said[0].start_time <= 7, [x.to_map() for x in audio.media_audit_audio_result_detail.list]
    assert data.suggestion == "block"
