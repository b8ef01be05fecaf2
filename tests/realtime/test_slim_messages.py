"""Pushes carry a slim, versioned message; the profile is read only when a subscription
asks for more than the message carries, and then fresh for every push."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from cdp.bootstrap import build_runtime, start_runtime, stop_runtime
from cdp.realtime.messages import MESSAGE_VERSION, profile_topic
from cdp.runtime import Runtime
from cdp.store.catalogue import PROFILES
from cdp.store.port import Document, Store
from graphql_schema import multiplex

from .support import (
    LEGACY_WS,
    TRANSPORT_WS,
    Live,
    MovableClock,
    change_personal,
    member,
    purchase,
    realtime_settings,
    ws_session,
)
from .test_publishing import RecordingBroker

CARRIED_ONLY = """
subscription ($id: ID) {
  profileUpdates(id: $id) {
    kind version
    profile { __typename id version status ... on Profile { loyalty { balance pendingPoints
              lifetimePoints canRedeem tier { id name } } } }
  }
}
"""
WITH_NAME = """
subscription ($id: ID) { profileUpdates(id: $id) { version profile { firstName } } }
"""
RECEIPTS = """
subscription ($store: String!) {
  receipts(storeId: $store) { orderId profile { id loyalty { pendingPoints } } }
}
"""
RECEIPTS_WITH_NAME = """
subscription ($store: String!) { receipts(storeId: $store) { orderId profile { firstName } } }
"""


@pytest.fixture(params=["memory", "redis"])
async def rt(
    request: pytest.FixtureRequest, tmp_path: Path, clock: MovableClock
) -> AsyncIterator[Runtime]:
    """A started runtime on a fresh SQLite file, on each broker: in-process, and a real
    redis-server (pushes then cross the wire as published)."""
    redis_url = request.getfixturevalue("redis_server").url if request.param == "redis" else None
    settings = realtime_settings(str(tmp_path / "cdp.db"), redis_url=redis_url)
    runtime = build_runtime(settings, clock=clock)
    await start_runtime(runtime)
    try:
        yield runtime
    finally:
        await stop_runtime(runtime)


class ProfileReads:
    """The real store, counting reads of profiles (a fake at the port)."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.count = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def get(self, collection: str, doc_id: str) -> Document | None:
        self.count += collection == PROFILES
        return await self.inner.get(collection, doc_id)

    async def get_many(self, collection: str, ids: Sequence[str]) -> list[Document | None]:
        self.count += collection == PROFILES
        return await self.inner.get_many(collection, ids)


