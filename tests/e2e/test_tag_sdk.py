"""AIVideoTag end to end through alibabacloud_vod20170321 against a real server with the real analyzers.

Generated media with known content (bench.tag.media): captions drawn with Pillow (Noto CJK for
Chinese), the astronaut photograph from scikit-image composited at known times, speech synthesised
with espeak-ng at known times, a music bed and silence. The shared ``server`` fixture swaps in a
fake AIVideoTag analyzer, so this module starts its own server without plug-ins.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_vod20170321 import models as m

from bench.tag.media import (
    Caption,
    ClipSpec,
    FaceAppearance,
    Shot,
    Speech,
    cjk_font,
    espeak_available,
    render,
)
from tests.conftest import REPO, Server, db_env, free_port, wait_for
from tests.sdk import new_client, v3_request

pytest.importorskip("faster_whisper", reason="AIVideoTag needs the tag extra (pip install -e '.[tag]')")
pytest.importorskip("rapidocr", reason="AIVideoTag needs the tag extra (pip install -e '.[tag]')")
pytest.importorskip("skimage", reason="the face photograph ships in scikit-image")

TOL = 0.6  # seconds: sampler scan step (0.2 s) + sentence/word timing slack
NEEDS_SPEECH = pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed (apt-get install espeak-ng)")
NEEDS_CJK = pytest.mark.skipif(cjk_font() is None, reason="no CJK font (apt-get install fonts-noto-cjk)")


def clip_spec(audio: bool = True) -> ClipSpec:
    title = "城市新闻 City News" if cjk_font() else "City News"
    return ClipSpec(
        duration=12.0, width=640, height=360, fps=10, audio=audio,
        shots=[Shot(0, 4, "gradient", 1), Shot(4, 9, "gradient", 2), Shot(9, 12, "gradient", 3)],
        captions=[Caption(title, 0.5, 3.5, "middle", 0.09), Caption("Breaking news from Paris", 5.0, 8.0, "bottom", 0.07)],
        faces=[FaceAppearance("astronaut", 4.0, 9.0, x=0.55, y=0.05, height=0.75),
               FaceAppearance("astronaut", 9.5, 12.0, x=0.08, y=0.15, height=0.6, flip=True)],
        speech=[Speech("Welcome to the evening news from London.", 1.0),
                Speech("The weather will be sunny tomorrow with a light wind.", 5.0)] if espeak_available() else [],
        music=[(9.6, 11.6)],
    )


@pytest.fixture(scope="module")
def tag_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("tagsrv")
    srv = Server(root / "data", free_port(), env={"OPENVOD_PLUGINS": "[]", "OPENVOD_ENGINE__WORKERS": "1"}).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def media(tag_server: Server) -> dict[str, Any]:
    d = tag_server.data_dir.parent / "media"
    d.mkdir(exist_ok=True)
    truth = render(clip_spec(), d / "news.mp4")
    render(ClipSpec(duration=4.0, width=320, height=180, fps=10, shots=[Shot(0, 4, "black")]), d / "black.mp4")
    render(ClipSpec(duration=6.0, width=640, height=360, fps=10, audio=False, shots=[Shot(0, 6, "gradient", 7)],
                    faces=[FaceAppearance("astronaut", 1.0, 6.0, x=0.3, y=0.1, height=0.7)]), d / "mute.mp4")
    return {"dir": d, "truth": truth}


@pytest.fixture(scope="module")
def key(tag_server: Server) -> Any:
    return tag_server.key("tagger")


def _register(c: Any, path: Path) -> str:
    body = c.register_media(m.RegisterMediaRequest(
        register_metadatas=json.dumps([{"FileURL": str(path), "Title": path.stem}]))).body
    assert body.failed_file_urls == [], body.failed_file_urls
    return str(body.registered_media_list[0].media_id)


def _run(c: Any, media_id: str, config: str | None) -> Any:
    jobs = c.submit_aijob(m.SubmitAIJobRequest(media_id=media_id, types="AIVideoTag", config=config)).body.aijob_list.aijob
    assert [j.type for j in jobs] == ["AIVideoTag"]
    jid = jobs[0].job_id

    def done() -> Any:
        lst = c.list_aijob(m.ListAIJobRequest(job_ids=jid)).body.aijob_list.aijob
        return lst[0] if lst and lst[0].status in ("success", "fail") else None

    return wait_for(done, timeout=300, interval=0.5)


def _near(times: list[str], want: float, tol: float = TOL) -> bool:
    return any(abs(int(t) / 1000 - want) <= tol for t in times)


@pytest.fixture(scope="module")
def full_job(tag_server: Server, key: Any, media: dict[str, Any]) -> dict[str, Any]:
    """One job with every type, the older Config spelling and OrigASRData."""
    c = new_client(tag_server.endpoint, key)
    mid = _register(c, media["dir"] / "news.mp4")
    job = _run(c, mid, '{"AIVideoTagConfig":{"AnalyseTypes":"Face,ASR,OCR,Category,Annotation","OrigASRData":true}}')
    assert job.status == "success", (job.code, job.message)
    assert job.code == "0" and job.message == "OK"
    return {"client": c, "media_id": mid, "job": job, "data": json.loads(job.data)}


def test_every_confidence_is_between_0_and_1(tag_server: Server, key: Any, full_job: dict[str, Any]) -> None:
    detail = v3_request(tag_server.url, key, "GetAIVideoTagDetail", {"MediaId": full_job["media_id"]}).json()

    def confidences(x: Any) -> list[float]:
        if isinstance(x, dict):
            return [v for k, v in x.items() if k == "Confidence"] + [c for v in x.values() for c in confidences(v)]
        return [c for v in x for c in confidences(v)] if isinstance(x, list) else []

    found = confidences(full_job["data"]) + confidences(detail)
    assert found and all(0.0 <= c <= 1.0 for c in found), found


def test_person_with_fetchable_face_crop(full_job: dict[str, Any]) -> None:
    persons = full_job["data"]["Person"]
    assert len(persons) == 1, persons  # both appearances of the one face are one person
    p = persons[0]
    assert p["Tag"].startswith("Unknown-") and p["PersonId"]
    assert _near(p["Times"], 4.0) and _near(p["Times"], 9.5), p["Times"]
    assert all(t.isdigit() for t in p["Times"])
    r = httpx.get(p["FaceUrl"], timeout=30)
    assert r.status_code == 200 and r.content[:3] == b"\xff\xd8\xff"  # a JPEG
    assert "auth_key=" in p["FaceUrl"]


@NEEDS_SPEECH
def test_orig_asr_data_sentences(full_job: dict[str, Any]) -> None:
    orig = full_job["data"]["OrigASRData"]
    assert abs(int(orig["Duration"]) - 12000) < 300
    sents = orig["AsrTextList"]
    assert len(sents) == 2, sents
    first, second = sents
    assert "london" in first["Text"].lower() and "tomorrow" in second["Text"].lower()
    assert abs(first["StartTime"] / 1000 - 1.0) <= TOL and abs(second["StartTime"] / 1000 - 5.0) <= TOL
    assert all(s["EndTime"] > s["StartTime"] and s["ChannelId"] == 0 and 60 < s["SpeechRate"] < 400 for s in sents)
    # the music bed (9.6-11.6 s) produced no text
    assert all(s["StartTime"] < 9000 for s in sents)


def test_keywords_locations_times_categories(full_job: dict[str, Any]) -> None:
    data = full_job["data"]
    kw = {k["Tag"].lower(): k["Times"] for k in data["Keyword"]}
    assert "breaking news from paris" in kw and _near(kw["breaking news from paris"], 5.0)
    title = "城市新闻 city news" if cjk_font() else "city news"
    assert any(k.replace(" ", "") == title.replace(" ", "") for k in kw), kw
    assert "person" in kw and "text" in kw  # Annotation labels
    loc = {x["Tag"]: x["Times"] for x in data["Location"]}
    assert "Paris" in loc and _near(loc["Paris"], 5.0)
    if espeak_available():
        assert "London" in loc
        times = {x["Tag"].lower() for x in data["Time"]}
        assert "tomorrow" in times
    cats = [c["Tag"] for c in data["Category"]]
    assert "News" in cats and all(0 < c["Confidence"] <= 1 for c in data["Category"])
    assert data["Shots"] and data["Models"] and data["Analyzer"].startswith("openvod-videotag@")
    assert {o["Text"] for o in data["OCR"]} >= {"Breaking news from Paris"}


def test_get_ai_video_tag_result_through_sdk(full_job: dict[str, Any]) -> None:
    c = full_job["client"]
    res = c.get_aivideo_tag_result(m.GetAIVideoTagResultRequest(media_id=full_job["media_id"])).body.video_tag_result
    data = full_job["data"]
    assert [p.tag for p in res.person] == [p["Tag"] for p in data["Person"]]
    assert res.person[0].face_url == data["Person"][0]["FaceUrl"] and res.person[0].times == data["Person"][0]["Times"]
    assert [k.tag for k in res.keyword] == [k["Tag"] for k in data["Keyword"]]
    assert [x.tag for x in res.location] == [x["Tag"] for x in data["Location"]]
    assert [x.tag for x in res.category] == [x["Tag"] for x in data["Category"]]
    assert "OrigASRData" not in res.to_map()


def test_detail_action_and_subtitles(tag_server: Server, key: Any, full_job: dict[str, Any]) -> None:
    r = v3_request(tag_server.url, key, "GetAIVideoTagDetail", {"MediaId": full_job["media_id"]})
    assert r.status_code == 200, r.text
    detail = r.json()["Detail"]
    assert detail["Faces"][0]["FaceUrl"].startswith("http") and detail["Seconds"]["total"] > 0
    assert detail["Shots"] and detail["Stats"]["video"]["frames_selected"] < 60  # not every frame analysed
    if espeak_available():
        words = detail["ASR"]["Sentences"][0]["Words"]
        assert words and all("StartTime" in w and 0 <= w["Confidence"] <= 1 for w in words)
        srt = v3_request(tag_server.url, key, "GetAIVideoTagDetail",
                         {"JobId": full_job["job"].job_id, "Format": "srt"}).json()["Subtitle"]
        assert srt.startswith("1\n00:00:0") and "London" in srt
        vtt = v3_request(tag_server.url, key, "GetAIVideoTagDetail",
                         {"MediaId": full_job["media_id"], "Format": "vtt"}).json()["Subtitle"]
        assert vtt.startswith("WEBVTT\n\n00:00:0")
    out = tag_server.data_dir.parent / "news.srt"
    r = _cli(tag_server, "tag", "export", "--account", "tagger", "--media-id", full_job["media_id"],
             "--format", "srt", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_text().startswith("1\n") if espeak_available() else out.exists()
    other = tag_server.key("stranger")
    assert v3_request(tag_server.url, other, "GetAIVideoTagDetail", {"MediaId": full_job["media_id"]}).status_code == 404


@NEEDS_SPEECH
def test_orig_asr_only_when_requested(tag_server: Server, key: Any, full_job: dict[str, Any]) -> None:
    c = full_job["client"]
    job = _run(c, full_job["media_id"], '{"AIVideoTag":{"AnalyseTypes":"ASR"}}')
    assert job.status == "success", job.message
    data = json.loads(job.data)
    assert "OrigASRData" not in data
    assert data["Person"] == [] and data["Category"] == [] and "OCR" not in data
    assert any(k["Tag"] == "London" for k in data["Location"])
    assert all(k["Source"] == "asr" for k in data["Keyword"])


def test_silent_black_video_has_no_tags(tag_server: Server, key: Any, media: dict[str, Any]) -> None:
    c = new_client(tag_server.endpoint, key)
    mid = _register(c, media["dir"] / "black.mp4")
    job = _run(c, mid, '{"AIVideoTag":{"OrigASRData":true}}')  # default: all five types
    assert job.status == "success", job.message
    data = json.loads(job.data)
    for k in ("Person", "Location", "Time", "Category"):
        assert data[k] == [], (k, data[k])
    assert data["Keyword"] == []
    assert data["OrigASRData"]["AsrTextList"] == [] and data["OCR"] == []
    assert [a["Tag"] for a in data["Annotation"]] == ["Black screen"]  # noted in the extra key only


def test_no_audio_stream(tag_server: Server, key: Any, media: dict[str, Any]) -> None:
    c = new_client(tag_server.endpoint, key)
    mid = _register(c, media["dir"] / "mute.mp4")
    job = _run(c, mid, '{"AIVideoTag":{"AnalyseTypes":"ASR","OrigASRData":true}}')
    assert job.status == "fail" and job.code == "InvalidVideo.NoAudioStream", (job.code, job.message)
    assert "audio" in job.message
    job = _run(c, mid, '{"AIVideoTag":{"AnalyseTypes":"Face,ASR","OrigASRData":true}}')
    assert job.status == "success", job.message
    data = json.loads(job.data)
    assert len(data["Person"]) == 1 and data["OrigASRData"]["AsrTextList"] == []


def test_undecodable_stream_fails(tag_server: Server, key: Any, media: dict[str, Any]) -> None:
    c = new_client(tag_server.endpoint, key)
    src = media["dir"] / "broken.mp4"
    src.write_bytes((media["dir"] / "black.mp4").read_bytes())
    mid = _register(c, src)
    # Storage corruption after upload: the stored copy is no longer media.
    for p in (tag_server.data_dir / "blobs").rglob("*"):
        if p.is_file() and mid in str(p) and p.suffix == ".mp4":
            p.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 200)
    job = _run(c, mid, '{"AIVideoTag":{"AnalyseTypes":"OCR"}}')
    assert job.status == "fail" and job.code == "InvalidVideo.Damaged", (job.code, job.message)


def test_bad_analyse_type_refused(tag_server: Server, key: Any, full_job: dict[str, Any]) -> None:
    c = full_job["client"]
    with pytest.raises(ClientException) as ei:
        c.submit_aijob(m.SubmitAIJobRequest(media_id=full_job["media_id"], types="AIVideoTag",
                                            config='{"AIVideoTag":{"AnalyseTypes":"Face,Nudity"}}'))
    assert ei.value.code == "InvalidParameter" and "Nudity" in ei.value.message


def _cli(srv: Server, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "openvod.cli", *args, "--data-dir", str(srv.data_dir)],
                          capture_output=True, text=True, cwd=REPO, timeout=300, check=False,
                          env={**os.environ, **db_env(srv.data_dir)})  # the server's database (PostgreSQL mode)


def test_face_library_names_and_stable_unknown_ids(tag_server: Server, media: dict[str, Any]) -> None:
    from PIL import Image

    from bench.tag.media import photo

    k = tag_server.key("library")
    c = new_client(tag_server.endpoint, k)
    # an unknown person keeps one id across the account's videos
    a = _run(c, _register(c, media["dir"] / "mute.mp4"), '{"AIVideoTag":{"AnalyseTypes":"Face"}}')
    b = _run(c, _register(c, media["dir"] / "news.mp4"), '{"AIVideoTag":{"AnalyseTypes":"Face"}}')
    pa, pb = json.loads(a.data)["Person"], json.loads(b.data)["Person"]
    assert len(pa) == len(pb) == 1 and pa[0]["PersonId"] == pb[0]["PersonId"] and pa[0]["Tag"] == pb[0]["Tag"]
    # naming that person (CLI) makes later jobs return the name
    r = _cli(tag_server, "face", "name", "--account", "library", pa[0]["PersonId"], "Eileen Collins")
    assert r.returncode == 0, r.stderr
    again = json.loads(_run(c, _register(c, media["dir"] / "news.mp4"), '{"AIVideoTag":{"AnalyseTypes":"Face"}}').data)
    assert again["Person"][0]["Tag"] == "Eileen Collins" and again["Person"][0]["Known"] is True
    # a person added from an example photograph is recognised by name in another account
    img = media["dir"] / "astronaut.png"
    Image.fromarray(photo("astronaut")).save(img)
    r = _cli(tag_server, "face", "add", "--account", "newsroom", "--name", "Commander Collins", str(img), "--json")
    assert r.returncode == 0, r.stderr
    k2 = tag_server.key("newsroom")
    c2 = new_client(tag_server.endpoint, k2)
    job = _run(c2, _register(c2, media["dir"] / "mute.mp4"), '{"AIVideoTag":{"AnalyseTypes":"Face"}}')
    person = json.loads(job.data)["Person"][0]
    assert person["Tag"] == "Commander Collins" and person["Known"] is True
    lib = v3_request(tag_server.url, k2, "ListFaceLibrary").json()["PersonList"]["Person"]
    assert [p["Name"] for p in lib] == ["Commander Collins"]
