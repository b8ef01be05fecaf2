"""Subscriptions over WebSocket, through the real ASGI app served by uvicorn on loopback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from cdp.channel import Channel
from cdp.identity.merge import merge_profiles, unmerge_profile
from cdp.identity.model import IdentifierType, Profile
from cdp.identity.privacy import forget_profile
from cdp.identity.service import RawIdentifier, link_identifier
from cdp.realtime.messages import encode_update, profile_topic
from cdp.runtime import Runtime
from cdp.updates import ProfileUpdate, UpdateKind

from .support import (
    LEGACY_WS,
    TOKEN_SECRET,
    TRANSPORT_WS,
    Json,
    Live,
    api_key,
    gql,
    member,
    purchase,
    ws_session,
)

WATCH_BY_CARD = """
subscription ($card: String!) {
  profileUpdates(identifier: {type: LOYALTY_CARD, value: $card}) {
    kind version tierChanged
    profile { id firstName loyalty { balance pendingPoints tier { id } } }
    entry { type points balanceAfter orderId }
    rewardsUnlocked { id }
  }
}
"""


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_first_message_is_the_current_state_then_one_per_change(
    rt: Runtime, live: Live, protocol: str
) -> None:
    profile = await member(rt, "4000111122223333")
    async with ws_session(live, protocol=protocol) as ws:
        await ws.subscribe("w", WATCH_BY_CARD, {"card": "4000111122223333"})

        first = (await ws.data("w"))["profileUpdates"]
        receipt = await purchase(rt, "4000111122223333", 42.0)
        second = (await ws.data("w"))["profileUpdates"]

    assert first == {
        "kind": "PROFILE_CHANGED",
        "version": profile.version,
        "tierChanged": False,
        "profile": {
            "id": profile.id,
            "firstName": "Ada",
            "loyalty": {"balance": 0, "pendingPoints": 0, "tier": {"id": "member"}},
        },
        "entry": None,
        "rewardsUnlocked": [],
    }
    assert second == {
        "kind": "POINTS_EARNED",
        "version": profile.version + 1,
        "tierChanged": False,
        "profile": {
            "id": profile.id,
            "firstName": "Ada",
            "loyalty": {"balance": 0, "pendingPoints": 42, "tier": {"id": "member"}},
        },
        "entry": {"type": "EARN", "points": 42, "balanceAfter": 0, "orderId": receipt.order_id},
        "rewardsUnlocked": [],
    }


WATCH_BY_ID = """
subscription ($id: ID) {
  profileUpdates(id: $id) {
    kind version profile { id status mergedFrom loyalty { balance pendingPoints } }
  }
}
"""
WATCH_MINE = "subscription { profileUpdates { kind version profile { id } } }"
RECEIPTS = """
subscription ($store: String!, $register: String) {
  receipts(storeId: $store, registerId: $register) {
    orderId storeId registerId pointsEarned pendingPoints balanceAfter tier { id }
    profile { id firstName version loyalty { pendingPoints } }
  }
}
"""


def customer_token(app_user_id: str) -> str:
    claims = {"sub": app_user_id, "exp": datetime.now(UTC) + timedelta(hours=1)}
    return jwt.encode(claims, TOKEN_SECRET, algorithm="HS256")


async def app_member(rt: Runtime, card: str, app_user_id: str) -> Profile:
    holder = await member(rt, card)
    return await link_identifier(
        rt,
        profile_id=holder.id,
        identifier=RawIdentifier(IdentifierType.APP_USER_ID, app_user_id),
        verified=True,
        may_link_credentials=True,  # the operator, in process
        channel=Channel.MOBILE_APP,
    )


def error_codes(message: Json) -> list[str]:
    payload = message["payload"]
    errors = payload if isinstance(payload, list) else payload.get("errors", [payload])
    return [e["extensions"]["code"] for e in errors]


async def test_watch_by_id_and_a_purchase_on_another_path_arrives(rt: Runtime, live: Live) -> None:
    holder = await member(rt, "4000000000000001")
    async with ws_session(live) as ws:
        await ws.subscribe("w", WATCH_BY_ID, {"id": holder.id})
        assert (await ws.data("w"))["profileUpdates"]["version"] == holder.version

        body = await gql(
            live,
            """mutation { recordPurchase(input: {channel: POS, orderId: "o-1",
                 identifier: {type: LOYALTY_CARD, value: "4000000000000001"},
                 lines: [{amount: 25}]}) { pendingPoints } }""",
        )
        assert body == {"data": {"recordPurchase": {"pendingPoints": 25}}}
        pushed = (await ws.data("w"))["profileUpdates"]

    assert pushed["kind"] == "POINTS_EARNED"
    assert pushed["version"] == holder.version + 1
    assert pushed["profile"]["loyalty"] == {"balance": 0, "pendingPoints": 25}


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_watching_an_unknown_profile_is_not_found(live: Live, protocol: str) -> None:
    async with ws_session(live, protocol=protocol) as ws:
        await ws.subscribe("w", WATCH_BY_ID, {"id": "p_nobody"})
        message = await ws.receive()

    assert message["type"] == "error"
    assert error_codes(message) == ["NOT_FOUND"]


async def test_a_key_without_read_scope_may_not_watch(rt: Runtime, live: Live) -> None:
    holder = await member(rt, "4000000000000002")
    writer = await api_key(rt, "loyalty:write")
    async with ws_session(live, writer) as ws:
        await ws.subscribe("w", WATCH_BY_ID, {"id": holder.id})
        message = await ws.receive()

    assert message["type"] == "error"
    assert error_codes(message) == ["FORBIDDEN"]


async def test_a_customer_token_watches_its_own_profile_only(rt: Runtime, live: Live) -> None:
    own = await app_member(rt, "4000000000000003", "app-user-3")
    other = await member(rt, "4000000000000004")
    token = customer_token("app-user-3")
    async with ws_session(live, token) as ws:
        await ws.subscribe("mine", WATCH_MINE)
        mine = (await ws.data("mine"))["profileUpdates"]
        await ws.subscribe("by-id", WATCH_BY_ID, {"id": own.id})
        by_id = (await ws.data("by-id"))["profileUpdates"]
        await ws.subscribe("theirs", WATCH_BY_ID, {"id": other.id})
        theirs = await ws.receive()
        await ws.subscribe("receipts", RECEIPTS, {"store": "s-1"})
        receipts = await ws.receive()

    assert mine == {"kind": "PROFILE_CHANGED", "version": own.version, "profile": {"id": own.id}}
    assert by_id["profile"]["id"] == own.id
    assert error_codes(theirs) == ["FORBIDDEN"]
    assert error_codes(receipts) == ["FORBIDDEN"]


async def test_a_merge_moves_the_watch_to_the_survivor(rt: Runtime, live: Live) -> None:
    survivor = await member(rt, "4000000000000005")
    merged = await member(rt, "4000000000000006")
    await purchase(rt, "4000000000000006", 10.0)
    async with ws_session(live) as ws:
        await ws.subscribe("w", WATCH_BY_ID, {"id": merged.id})
        assert (await ws.data("w"))["profileUpdates"]["profile"]["id"] == merged.id

        await merge_profiles(
            rt, survivor_id=survivor.id, merged_id=merged.id, reason="same", actor="t"
        )
        after_merge = (await ws.data("w"))["profileUpdates"]
        await purchase(rt, "4000000000000005", 5.0)  # the survivor's own card
        after_purchase = (await ws.data("w"))["profileUpdates"]
        await unmerge_profile(rt, merged_id=merged.id, reason="not the same", actor="t")
        after_unmerge = (await ws.data("w"))["profileUpdates"]

    assert after_merge == {
        "kind": "MERGED",
        "version": survivor.version + 1,
        "profile": {
            "id": survivor.id,
            "status": "ALLOCATED",
            "mergedFrom": [merged.id],
            "loyalty": {"balance": 0, "pendingPoints": 10},
        },
    }
    assert after_purchase["kind"] == "POINTS_EARNED"
    assert after_purchase["profile"]["loyalty"] == {"balance": 0, "pendingPoints": 15}
    assert after_unmerge["kind"] == "UNMERGED"
    assert after_unmerge["profile"]["id"] == merged.id
    assert after_unmerge["profile"]["loyalty"] == {"balance": 0, "pendingPoints": 10}


async def test_forgetting_the_profile_ends_the_subscription(rt: Runtime, live: Live) -> None:
    holder = await member(rt, "4000000000000007")
    async with ws_session(live) as ws:
        await ws.subscribe("w", WATCH_BY_ID, {"id": holder.id})
        await ws.data("w")

        await forget_profile(rt, profile_id=holder.id, actor="t")
        forgotten = (await ws.data("w"))["profileUpdates"]
        done = await ws.receive()

    assert (forgotten["kind"], forgotten["profile"]["status"]) == ("FORGOTTEN", "FORGOTTEN")
    assert done == {"id": "w", "type": "complete"}


async def test_an_update_not_newer_than_the_last_one_is_skipped(rt: Runtime, live: Live) -> None:
    holder = await member(rt, "4000000000000008")
    async with ws_session(live) as ws:
        await ws.subscribe("w", WATCH_BY_ID, {"id": holder.id})
        await ws.data("w")

        # A replayed or overtaken message (same version as what the client has) is dropped.
        stale = ProfileUpdate(UpdateKind.PROFILE_CHANGED, holder, holder.updated_at)
        await rt.broker.publish(profile_topic(holder.id), encode_update(stale))
        await ws.silent()
        await purchase(rt, "4000000000000008", 1.0)
        fresh = (await ws.data("w"))["profileUpdates"]

    assert fresh["version"] == holder.version + 1


async def test_receipts_for_a_store_and_one_register(rt: Runtime, live: Live) -> None:
    holder = await member(rt, "4000000000000009", first_name="Rita")
    async with ws_session(live) as ws:
        await ws.subscribe("store", RECEIPTS, {"store": "st-1"})
        await ws.subscribe("till", RECEIPTS, {"store": "st-1", "register": "2"})
        await ws.silent(0.2)

        # The selection names the member's first name, which a push does not carry: each
        # push reads the member when it is sent, so each is read after its purchase only.
        first = await purchase(rt, "4000000000000009", 20.0, store_id="st-1", register_id="1")
        by_store = [(await ws.data("store"))["receipts"]]
        second = await purchase(rt, "4000000000000009", 30.0, store_id="st-1", register_id="2")
        by_store.append((await ws.data("store"))["receipts"])
        by_till = (await ws.data("till"))["receipts"]

    assert [r["orderId"] for r in by_store] == [first.order_id, second.order_id]
    assert by_till["orderId"] == second.order_id
    assert by_till == {
        "orderId": second.order_id,
        "storeId": "st-1",
        "registerId": "2",
        "pointsEarned": 30,
        "pendingPoints": 50,
        "balanceAfter": 0,
        "tier": {"id": "member"},
        "profile": {
            "id": holder.id,
            "firstName": "Rita",
            "version": holder.version + 2,
            "loyalty": {"pendingPoints": 50},
        },
    }
    # One context serves the whole connection: each push must see fresh data, not the
    # first push's cached profile (DataLoader caches are per event).
    assert [r["profile"]["loyalty"]["pendingPoints"] for r in by_store] == [20, 50]


async def test_one_receipt_pushed_to_two_callers_shows_its_member_only_to_the_one_who_may_see(
    rt: Runtime, live: Live
) -> None:
    await member(rt, "4000000000000010", first_name="Nina")
    reader, kiosk = await api_key(rt, "loyalty:read"), await api_key(rt, "kiosk")
    async with ws_session(live, reader) as blind, ws_session(live, kiosk) as sighted:
        for ws in (blind, sighted):
            await ws.subscribe("r", RECEIPTS, {"store": "st-9"})
            await ws.silent(0.2)

        await purchase(rt, "4000000000000010", 20.0, store_id="st-9")
        seen = (await sighted.data("r"))["receipts"]
        refused = await blind.receive()

    assert seen["profile"]["firstName"] == "Nina"
    assert refused["payload"]["data"]["receipts"]["profile"] is None
    assert refused["payload"]["data"]["receipts"]["pointsEarned"] == 20
    assert [e["extensions"]["code"] for e in refused["payload"]["errors"]] == ["FORBIDDEN"]
