"""``openvod upload --endpoint``: the same flow as the SDKs (CreateUploadVideo, then the OSS dialect), a
multipart upload interrupted after a few parts and resumed by the next run (only the missing parts go)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alibabacloud_vod20170321 import models as m

from openvod import cli_upload
from tests.conftest import REPO, Server
from tests.sdk import new_client
from tests.upload.test_oss_flow import make_noise_video


def test_cli_upload_resumes(up_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = up_server.key("cli")
    src = make_noise_video(tmp_path / "cli.mp4", 3_000_000, seed=9)
    ckpt = tmp_path / "ckpt"
    args = ["upload", "--endpoint", up_server.endpoint, "--access-key-id", key.id, "--access-key-secret",
            key.secret, "--part-size", str(512 * 1024), "--checkpoint-dir", str(ckpt), "--json", str(src)]

    class Interrupted(BaseException):
        pass

    sent = {"n": 0}
    real = cli_upload.Progress.__call__

    def stop_after_1mb(self: cli_upload.Progress, n: int) -> None:
        sent["n"] += n
        if sent["n"] > 1024 * 1024:
            raise Interrupted()
        real(self, n)

    monkeypatch.setattr(cli_upload.Progress, "__call__", stop_after_1mb)
    from openvod.cli import main

    with pytest.raises(Interrupted):
        main([*args, "--data-dir", str(tmp_path / "unused")])
    (state_file,) = ckpt.glob("*.json")
    vid = json.loads(state_file.read_text())["VideoId"]
    client = new_client(up_server.endpoint, key)
    assert client.get_video_info(m.GetVideoInfoRequest(video_id=vid)).body.video.status == "Uploading"

    r = subprocess.run([sys.executable, "-m", "openvod.cli", *args, "--data-dir", str(tmp_path / "unused")],
                       capture_output=True, text=True, cwd=REPO, timeout=120,
                       env={**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", "")})
    assert r.returncode == 0, r.stderr
    (out,) = json.loads(r.stdout)
    assert out == {"File": str(src), "VideoId": vid, "Resumed": True}
    assert not list(ckpt.glob("*.json"))
    v = client.get_video_info(m.GetVideoInfoRequest(video_id=vid)).body.video
    assert (v.status, v.size) == ("Normal", src.stat().st_size)
    # a small file goes in one PutObject; a bad key is an error line, exit code 1
    small = make_noise_video(tmp_path / "small.mp4", 200_000, seed=10)
    bad = subprocess.run([sys.executable, "-m", "openvod.cli", "upload", "--endpoint", up_server.endpoint,
                          "--access-key-id", key.id, "--access-key-secret", "wrong", "--json", str(small)],
                         capture_output=True, text=True, cwd=REPO, timeout=120)
    assert bad.returncode == 1 and "SignatureDoesNotMatch" in json.loads(bad.stdout)[0]["Error"]
