"""AIMediaDNA end to end through alibabacloud_vod20170321 against a real server with the real analyzer.

RegisterMedia -> SubmitAIJob(AIMediaDNA) -> ListAIJob -> GetMediaDNAResult, SearchOnly, DNADBId,
SubmitMediaDNADeleteJob, DeleteVideo, and account isolation. The shared ``server`` fixture swaps in a
fake DNA analyzer, so this module starts its own server without plug-ins.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alibabacloud_vod20170321 import models as m

from tests.analyzers.test_dna_clips import CopyTruth, make_copy, make_source
from tests.conftest import Server, free_port, wait_for
from tests.sdk import new_client


@pytest.fixture(scope="module")
def dna_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("dnasrv")
    srv = Server(root / "data", free_port(), env={"OPENVOD_PLUGINS": "[]"}).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def media(dna_server: Server) -> dict[str, Any]:
    d = dna_server.data_dir.parent / "media"
    d.mkdir(exist_ok=True)
    src = make_source(d / "original.mp4", seconds=14.0, seed=21)
    make_source(d / "unrelated.mp4", seconds=10.0, seed=22)
    truth = make_copy(d / "reupload.mp4", src, 3.0, 11.0, crop=(0.05, 0.05, 0.9, 0.9), flip=True, speed=1.15, crf=33)
    return {"dir": d, "truth": truth}


def _register(c: Any, path: Path) -> str:
    body = c.register_media(m.RegisterMediaRequest(register_metadatas=json.dumps([{"FileURL": str(path), "Title": path.stem}]))).body
    assert body.failed_file_urls == []
    return str(body.registered_media_list[0].media_id)


def _dna_job(c: Any, media_id: str, config: str | None = None) -> Any:
    jobs = c.submit_aijob(m.SubmitAIJobRequest(media_id=media_id, types="AIMediaDNA", config=config)).body.aijob_list.aijob
    assert [j.type for j in jobs] == ["AIMediaDNA"]
    jid = jobs[0].job_id

    def done() -> Any:
        lst = c.list_aijob(m.ListAIJobRequest(job_ids=jid)).body.aijob_list.aijob
        return lst[0] if lst and lst[0].status in ("success", "fail") else None

    job = wait_for(done, timeout=120)
    assert job.status == "success", (job.code, job.message)
    assert job.code == "0" and job.media_id == media_id
    return job


def test_dna_flow(dna_server: Server, media: dict[str, Any]) -> None:
    c = new_client(dna_server.endpoint, dna_server.key("dna-alice"))
    d: Path = media["dir"]
    truth: CopyTruth = media["truth"]
    original = _register(c, d / "original.mp4")
    unrelated = _register(c, d / "unrelated.mp4")
    reupload = _register(c, d / "reupload.mp4")

    assert json.loads(_dna_job(c, original).data) == {"VideoDNA": []}  # empty library
    assert json.loads(_dna_job(c, unrelated).data) == {"VideoDNA": []}

    job = _dna_job(c, reupload)
    data = json.loads(job.data)
    assert [e["PrimaryKey"] for e in data["VideoDNA"]] == [original]
    entry = data["VideoDNA"][0]
    assert 0.5 <= float(entry["Similarity"]) <= 1.0
    (detail,) = entry["Detail"]
    q0, qd = float(detail["Input"]["Start"]), float(detail["Input"]["Duration"])
    r0, rd = float(detail["Duplication"]["Start"]), float(detail["Duplication"]["Duration"])
    assert abs(q0 - truth.q0) < 1.0 and abs(q0 + qd - truth.q1) < 1.0
    assert abs(r0 - truth.r0) < 1.0 and abs(r0 + rd - truth.r1) < 1.0
    assert entry["Transform"]["Flip"] is True and abs(float(entry["Transform"]["Speed"]) - 1.15) < 0.08

    # GetMediaDNAResult returns the same result, parsed by the SDK's models.
    res = c.get_media_dnaresult(m.GetMediaDNAResultRequest(media_id=reupload)).body.dnaresult
    assert [v.primary_key for v in res.video_dna] == [original]
    got = res.video_dna[0].detail[0]
    assert (got.input.start, got.duplication.duration) == (detail["Input"]["Start"], detail["Duplication"]["Duration"])

    # The original, searched again (SearchOnly), now finds the re-upload; the library is unchanged.
    again = json.loads(_dna_job(c, original, '{"AIMediaDNA":{"SearchOnly":true}}').data)
    assert [e["PrimaryKey"] for e in again["VideoDNA"]] == [reupload]

    # Another account never matches this account's videos.
    bob = new_client(dna_server.endpoint, dna_server.key("dna-bob"))
    bob_copy = _register(bob, d / "reupload.mp4")
    assert json.loads(_dna_job(bob, bob_copy).data) == {"VideoDNA": []}

    # A named library is separate from the default one.
    cfg = '{"AIMediaDNA":{"DNADBId":"db-news"}}'
    assert json.loads(_dna_job(c, reupload, cfg).data) == {"VideoDNA": []}

    # SubmitMediaDNADeleteJob takes the original out of every library: nothing matches it any more.
    dj = c.submit_media_dnadelete_job(m.SubmitMediaDNADeleteJobRequest(media_id=original)).body
    assert len(dj.job_id) == 32
    assert json.loads(_dna_job(c, reupload).data) == {"VideoDNA": []}

    # DeleteVideo removes the re-upload's fingerprint too: the original (re-added) finds nothing.
    c.delete_video(m.DeleteVideoRequest(video_ids=reupload))
    assert json.loads(_dna_job(c, original).data) == {"VideoDNA": []}


def test_cli_compare_and_groups(dna_server: Server, media: dict[str, Any]) -> None:
    from tests.conftest import run_cli

    d: Path = media["dir"]
    truth: CopyTruth = media["truth"]
    r = run_cli(dna_server.data_dir, "dna", "compare", str(d / "reupload.mp4"), str(d / "original.mp4"), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    (entry,) = out["VideoDNA"]
    assert entry["PrimaryKey"] == str(d / "original.mp4") and entry["Transform"]["Flip"] is True
    assert abs(float(entry["Detail"][0]["Input"]["Start"]) - truth.q0) < 1.0
    r = run_cli(dna_server.data_dir, "dna", "compare", str(d / "unrelated.mp4"), str(d / "original.mp4"))
    assert r.returncode == 0 and "does not copy" in r.stdout

    c = new_client(dna_server.endpoint, dna_server.key("dna-carol"))
    a = _register(c, d / "original.mp4")
    b = _register(c, d / "reupload.mp4")
    _register(c, d / "unrelated.mp4")
    for mid in (a, b):
        _dna_job(c, mid)
    r = run_cli(dna_server.data_dir, "dna", "groups", "--account", "dna-carol", "--json")
    assert r.returncode == 0, r.stderr
    groups = json.loads(r.stdout)
    assert len(groups) == 1 and sorted(v["MediaId"] for v in groups[0]["Videos"]) == sorted([a, b])
    assert groups[0]["Account"] == "dna-carol" and groups[0]["Pairs"][0]["Similarity"]
    r = run_cli(dna_server.data_dir, "dna", "groups", "--account", "nobody")
    assert r.returncode == 0 and "no duplicate groups" in r.stdout
