"""Two `cdp serve` processes sharing one SQLite store and one real redis-server: an
update committed on one reaches a subscriber of the other, through a Redis outage too."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.realtime.redis_server import RedisServer
from tests.realtime.support import GqlSocket, Json

from .processes import ADMIN_KEY, ServeProcess

CARD = "6037000011112222"
WATCH = """
subscription ($card: String!) {
  profileUpdates(identifier: {type: LOYALTY_CARD, value: $card}) {
    kind version entry { type points } profile { id loyalty { balance pendingPoints } }
  }
}
"""
PURCHASE = """
mutation ($card: String!, $order: String!, $amount: Float!) {
  recordPurchase(input: {channel: POS, orderId: $order,
    identifier: {type: LOYALTY_CARD, value: $card}, lines: [{amount: $amount}]}) {
    pendingPoints balanceAfter
  }
}
"""
ALLOCATE = """
mutation ($card: String!) { allocateCard(input: {channel: POS, cardNumber: $card}) { id version } }
"""
ADJUST = """
mutation ($id: ID!, $key: String!) {
  adjustPoints(profileId: $id, points: 100, reason: "welcome", idempotencyKey: $key) { points }
}
"""


@pytest.fixture
def instances(
    tmp_path: Path, redis_for_e2e: RedisServer
) -> Iterator[tuple[ServeProcess, ServeProcess]]:
    shared = {"store_url": f"sqlite:///{tmp_path / 'shared.db'}", "redis_url": redis_for_e2e.url}
    first = ServeProcess(tmp_path, "first", **shared)
    second = ServeProcess(tmp_path, "second", **shared)
    try:
        first.start()  # creates the store's tables before the other opens it
        second.start()
        yield first, second
    finally:
        first.stop()
        second.stop()


async def gql(instance: ServeProcess, query: str, variables: Json | None = None) -> Json:
    async with httpx.AsyncClient(base_url=instance.url, timeout=10) as http:
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        )
    assert response.status_code == 200, response.text
    body: Json = response.json()
    assert "errors" not in body, body
    return body["data"]


async def broker_state(instance: ServeProcess) -> str:
    async with httpx.AsyncClient(base_url=instance.url, timeout=10) as http:
        body: dict[str, Any] = (await http.get("/readyz")).json()
    return str(body["broker"])


async def until_broker(instance: ServeProcess, state: str) -> None:
    deadline = time.monotonic() + 15
    while await broker_state(instance) != state:
        assert time.monotonic() < deadline, f"{instance.name}: broker never {state}"
        await asyncio.sleep(0.1)


async def test_an_update_on_one_instance_reaches_a_subscriber_of_the_other(
    instances: tuple[ServeProcess, ServeProcess], redis_for_e2e: RedisServer
) -> None:
    first, second = instances
    allocated = await gql(second, ALLOCATE, {"card": CARD})
    profile_id = allocated["allocateCard"]["id"]
    version = allocated["allocateCard"]["version"]
    await until_broker(first, "ok")
    await until_broker(second, "ok")

    async with connect(first.ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        sub = GqlSocket(ws)
        assert (await sub.init(ADMIN_KEY))["type"] == "connection_ack"
        await sub.subscribe("w", WATCH, {"card": CARD})
        current = (await sub.data("w"))["profileUpdates"]
        assert (current["kind"], current["version"]) == ("PROFILE_CHANGED", version)

        # Committed on the second instance, pushed by the first.
        await gql(second, PURCHASE, {"card": CARD, "order": "e2e-1", "amount": 40})
        earned = (await sub.data("w"))["profileUpdates"]
        await gql(second, ADJUST, {"id": profile_id, "key": "e2e-adjust"})
        adjusted = (await sub.data("w"))["profileUpdates"]

        assert earned == {
            "kind": "POINTS_EARNED",
            "version": version + 1,
            "entry": {"type": "EARN", "points": 40},
            "profile": {"id": profile_id, "loyalty": {"balance": 0, "pendingPoints": 40}},
        }
        assert adjusted == {
            "kind": "POINTS_ADJUSTED",
            "version": version + 2,
            "entry": {"type": "ADJUST", "points": 100},
            "profile": {"id": profile_id, "loyalty": {"balance": 100, "pendingPoints": 40}},
        }

        # Redis dies: both instances keep serving queries and mutations.
        redis_for_e2e.stop()
        await until_broker(first, "degraded")
        await until_broker(second, "degraded")
        while_down = await gql(second, PURCHASE, {"card": CARD, "order": "e2e-2", "amount": 10})
        read_on_first = await gql(
            first,
            "query ($id: ID) { profile(id: $id) { version loyalty { pendingPoints } } }",
            {"id": profile_id},
        )
        assert while_down == {"recordPurchase": {"pendingPoints": 50, "balanceAfter": 100}}
        assert read_on_first == {
            "profile": {"version": version + 3, "loyalty": {"pendingPoints": 50}}
        }
        await sub.silent(0.5)  # no pushes while Redis is down

        # Redis is back: both reconnect, the subscriber catches up, updates flow again.
        redis_for_e2e.start()
        await until_broker(first, "ok")
        await until_broker(second, "ok")
        caught_up = (await sub.data("w", wait=10))["profileUpdates"]
        await gql(second, PURCHASE, {"card": CARD, "order": "e2e-3", "amount": 5})
        flowing = (await sub.data("w"))["profileUpdates"]

    assert (caught_up["kind"], caught_up["version"]) == ("PROFILE_CHANGED", version + 3)
    assert caught_up["profile"]["loyalty"] == {"balance": 100, "pendingPoints": 50}
    assert (flowing["kind"], flowing["version"]) == ("POINTS_EARNED", version + 4)
    assert flowing["profile"]["loyalty"] == {"balance": 100, "pendingPoints": 55}