def counting_reads(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> ProfileReads:
    reads = ProfileReads(rt.store)
    monkeypatch.setattr(rt, "store", reads)
    return reads


async def test_message_size_does_not_grow_with_the_members_history(rt: Runtime) -> None:
    newcomer = await member(rt, "4300000000000001")
    regular = await member(rt, "4300000000000002")
    for _ in range(500):
        await purchase(rt, "4300000000000002", 3.0)
    recorder = RecordingBroker(rt.broker)
    rt.broker = recorder

    await purchase(rt, "4300000000000001", 3.0)
    await purchase(rt, "4300000000000002", 3.0)

    sizes = {
        topic: len(message.encode())
        for topic, message in recorder.published
        if topic.startswith("profile:")
    }
    first, last = sizes[profile_topic(newcomer.id)], sizes[profile_topic(regular.id)]
    assert first < 1024
    # Only the digits of the balances and of the entry's sequence number differ.
    assert abs(last - first) <= 12, (first, last)


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_subscription_asking_only_what_the_message_carries_reads_no_profile(
    rt: Runtime, live: Live, monkeypatch: pytest.MonkeyPatch, protocol: str
) -> None:
    holder = await member(rt, "4300000000000003")
    async with ws_session(live, protocol=protocol) as ws:
        await ws.subscribe("w", CARRIED_ONLY, {"id": holder.id})
        await ws.data("w")
        reads = counting_reads(rt, monkeypatch)
        await purchase(rt, "4300000000000003", 40.0)
        by_the_purchase = reads.count
        pushed = (await ws.data("w"))["profileUpdates"]

    assert pushed == {
        "kind": "POINTS_EARNED",
        "version": holder.version + 1,
        "profile": {
            "__typename": "Profile",
            "id": holder.id,
            "version": holder.version + 1,
            "status": "ALLOCATED",
            "loyalty": {
                "balance": 0,
                "pendingPoints": 40,
                "lifetimePoints": 40,
                "canRedeem": False,
                "tier": {"id": "member", "name": "Member"},
            },
        },
    }
    assert reads.count == by_the_purchase  # the push read no profile


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_subscription_asking_for_more_reads_the_profile_fresh_on_every_push(
    rt: Runtime, live: Live, monkeypatch: pytest.MonkeyPatch, protocol: str
) -> None:
    holder = await member(rt, "4300000000000004", first_name="Ada")
    async with ws_session(live, protocol=protocol) as ws:
        await ws.subscribe("w", WITH_NAME, {"id": holder.id})
        first = (await ws.data("w"))["profileUpdates"]
        reads = counting_reads(rt, monkeypatch)
        await purchase(rt, "4300000000000004", 40.0)
        by_the_purchase = reads.count
        after_purchase = (await ws.data("w"))["profileUpdates"]
        by_its_push = reads.count - by_the_purchase
        await change_personal(rt, holder.id, first_name="Augusta")
        renamed = (await ws.data("w"))["profileUpdates"]

    assert first == {"version": holder.version, "profile": {"firstName": "Ada"}}
    assert after_purchase == {"version": holder.version + 1, "profile": {"firstName": "Ada"}}
    # A cached profile from the previous push would still say Ada.
    assert renamed == {"version": holder.version + 2, "profile": {"firstName": "Augusta"}}
    assert by_its_push == 1  # one read, through the DataLoader


async def test_a_message_of_another_version_is_a_gap_the_subscriber_refetches(
    rt: Runtime, live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = await member(rt, "4300000000000005")
    async with ws_session(live) as ws:
        await ws.subscribe("w", CARRIED_ONLY, {"id": holder.id})
        await ws.data("w")
        # A process of another release publishes what this one cannot read: the state is
        # read again, and nothing changed, so nothing is sent.
        await rt.broker.publish(profile_topic(holder.id), '{"v": 999, "anything": true}')
        await ws.silent(0.1)
        # A change whose push is lost, then another unreadable message: the subscriber
        # gets the state that the lost push would have brought.
        with monkeypatch.context() as patched:
            patched.setattr(rt.broker, "listened", lambda topic: False)
            await purchase(rt, "4300000000000005", 10.0)
        await ws.silent(0.1)
        await rt.broker.publish(profile_topic(holder.id), f'{{"v": {MESSAGE_VERSION + 1}}}')
        caught_up = (await ws.data("w"))["profileUpdates"]

    assert caught_up["kind"] == "PROFILE_CHANGED"
    assert caught_up["version"] == holder.version + 1
    assert caught_up["profile"]["loyalty"]["pendingPoints"] == 10


@pytest.mark.parametrize(
    ("query", "reads_per_push", "member_fields"),
    [
        (RECEIPTS, 0, {"loyalty": {"pendingPoints": 25}}),
        (RECEIPTS_WITH_NAME, 1, {"firstName": "Rita"}),
    ],
)
async def test_a_receipts_member_is_read_only_for_fields_the_message_lacks(
    rt: Runtime,
    live: Live,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    reads_per_push: int,
    member_fields: dict[str, Any],
) -> None:
    holder = await member(rt, "4300000000000006", first_name="Rita")
    async with ws_session(live) as ws:
        await ws.subscribe("r", query, {"store": "st-slim"})
        await ws.silent(0.2)
        reads = counting_reads(rt, monkeypatch)
        receipt = await purchase(rt, "4300000000000006", 25.0, store_id="st-slim")
        by_the_purchase = reads.count
        pushed = (await ws.data("r"))["receipts"]

    expected_member = {"id": holder.id, **member_fields} if query is RECEIPTS else member_fields
    assert pushed == {"orderId": receipt.order_id, "profile": expected_member}
    assert reads.count - by_the_purchase == reads_per_push


async def test_identical_subscriptions_sharing_one_execution_read_fresh_on_every_push(
    rt: Runtime, live: Live
) -> None:
    # Two sockets asking the same thing share one execution per push (multiplex.py), on
    # a context of the group's own: its loaders too must start afresh for every push.
    holder = await member(rt, "4300000000000007", first_name="Ada")
    async with ws_session(live) as one, ws_session(live) as other:
        for ws in (one, other):
            await ws.subscribe("w", WITH_NAME, {"id": holder.id})
            await ws.data("w")
        received = []
        for name in ("Augusta", "Ada", "Byron"):
            await change_personal(rt, holder.id, first_name=name)
            received.append([(await ws.data("w"))["profileUpdates"] for ws in (one, other)])
            assert multiplex.groups() == 1

    assert [[u["profile"]["firstName"] for u in pair] for pair in received] == [
        ["Augusta", "Augusta"],
        ["Ada", "Ada"],
        ["Byron", "Byron"],
    ]
    assert [pair[0]["version"] for pair in received] == [holder.version + n for n in (1, 2, 3)]
