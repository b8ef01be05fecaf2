"""End-to-end fixtures: a real redis-server, `cdp serve` processes, headless Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.realtime.redis_server import RedisServer, redis_running

from .browser import Browser
from .processes import ServeProcess


@pytest.fixture
def redis_for_e2e(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server on a free loopback port, which the test may kill and restart."""
    with redis_running(tmp_path / "redis") as server:
        yield server


@pytest.fixture
def app(tmp_path: Path) -> Iterator[ServeProcess]:
    """`cdp serve` in development, on a SQLite file of its own."""
    served = ServeProcess(tmp_path, "app", store_url=f"sqlite:///{tmp_path / 'demo.db'}")
    served.start()
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Browser]:
    chromium = Browser(tmp_path / "chromium-profile")
    try:
        yield chromium
    finally:
        await chromium.close()
