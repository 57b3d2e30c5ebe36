"""An openvod server with small upload limits (so oversize refusals are cheap to test) and helpers."""

from __future__ import annotations

import base64
import time
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from openvod.store.db import make_engine
from openvod.store.tables import upload_credentials
from tests.conftest import Key, Server, db_url, free_port

MAX_PUT = 8 * 1024 * 1024
MAX_PART = 4 * 1024 * 1024


@pytest.fixture(scope="module")
def up_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("upsrv")
    srv = Server(root / "data", free_port(), env={
        "OPENVOD_UPLOAD__MAX_PUT_BYTES": str(MAX_PUT),
        "OPENVOD_UPLOAD__MAX_PART_BYTES": str(MAX_PART),
        "OPENVOD_PLUGINS": '["tests.plugins:register", "tests.upload.plugins:register"]',
        "OPENVOD_TEST_TRANSCRIPTS": str(root / "transcripts.json"),
    }).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def up_key(up_server: Server) -> Key:
    return up_server.key("uploader")


@pytest.fixture(scope="module")
def up_other_key(up_server: Server) -> Key:
    return up_server.key("someone-else")


def decode(b64: str) -> dict[str, Any]:
    return dict(json.loads(base64.b64decode(b64)))


def bucket_for(address: dict[str, Any], auth: dict[str, Any], **kw: Any) -> Any:
    import oss2

    sts = oss2.StsAuth(auth["AccessKeyId"], auth["AccessKeySecret"], auth["SecurityToken"])
    return oss2.Bucket(sts, address["Endpoint"], address["Bucket"], **kw)


def expire_credential(server: Server, access_key_id: str) -> None:
    """Make a credential expire now (as if its lifetime had just run out)."""
    engine = make_engine(db_url(server.data_dir))
    with engine.begin() as conn:
        conn.execute(update(upload_credentials).where(upload_credentials.c.access_key_id == access_key_id)
                     .values(expires_at=time.time() - 0.01))
    engine.dispose()
    time.sleep(0.02)


def write_random(path: Path, size: int, seed: int = 0) -> Path:
    import numpy as np

    rng = np.random.default_rng(seed)
    with open(path, "wb") as fh:
        left = size
        while left:
            n = min(left, 4 * 1024 * 1024)
            fh.write(rng.integers(0, 256, n, dtype=np.uint8).tobytes())
            left -= n
    return path
