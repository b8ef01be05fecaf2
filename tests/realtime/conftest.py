"""Fixtures for the real-time tests: a real redis-server, runtimes, a live app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from cdp.bootstrap import build_runtime, start_runtime, stop_runtime
from cdp.runtime import Runtime
from graphql_schema.app import create_app

from .redis_server import RedisServer, redis_running
from .support import Live, MovableClock, realtime_settings, serve


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server for the session, for tests that never stop it."""
    with redis_running(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A redis-server of this test's own, which the test may kill and start again."""
    with redis_running(tmp_path / "redis") as server:
        yield server


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def rt(tmp_path: Path, clock: MovableClock) -> AsyncIterator[Runtime]:
    """A started runtime on a fresh SQLite file, with the in-process broker."""
    runtime = build_runtime(realtime_settings(str(tmp_path / "cdp.db")), clock=clock)
    await start_runtime(runtime)
    try:
        yield runtime
    finally:
        await stop_runtime(runtime)


@pytest.fixture
async def live(rt: Runtime) -> AsyncIterator[Live]:
    """The real ASGI app on `rt`, served by uvicorn on a loopback port."""
    async with serve(create_app(runtime=rt)) as served:
        yield served
