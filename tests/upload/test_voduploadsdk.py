"""The official Python VOD upload SDK (``voduploadsdk`` 1.0.2 from PyPI, installed with ``--no-deps``: its
declared dependency aliyun-python-sdk-core-v3 ships the same ``aliyunsdkcore`` package as
aliyun-python-sdk-core and would overwrite it). Its RPC client is pointed at openvod with
``AcsClient.add_endpoint``; its progress report, hard-coded to http://vod.cn-shanghai.aliyuncs.com, reaches
openvod through an HTTP proxy setting (a hosts-file entry does the same in a deployment). Both the
simple put (small file) and its own serial multipart upload are exercised; GetUploadDetails shows the
reported progress."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alibabacloud_vod20170321 import models as m

from tests.conftest import Key, Server
from tests.sdk import new_client
from tests.upload.test_oss_flow import make_noise_video

vod = pytest.importorskip("voduploadsdk.AliyunVodUploader", reason="pip install --no-deps voduploadsdk")


def _uploader(server: Server, key: Key, monkeypatch: pytest.MonkeyPatch) -> Any:
    from voduploadsdk.AliyunVodUploader import AliyunVodUploader

    # The progress report goes to a fixed host over plain HTTP: reach openvod through a proxy setting.
    monkeypatch.setenv("HTTP_PROXY", server.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    up = AliyunVodUploader(key.id, key.secret)
    up._AliyunVodUploader__vodClient.add_endpoint("cn-shanghai", "vod", server.endpoint)
    up.uploadProgressCallback = lambda consumed, total: None  # the SDK prints every part otherwise
    return up


def test_voduploadsdk_put_and_multipart(up_server: Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from voduploadsdk.UploadVideoRequest import UploadVideoRequest

    key = up_server.key("voduploadsdk")
    client = new_client(up_server.endpoint, key)
    up = _uploader(up_server, key, monkeypatch)
    small = make_noise_video(tmp_path / "small.mp4", 300_000, seed=3)
    vid = up.uploadLocalVideo(UploadVideoRequest(str(small), "sdk small"))["VideoId"]
    v = client.get_video_info(m.GetVideoInfoRequest(video_id=vid)).body.video
    assert (v.status, v.title, v.size) == ("Normal", "sdk small", small.stat().st_size)
    # its own multipart upload (serial parts, a progress report after each)
    big = make_noise_video(tmp_path / "big.mp4", 2_500_000, seed=4)
    up.setMultipartUpload(multipartThreshold=1024 * 1024, multipartPartSize=512 * 1024)
    vid2 = up.uploadLocalVideo(UploadVideoRequest(str(big), "sdk multipart"))["VideoId"]
    assert client.get_video_info(m.GetVideoInfoRequest(video_id=vid2)).body.video.status == "Normal"
    d = client.get_upload_details(m.GetUploadDetailsRequest(media_ids=vid2)).body.upload_details[0]
    assert d.upload_size == big.stat().st_size and d.upload_ratio == 1.0
    assert d.upload_source == "PythonSDK" and d.device_model == "Server"
