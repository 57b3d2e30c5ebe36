"""The object gateway in-process (no HTTP): requests built by hand and signed like oss2 does, and the
housekeeping that aborts multipart uploads left open past the grace period."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

from openvod.config import Settings
from openvod.engine.registry import AnalyzerRegistry
from openvod.oss import auth as A
from openvod.oss.gateway import OssGateway, OssRequest
from openvod.runtime import Runtime
from tests.conftest import settings_db


def _req(addr: dict, au: dict, method: str, query: list[tuple[str, str]], body: bytes = b"") -> OssRequest:
    h = {"date": formatdate(usegmt=True), "x-oss-security-token": au["SecurityToken"]}
    sts = A.string_to_sign(method, {k: [v] for k, v in h.items()}, addr["Bucket"], addr["FileName"], query)
    h["authorization"] = f"OSS {au['AccessKeyId']}:{A.sign(au['AccessKeySecret'], sts)}"

    def chunks() -> Iterator[bytes]:
        if body:
            yield body

    return OssRequest(method, addr["Bucket"], addr["FileName"], query, {k: [v] for k, v in h.items()}, "1.2.3.4",
                      "h", chunks)


def test_sweep_aborts_stale_multipart(tmp_path: Path) -> None:
    rt = Runtime(Settings(data_dir=tmp_path / "data", database_url=settings_db(tmp_path / "data")),
                 registry=AnalyzerRegistry())
    try:
        gw = OssGateway(rt)
        acc = rt.accounts.ensure_account("a")
        r = rt.uploads.create_video(acc, "http://127.0.0.1:1", title="t", file_name="x.mp4", file_size=0,
                                    description="", cover_url="", cate_id=None, tags="", template_group_id="",
                                    app_id="app-1000000", user_data="", reference_id="")
        addr = json.loads(base64.b64decode(r["UploadAddress"]))
        au = json.loads(base64.b64decode(r["UploadAuth"]))
        resp = gw.handle(_req(addr, au, "POST", [("uploads", "")]))
        assert resp.status == 200
        upload_id = resp.body.split(b"<UploadId>")[1].split(b"</UploadId>")[0].decode()
        part = gw.handle(_req(addr, au, "PUT", [("partNumber", "1"), ("uploadId", upload_id)], b"x" * 1000))
        assert part.status == 200 and (tmp_path / "data" / "oss-parts" / upload_id).is_dir()
        details, _, _ = rt.uploads.details(acc, [r["VideoId"]])
        assert details[0]["UploadSize"] == 1000 and details[0]["UploadIP"] == "1.2.3.4"
        assert gw.sweep() == 0
        assert gw.sweep(at=10**12) == 1  # far in the future: past the grace period
        assert not (tmp_path / "data" / "oss-parts" / upload_id).exists()
        listed = gw.handle(_req(addr, au, "GET", [("uploadId", upload_id)]))
        assert listed.status in (403, 404)  # the upload is gone (and so is the long-expired credential)
    finally:
        rt.close()
