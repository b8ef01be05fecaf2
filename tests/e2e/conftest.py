"""End-to-end fixtures: a real redis-server for the session, `cdp serve` processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.realtime.redis_server import RedisServer, redis_running


@pytest.fixture
def redis_for_e2e(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server on a free loopback port, which the test may kill and restart."""
    with redis_running(tmp_path / "redis") as server:
        yield server
