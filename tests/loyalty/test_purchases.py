"""recordPurchase: what a basket earns under each rule of the demo program, when the points
become usable, the tier they lead to, and replays of one order.

Every figure is worked out by hand from cdp/loyalty/demo_program.toml in the comments.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cdp.loyalty.jobs import Job, run_jobs
from cdp.runtime import Runtime
from tests.api.helpers import codes
from tests.realtime.support import MovableClock

from .books import assert_books_balance
from .shop import Shop, line, ok
from .support import PENDING, START

CARD, OTHER_CARD = "6037000000000001", "6037000000000002"
YEAR_LATER = datetime(2027, 6, 15, 12, tzinfo=UTC)  # lots expire 12 months after earning
UPDATE = (
    "mutation ($id: ID!, $input: ProfileInput!) { updateProfile(id: $id, input: $input) { id } }"
)


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def test_each_line_earns_by_its_category_and_waits_out_the_return_window(
    rt: Runtime, shop: Shop
) -> None:
    # general 42.50: floor(42.5) = 42; coffee x2: 10.00 -> 20 (10 base + 10 bonus);
    # gift-card x0: 0; reusable-bag 25 per item: 2 items for 3.00 -> 3 + 50 = 53.
    # Total 115, of which base 42 + 10 + 0 + 3 = 55 and bonus 60.
    receipt = ok(
        await shop.purchase(
            CARD,
            line(42.50, sku="tee"),
            line(10.00, "coffee"),
            line(50.00, "gift-card"),
            line(3.00, "reusable-bag", quantity=2),
            order_id="A-1",
            storeId="store-7",
            registerId="till-2",
        )
    )

    assert {k: v for k, v in receipt.items() if k not in ("profile", "createdAt")} == {
        "orderId": "A-1",
        "channel": "POS",
        "storeId": "store-7",
        "registerId": "till-2",
        "pointsEarned": 115,
        "bonusPoints": 60,
        "pendingPoints": 115,
        "balanceAfter": 0,
        "tier": {"id": "member"},
        "tierChanged": False,
        "rewardsUnlocked": [],
    }
    assert when(receipt["createdAt"]) == START
    history = await shop.history(receipt["profile"]["id"])
    assert [(e["node"]["type"], e["node"]["points"]) for e in history["edges"]] == [
        ("BONUS", 60),
        ("EARN", 55),
    ]
    for edge in history["edges"]:
        entry = edge["node"]
        assert (entry["orderId"], entry["balanceAfter"], entry["channel"]) == ("A-1", 0, "POS")
        assert when(entry["availableAt"]) == START + PENDING
        assert when(entry["expiresAt"]) == YEAR_LATER
    await assert_books_balance(rt, receipt["profile"]["id"])


@pytest.mark.parametrize(
    ("channel", "earned", "bonus"),
    [
        ("POS", 100, 0),
        ("KIOSK", 100, 0),
        ("ECOMMERCE", 125, 25),  # x1.25
        ("MOBILE_APP", 165, 65),  # x1.5, and the app-weekend promotion x1.1 until 2030
    ],
)
async def test_the_channel_multiplies_the_points(
    shop: Shop, channel: str, earned: int, bonus: int
) -> None:
    receipt = ok(await shop.purchase(CARD, line(100.00), channel=channel))

    assert (receipt["pointsEarned"], receipt["bonusPoints"]) == (earned, bonus)


@pytest.mark.parametrize(
    ("occurred_at", "category", "earned"),
    [
        ("2026-10-31T23:59:59+00:00", "outerwear", 100),  # the day before winter-double
        ("2026-11-01T00:00:00+00:00", "outerwear", 200),  # its first moment: x2
        ("2027-02-28T23:59:59+00:00", "outerwear", 200),
        ("2027-03-01T00:00:00+00:00", "outerwear", 100),  # ends_at is not included
        ("2026-12-01T00:00:00+00:00", "general", 100),  # outerwear only
    ],
)
async def test_a_dated_promotion_counts_when_the_purchase_happened(
    shop: Shop, clock: MovableClock, occurred_at: str, category: str, earned: int
) -> None:
    # Sent a month late: the promotion in force then counts, whatever is in force now.
    clock.moment = when(occurred_at) + timedelta(days=30)

    receipt = ok(await shop.purchase(CARD, line(100.00, category), occurred_at=when(occurred_at)))

    assert (receipt["pointsEarned"], receipt["bonusPoints"]) == (earned, earned - 100)


async def test_the_tier_goes_up_at_once_and_multiplies_later_purchases(
    rt: Runtime, shop: Shop
) -> None:
    # 500 qualifying points reach silver (x1.25); 2000 reach gold.
    first = ok(await shop.purchase(CARD, line(500.00)))
    second = ok(await shop.purchase(CARD, line(100.00)))  # 100 x 1.25 = 125
    third = ok(await shop.purchase(CARD, line(1100.00)))  # 1375: 500 + 125 + 1375 = 2000

    assert [
        (r["pointsEarned"], r["tier"]["id"], r["tierChanged"]) for r in (first, second, third)
    ] == [
        (500, "silver", True),
        (125, "silver", False),
        (1375, "gold", True),
    ]
    account = await shop.account(first["profile"]["id"])
    assert account["loyalty"]["tier"] == {"id": "gold"}
    assert account["loyalty"]["qualifyingPoints"] == 2000
    await assert_books_balance(rt, first["profile"]["id"])


async def test_the_tier_multiplies_fixed_category_points_too(shop: Shop) -> None:
    ok(await shop.purchase(CARD, line(500.00)))  # silver: x1.25

    receipt = ok(await shop.purchase(CARD, line(3.00, "reusable-bag", quantity=2)))

    # (3 base + 2 x 25 fixed) x 1.25 = 66.25 -> 66, of which 3 base.
    assert (receipt["pointsEarned"], receipt["bonusPoints"]) == (66, 63)


async def test_enrollment_and_completion_bonuses_are_granted_once(rt: Runtime, shop: Shop) -> None:
    enrolled = ok(await shop.enroll(CARD, complete=True))
    again = ok(await shop.enroll(CARD, complete=True))
    profile_id = enrolled["profile"]["id"]
    ok(await shop.gql(UPDATE, {"id": profile_id, "input": {"postalCode": "10002"}}))

    assert (enrolled["created"], again["created"]) == (True, False)
    assert again["profile"]["id"] == profile_id
    bonuses = await shop.history(profile_id, types=["BONUS"])
    assert [(e["node"]["points"], e["node"]["reason"]) for e in bonuses["edges"]] == [
        (50, "profile completion bonus"),
        (100, "enrollment bonus"),
    ]
    assert await shop.balance(profile_id) == (150, 0)
    await assert_books_balance(rt, profile_id)


async def test_completing_the_profile_later_earns_its_bonus_once(shop: Shop) -> None:
    profile_id = await shop.member(CARD)
    assert await shop.balance(profile_id) == (100, 0)

    completed = {"postalCode": "10001", "birthDate": "1990-05-17"}
    ok(await shop.gql(UPDATE, {"id": profile_id, "input": completed}))
    ok(await shop.gql(UPDATE, {"id": profile_id, "input": {"postalCode": "10002"}}))

    assert await shop.balance(profile_id) == (150, 0)


async def test_an_unknown_card_gets_an_allocated_profile_that_earns_but_redeems_only_once_enrolled(
    rt: Runtime, shop: Shop, clock: MovableClock
) -> None:
    receipt = ok(await shop.purchase(CARD, line(200.00)))
    profile_id = receipt["profile"]["id"]
    assert receipt["profile"]["status"] == "ALLOCATED"
    clock.advance(days=15)
    await run_jobs(rt, frozenset({Job.RELEASE}))

    account = await shop.account(profile_id)
    refused = await shop.redeem(profile_id, "coffee")
    enrolled = ok(await shop.enroll(CARD))
    redeemed = ok(await shop.redeem(profile_id, "coffee"))

    assert account["loyalty"]["balance"] == 200
    assert (account["loyalty"]["canRedeem"], account["availableRewards"]) == (False, [])
    assert codes(refused) == ["NOT_REDEEMABLE"]
    assert enrolled["profile"] == {"id": profile_id, "status": "ENROLLED"}
    assert enrolled["created"] is False
    assert redeemed["status"] == "ISSUED"
    assert await shop.balance(profile_id) == (200 + 100 - 150, 0)
    await assert_books_balance(rt, profile_id)


async def test_released_points_unlock_rewards_on_the_next_receipt(
    shop: Shop, clock: MovableClock
) -> None:
    await shop.member(CARD)  # 100 available
    ok(await shop.purchase(CARD, line(100.00)))  # 100 pending for 14 days
    clock.advance(days=14)

    receipt = ok(await shop.purchase(CARD, line(10.00)))

    assert (receipt["balanceAfter"], receipt["pendingPoints"]) == (200, 10)
    assert receipt["rewardsUnlocked"] == [{"id": "coffee"}]  # 150 points, now affordable


async def test_a_replayed_order_returns_the_first_receipt_and_other_lines_are_a_conflict(
    rt: Runtime, shop: Shop, clock: MovableClock
) -> None:
    first = ok(await shop.purchase(CARD, line(100.00), order_id="X-1"))
    clock.advance(minutes=5)

    again = ok(await shop.purchase(CARD, line(100.00), order_id="X-1"))
    other_lines = await shop.purchase(CARD, line(90.00), order_id="X-1")
    other_member = await shop.purchase(OTHER_CARD, line(100.00), order_id="X-1")
    other_channel = ok(await shop.purchase(CARD, line(100.00), order_id="X-1", channel="ECOMMERCE"))

    assert again == first
    assert codes(other_lines) == ["CONFLICT"]
    assert codes(other_member) == ["CONFLICT"]  # the same basket for someone else
    assert other_channel["pointsEarned"] == 125  # (channel, orderId) is the key
    entries = (await shop.history(first["profile"]["id"]))["edges"]
    assert [(e["node"]["type"], e["node"]["points"]) for e in entries] == [
        ("BONUS", 25),
        ("EARN", 100),
        ("EARN", 100),
    ]
    (account,) = await assert_books_balance(rt, first["profile"]["id"])
    assert (account.balance, account.pending) == (0, 225)


async def test_points_earned_before_the_window_closed_are_available_at_once(shop: Shop) -> None:
    receipt = ok(await shop.purchase(CARD, line(80.00), occurred_at=START - timedelta(days=20)))

    assert (receipt["pendingPoints"], receipt["balanceAfter"]) == (0, 80)
