"""AIMediaDNA jobs routed to a queue per fingerprint library (``scale.dna_queues``), so that only the
workers of that queue hold the library's index (docs/scale-out.md: sharding fingerprint libraries)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from openvod.config import Settings
from openvod.engine.celery_app import publish_now
from openvod.runtime import Runtime
from openvod.store.tables import jobs
from tests.conftest import settings_db


def test_queue_per_library() -> None:
    s = Settings(scale={"dna_queues": {"acc1/big": "dna-big", "acc2/*": "dna-acc2", "acc1/": "dna-acc1-default"}})
    q = s.scale.queue_for
    assert q("AIMediaDNA", "acc1", json.dumps({"DNADBId": "big"})) == "dna-big"
    assert q("AIMediaDNA", "acc1", json.dumps({"DNADBId": ""})) == "dna-acc1-default"
    assert q("AIMediaDNA", "acc1", "{}") == "dna-acc1-default"  # no DNADBId: the default library
    assert q("AIMediaDNA", "acc1", json.dumps({"DNADBId": "small"})) == "dna"  # not routed
    assert q("AIMediaDNA", "acc2", json.dumps({"DNADBId": "anything"})) == "dna-acc2"
    assert q("AIMediaDNA", "acc3", json.dumps({"DNADBId": "big"})) == "dna"  # routes are per account
    assert q("AIMediaDNA", "acc1", "not json") == "dna-acc1-default"
    assert q("AIVideoTag", "acc2", "{}") == "tag"  # only DNA jobs are routed by library
    assert Settings().scale.queue_for("AIMediaDNA", "acc1", json.dumps({"DNADBId": "big"})) == "dna"


class _App:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send_task(self, name: str, args: list[Any], queue: str, **kw: Any) -> None:
        self.sent.append((args[0], queue))


def test_the_publisher_uses_the_library_route(tmp_path: Path) -> None:
    rt = Runtime(Settings(data_dir=tmp_path, database_url=settings_db(tmp_path),
                          scale={"dna_queues": {"acc1/big": "dna-big"}}))
    try:
        with rt.engine.begin() as conn:
            for jid, typ, db in (("j1", "AIMediaDNA", "big"), ("j2", "AIMediaDNA", ""), ("j3", "AIVideoTag", "big")):
                conn.execute(insert(jobs).values(id=jid, account_id="acc1", media_id="m", type=typ, status="init",
                                                 config=json.dumps({"DNADBId": db}), created_at=0.0))
        app = _App()
        assert publish_now(rt, app, ["j1", "j2", "j3"]) == 3
        assert sorted(app.sent) == [("j1", "dna-big"), ("j2", "dna"), ("j3", "tag")]
    finally:
        rt.close()
