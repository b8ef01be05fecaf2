"""redeemReward and voidRedemption: who may redeem what, the code issued, replays, and
points given back once."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from cdp.runtime import Runtime
from tests.api.helpers import KeyFactory, codes
from tests.realtime.support import MovableClock

from .books import assert_books_balance, ledger
from .shop import Shop, line, ok
from .support import LIMITED

CARD = "6037000000000003"
OTHER_CARD = "6037000000000004"
CODE = re.compile(r"^[A-HJ-NP-Z2-9]{10}$")  # no 0/O or 1/I: read aloud at a till
REWARDS = "{ rewards { id available } }"
MERGE = """
mutation ($survivor: ID!, $merged: ID!) {
  mergeProfiles(survivorId: $survivor, mergedId: $merged) { id }
}
"""


async def test_a_redemption_spends_the_cost_and_issues_a_code(rt: Runtime, shop: Shop) -> None:
    profile_id = await shop.member(CARD)
    ok(await shop.adjust(profile_id, 400))

    redemption = ok(await shop.redeem(profile_id, "ten-off", channel="ECOMMERCE"))

    assert CODE.match(redemption["code"]), redemption["code"]
    assert {k: redemption[k] for k in ("reward", "points", "status", "channel")} == {
        "reward": {"id": "ten-off", "cost": 500},
        "points": 500,
        "status": "ISSUED",
        "channel": "ECOMMERCE",
    }
    spent = (await shop.history(profile_id, types=["REDEEM"]))["edges"]
    assert [
        (e["node"]["points"], e["node"]["reason"], e["node"]["balanceAfter"]) for e in spent
    ] == [(-500, "$10 off", 0)]
    await assert_books_balance(rt, profile_id)


async def test_pending_points_do_not_pay_for_a_reward(rt: Runtime, shop: Shop) -> None:
    profile_id = await shop.member(CARD)  # 100 available
    ok(await shop.purchase(CARD, line(200.00)))  # 200 pending

    refused = await shop.redeem(profile_id, "coffee")  # costs 150

    assert codes(refused) == ["INSUFFICIENT_POINTS"]
    assert await shop.balance(profile_id) == (100, 200)
    assert len(await ledger(rt, profile_id)) == 2  # the enrollment bonus and the purchase


async def test_a_reward_above_the_members_tier_is_not_redeemable(shop: Shop) -> None:
    profile_id = await shop.member(CARD)
    ok(await shop.adjust(profile_id, 800))  # 900: enough for the tote, not the tier

    below = await shop.redeem(profile_id, "tote")
    ok(await shop.purchase(CARD, line(500.00)))  # silver
    at_silver = await shop.redeem(profile_id, "tote")
    lounge = await shop.redeem(profile_id, "lounge")  # gold only

    assert codes(below) == ["NOT_REDEEMABLE"]
    assert ok(at_silver)["points"] == 800
    assert codes(lounge) == ["NOT_REDEEMABLE"]
    assert await shop.balance(profile_id) == (100, 500)


@pytest.mark.parametrize("program", [LIMITED], indirect=True, ids=["limited"])
async def test_a_reward_out_of_stock_or_out_of_its_dates_is_not_redeemable(
    rt: Runtime, shop: Shop, clock: MovableClock
) -> None:
    first, second = await shop.member(CARD), await shop.member(OTHER_CARD)

    issued = ok(await shop.redeem(first, "mug"))
    sold_out = await shop.redeem(second, "mug")
    catalogue = ok(await shop.gql(REWARDS))
    not_yet = await shop.redeem(second, "spring")
    over = await shop.redeem(second, "winter")
    ok(await shop.void(issued["id"]))
    back_in_stock = await shop.redeem(second, "mug")
    clock.moment = datetime(2027, 3, 1, tzinfo=UTC)
    in_season = await shop.redeem(first, "spring")

    assert codes(sold_out) == codes(not_yet) == codes(over) == ["NOT_REDEEMABLE"]
    assert {r["id"]: r["available"] for r in catalogue}["mug"] is False
    assert {r["id"]: r["available"] for r in catalogue}["spring"] is False
    assert ok(back_in_stock)["status"] == ok(in_season)["status"] == "ISSUED"
    await assert_books_balance(rt, first, second)


async def test_each_redemption_gets_its_own_code(shop: Shop) -> None:
    profile_id = await shop.member(CARD)
    ok(await shop.adjust(profile_id, 650))  # 750 = five coffees

    issued = [ok(await shop.redeem(profile_id, "coffee")) for _ in range(5)]

    assert len({r["code"] for r in issued}) == len({r["id"] for r in issued}) == 5
    assert all(CODE.match(r["code"]) for r in issued)
    assert await shop.balance(profile_id) == (0, 0)


async def test_a_replayed_redemption_returns_the_first_and_spends_once(
    rt: Runtime, shop: Shop
) -> None:
    profile_id = await shop.member(CARD)
    ok(await shop.adjust(profile_id, 400))  # 500

    first = ok(await shop.redeem(profile_id, "coffee", idempotency_key="till-9:1"))
    again = ok(await shop.redeem(profile_id, "coffee", idempotency_key="till-9:1"))
    other_reward = await shop.redeem(profile_id, "ten-off", idempotency_key="till-9:1")

    assert again == first
    assert codes(other_reward) == ["CONFLICT"]
    assert await shop.balance(profile_id) == (350, 0)
    await assert_books_balance(rt, profile_id)


async def test_a_key_used_for_one_member_is_a_conflict_for_another_and_reveals_nothing(
    rt: Runtime, shop: Shop
) -> None:
    victim = await shop.member(CARD)
    other = await shop.member(OTHER_CARD)
    for profile_id in (victim, other):
        ok(await shop.adjust(profile_id, 100))  # 200 each
    first = ok(await shop.redeem(victim, "coffee", idempotency_key="till-9:7"))

    reused = await shop.redeem(other, "coffee", idempotency_key="till-9:7")

    assert reused["data"] is None
    assert codes(reused) == ["CONFLICT"]
    assert reused["errors"][0]["message"] == "idempotencyKey was already used for another request"
    assert first["code"] not in str(reused)
    assert victim not in str(reused)
    assert await shop.balance(other) == (200, 0)
    assert await shop.balance(victim) == (50, 0)


async def test_a_key_answers_only_the_caller_that_used_it(shop: Shop, make_key: KeyFactory) -> None:
    profile_id = await shop.member(CARD)
    ok(await shop.adjust(profile_id, 100))  # 200
    till, other_till = await make_key("pos"), await make_key("pos")
    first = ok(await shop.redeem(profile_id, "coffee", idempotency_key="k-1", key=till))

    again = ok(await shop.redeem(profile_id, "coffee", idempotency_key="k-1", key=till))
    elsewhere = await shop.redeem(profile_id, "coffee", idempotency_key="k-1", key=other_till)

    assert again == first
    assert codes(elsewhere) == ["CONFLICT"]
    assert first["code"] not in str(elsewhere)
    assert await shop.balance(profile_id) == (50, 0)


async def test_a_replay_naming_the_merged_id_of_the_member_returns_the_first(
    shop: Shop,
) -> None:
    survivor = await shop.member(CARD)
    merged = await shop.member(OTHER_CARD)
    ok(await shop.adjust(merged, 100))  # 200
    first = ok(await shop.redeem(merged, "coffee", idempotency_key="till-2:1"))
    ok(await shop.gql(MERGE, {"survivor": survivor, "merged": merged}))

    again = ok(await shop.redeem(merged, "coffee", idempotency_key="till-2:1"))
    via_survivor = ok(await shop.redeem(survivor, "coffee", idempotency_key="till-2:1"))

    assert again == via_survivor == first
    assert await shop.balance(survivor) == (150, 0)


async def test_a_void_gives_the_points_back_once(
    rt: Runtime, shop: Shop, clock: MovableClock
) -> None:
    profile_id = await shop.member(CARD)  # 100, expiring a year from now
    ok(await shop.adjust(profile_id, 50))
    redemption = ok(await shop.redeem(profile_id, "coffee"))
    before = (await shop.account(profile_id))["loyalty"]["expiringPoints"]
    clock.advance(hours=1)

    voided = ok(await shop.void(redemption["id"], "wrong item"))
    again = ok(await shop.void(redemption["id"], "wrong item"))
    unknown = await shop.void("rdm_nope")

    assert (voided["status"], again["status"]) == ("VOIDED", "VOIDED")
    assert codes(unknown) == ["NOT_FOUND"]
    assert await shop.balance(profile_id) == (150, 0)
    voids = (await shop.history(profile_id, types=["VOID"]))["edges"]
    assert [(e["node"]["points"], e["node"]["reason"]) for e in voids] == [(150, "wrong item")]
    # The points went back into the lots they came from, with their expiry.
    assert before == []
    assert (await shop.account(profile_id))["loyalty"]["expiringPoints"] == [
        {"points": 150, "expiresAt": "2027-06-15T12:00:00+00:00"}
    ]
    await assert_books_balance(rt, profile_id)
