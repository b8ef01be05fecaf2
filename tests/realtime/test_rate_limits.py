"""Rate limits on WebSocket handshakes and operations, and across processes in Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from cdp.bootstrap import build_runtime, start_runtime, stop_runtime
from graphql_schema.app import create_app

from .redis_server import RedisServer
from .support import (
    ADMIN_KEY,
    TRANSPORT_WS,
    Live,
    realtime_settings,
    serve,
    ws_session,
)

TIERS = "{ tiers { id } }"


@asynccontextmanager
async def served(db: Path, **overrides: Any) -> AsyncIterator[Live]:
    """The app on its own runtime and SQLite file, under uvicorn (lifespan on)."""
    rt = build_runtime(realtime_settings(str(db), **overrides))
    await start_runtime(rt)
    try:
        async with serve(create_app(runtime=rt)) as live:
            yield live
    finally:
        await stop_runtime(rt)


async def post_tiers(live: Live, key: str = ADMIN_KEY) -> httpx.Response:
    async with httpx.AsyncClient(base_url=live.base_url) as http:
        return await http.post(
            "/graphql", json={"query": TIERS}, headers={"Authorization": f"Bearer {key}"}
        )


async def test_websocket_operations_count_against_the_key_rate_with_http(tmp_path: Path) -> None:
    async with (
        served(tmp_path / "a.db", rate_limit_per_key="3/minute", rate_limit_per_address="") as live,
        ws_session(live) as ws,
    ):
        for op in ("a", "b"):
            await ws.subscribe(op, TIERS)
            assert await ws.data(op) == {
                "tiers": [{"id": "member"}, {"id": "silver"}, {"id": "gold"}]
            }
            assert await ws.receive() == {"id": op, "type": "complete"}
        over_http = await post_tiers(live)  # the third request of this key's window
        await ws.subscribe("c", TIERS)
        refused = await ws.receive()
        refused_http = await post_tiers(live)

    assert over_http.status_code == 200
    assert refused["type"] == "error"
    assert refused["id"] == "c"
    assert [e["extensions"]["code"] for e in refused["payload"]] == ["RATE_LIMITED"]
    assert refused_http.status_code == 429


async def test_handshakes_over_the_address_rate_get_429_with_retry_after(tmp_path: Path) -> None:
    async with served(tmp_path / "a.db", rate_limit_per_address="2/minute") as live:
        async with ws_session(live), ws_session(live):
            pass
        with pytest.raises(InvalidStatus) as refused:
            async with connect(live.ws_url, subprotocols=[TRANSPORT_WS]):  # type: ignore[list-item]
                pass

    response = refused.value.response
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert b'"code":"RATE_LIMITED"' in response.body


async def test_processes_sharing_redis_share_one_window_per_key(
    tmp_path: Path, own_redis: RedisServer
) -> None:
    # given two processes' apps on one (fresh) Redis, allowing a key 3 requests a minute
    settings = {"redis_url": own_redis.url, "rate_limit_per_key": "3/minute"}
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(served(tmp_path / "a.db", **settings))
        second = await stack.enter_async_context(served(tmp_path / "b.db", **settings))

        # when the key is used twice on one and twice on the other
        statuses = [
            (await post_tiers(first)).status_code,
            (await post_tiers(second)).status_code,
            (await post_tiers(first)).status_code,
            (await post_tiers(second)).status_code,
        ]
        other_key = await post_tiers(second, "cdp_key_other_till")

    # then the fourth is refused, wherever it went; another key is not
    assert statuses == [200, 200, 200, 429]
    assert other_key.status_code == 200
    assert other_key.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_requests_pass_while_the_redis_behind_the_windows_is_down(
    tmp_path: Path, own_redis: RedisServer
) -> None:
    settings = {"redis_url": own_redis.url, "rate_limit_per_key": "2/minute"}
    async with served(tmp_path / "a.db", **settings) as live:
        before = (await post_tiers(live)).status_code
        own_redis.stop()
        during = [(await post_tiers(live)).status_code for _ in range(3)]
        own_redis.start()
        after = [(await post_tiers(live)).status_code for _ in range(3)]

    # the limits protect the service; with their store away they let requests through
    assert before == 200
    assert during == [200, 200, 200]
    # and count again once it is back (a new, empty server: the window starts afresh)
    assert after == [200, 200, 429]
