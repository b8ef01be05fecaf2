"""Caps on WebSocket use: operations per connection, connections per key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from cdp.bootstrap import build_runtime, start_runtime, stop_runtime
from cdp.runtime import Runtime
from graphql_schema.app import create_app

from .support import (
    LEGACY_WS,
    TRANSPORT_WS,
    GqlSocket,
    Live,
    api_key,
    closed_code,
    member,
    realtime_settings,
    serve,
    ws_session,
)

WATCH = "subscription ($id: ID) { profileUpdates(id: $id) { version } }"


@pytest.fixture
async def capped(tmp_path: Path) -> AsyncIterator[tuple[Runtime, Live]]:
    """An app allowing 2 operations per connection and 2 connections per key."""
    settings = realtime_settings(
        str(tmp_path / "capped.db"),
        ws_max_subscriptions_per_connection=2,
        ws_max_connections_per_key=2,
    )
    rt = build_runtime(settings)
    await start_runtime(rt)
    try:
        async with serve(create_app(runtime=rt)) as live:
            yield rt, live
    finally:
        await stop_runtime(rt)


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_operations_over_the_cap_are_rate_limited(
    capped: tuple[Runtime, Live], protocol: str
) -> None:
    rt, live = capped
    holder = await member(rt, "4100000000000001")
    async with ws_session(live, protocol=protocol) as ws:
        for op in ("a", "b"):
            await ws.subscribe(op, WATCH, {"id": holder.id})
            await ws.data(op)
        await ws.subscribe("c", WATCH, {"id": holder.id})
        refused = await ws.receive()
        await ws.stop("a")
        if ws.legacy:  # graphql-ws confirms a stop; graphql-transport-ws does not
            assert await ws.receive() == {"type": "complete", "id": "a"}
        await ws.subscribe("d", WATCH, {"id": holder.id})
        accepted = await ws.data("d")

    errors = refused["payload"] if isinstance(refused["payload"], list) else [refused["payload"]]
    assert (refused["type"], refused["id"]) == ("error", "c")
    assert [e["extensions"]["code"] for e in errors] == ["RATE_LIMITED"]
    assert accepted == {"profileUpdates": {"version": holder.version}}


async def test_connections_over_the_cap_per_key_are_refused_until_one_closes(
    capped: tuple[Runtime, Live],
) -> None:
    rt, live = capped
    kiosk = await api_key(rt, "kiosk")
    other = await api_key(rt, "kiosk")
    async with ws_session(live, kiosk), ws_session(live, kiosk) as second:
        async with connect(live.ws_url, subprotocols=[TRANSPORT_WS]) as ws:  # type: ignore[list-item]
            third = GqlSocket(ws)
            await third.send(
                {"type": "connection_init", "payload": {"Authorization": f"Bearer {kiosk}"}}
            )
            refused_code = await closed_code(third)
        async with ws_session(live, other):  # another key has its own allowance
            pass
        await second.ws.close()
        async with ws_session(live, kiosk):  # a slot freed up
            pass

    assert refused_code == 4403


async def test_legacy_protocol_says_why_a_connection_is_refused(
    capped: tuple[Runtime, Live],
) -> None:
    rt, live = capped
    kiosk = await api_key(rt, "kiosk")
    async with (
        ws_session(live, kiosk),
        ws_session(live, kiosk),
        connect(live.ws_url, subprotocols=[LEGACY_WS]) as ws,  # type: ignore[list-item]
    ):
        refusal = await GqlSocket(ws).init(kiosk)

    assert refusal == {
        "type": "connection_error",
        "payload": {
            "code": "RATE_LIMITED",
            "message": "this key already holds 2 WebSocket connections",
        },
    }
