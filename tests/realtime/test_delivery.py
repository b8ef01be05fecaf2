"""Delivery under stress: a stalled WebSocket client, and Redis going away and back."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from cdp.bootstrap import build_runtime, start_runtime, stop_runtime
from cdp.broker.redis import RedisBroker
from cdp.identity.model import PersonalData
from cdp.realtime.messages import encode_update, profile_topic
from cdp.runtime import Runtime
from cdp.store.catalogue import PROFILES
from cdp.store.port import Replace
from cdp.updates import ProfileUpdate, UpdateKind
from graphql_schema.app import create_app

from .redis_server import RedisServer
from .support import (
    ADMIN_KEY,
    TRANSPORT_WS,
    GqlSocket,
    Live,
    gql,
    member,
    purchase,
    realtime_settings,
    serve,
    ws_session,
)

WATCH = """
subscription ($id: ID) { profileUpdates(id: $id) { kind version profile { firstName } } }
"""


async def test_a_stalled_client_skips_ahead_and_never_holds_up_another(
    rt: Runtime, live: Live
) -> None:
    member_before = await member(rt, "4200000000000001")
    # Big messages (the subscription reads the stored profile, 20 kB of name), and a client
    # socket that reads nothing: the server's send to it blocks within a few, and its
    # bounded queue drops the oldest from then on.
    holder = replace(member_before, personal=PersonalData(first_name="x" * 20_000))
    await rt.store.commit([Replace(PROFILES, holder.to_doc(), member_before.version)])
    published = 500
    port = int(live.base_url.rsplit(":", 1)[1])
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", port))
    async with (
        connect(
            live.ws_url,
            subprotocols=[TRANSPORT_WS],  # type: ignore[list-item]
            sock=raw,
            max_queue=1,
            compression=None,  # 20 kB of "x" would deflate to nothing
        ) as stalled_ws,
        ws_session(live) as reader,
    ):
        stalled = GqlSocket(stalled_ws)
        assert (await stalled.init(ADMIN_KEY))["type"] == "connection_ack"
        await stalled.subscribe("w", WATCH, {"id": holder.id})
        await stalled.data("w")
        await reader.subscribe("w", WATCH, {"id": holder.id})
        await reader.data("w")

        began = time.monotonic()
        for n in range(1, published + 1):
            update = ProfileUpdate(
                UpdateKind.PROFILE_CHANGED,
                replace(holder, version=holder.version + n),
                holder.updated_at,
            )
            await rt.broker.publish(profile_topic(holder.id), encode_update(update))
            got = (await reader.data("w"))["profileUpdates"]
            assert got["version"] == holder.version + n  # the reader misses nothing
        took = time.monotonic() - began

        # The stalled client reads at last: it skipped to the latest, with a gap it can see.
        versions = []
        while not versions or versions[-1] < holder.version + published:
            versions.append((await stalled.data("w", wait=10))["profileUpdates"]["version"])

    assert took < 30
    assert versions == sorted(versions)
    assert len(versions) < published
    assert versions[-1] == holder.version + published


# -- Redis down ---------------------------------------------------------------------------


@pytest.fixture
async def redis_rt(tmp_path: Path, own_redis: RedisServer) -> AsyncIterator[Runtime]:
    runtime = build_runtime(realtime_settings(str(tmp_path / "cdp.db"), redis_url=own_redis.url))
    await start_runtime(runtime)
    try:
        await until_connected(runtime, True)
        yield runtime
    finally:
        await stop_runtime(runtime)


async def until_connected(rt: Runtime, connected: bool) -> None:
    assert isinstance(rt.broker, RedisBroker)
    deadline = time.monotonic() + 10
    while rt.broker.connected is not connected:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)


async def readiness(live: Live) -> tuple[int, dict[str, str]]:
    async with httpx.AsyncClient(base_url=live.base_url) as http:
        response = await http.get("/readyz")
    return response.status_code, response.json()


async def test_redis_down_the_api_serves_and_subscribers_catch_up_after(
    redis_rt: Runtime, own_redis: RedisServer
) -> None:
    rt = redis_rt
    holder = await member(rt, "4200000000000002")
    async with serve(create_app(runtime=rt)) as live, ws_session(live) as ws:
        await ws.subscribe("w", WATCH, {"id": holder.id})
        assert (await ws.data("w"))["profileUpdates"]["version"] == holder.version

        own_redis.stop()
        await until_connected(rt, False)
        down = await readiness(live)
        # Queries and mutations keep working; pushes pause.
        body = await gql(
            live,
            """mutation { recordPurchase(input: {channel: POS, orderId: "while-down",
                 identifier: {type: LOYALTY_CARD, value: "4200000000000002"},
                 lines: [{amount: 7}]}) { pendingPoints } }""",
        )
        assert body == {"data": {"recordPurchase": {"pendingPoints": 7}}}
        await ws.silent(0.5)

        own_redis.start()
        await until_connected(rt, True)
        # Back: the subscription re-reads the state it may have missed, then flows again.
        caught_up = (await ws.data("w"))["profileUpdates"]
        await purchase(rt, "4200000000000002", 3.0)
        flowing = (await ws.data("w"))["profileUpdates"]
        up = await readiness(live)

    assert down == (200, {"status": "ready", "store": "ok", "broker": "degraded"})
    assert caught_up == {
        "kind": "PROFILE_CHANGED",
        "version": holder.version + 1,
        "profile": {"firstName": "Ada"},
    }
    assert (flowing["kind"], flowing["version"]) == ("POINTS_EARNED", holder.version + 2)
    assert up == (200, {"status": "ready", "store": "ok", "broker": "ok"})
