"""The read side: the program's tiers and rewards, quotes, receipts, and the account a
member sees (Profile.loyalty, availableRewards)."""

from __future__ import annotations

import pytest

from tests.api.helpers import KeyFactory, codes
from tests.realtime.support import MovableClock

from .shop import RECEIPT_FIELDS, Shop, card_id, line, ok

CARD = "6037000000000006"
QUOTE = """
query ($input: PointsQuoteInput!) {
  pointsQuote(input: $input) {
    points basePoints bonusPoints tierMultiplier lines { sku category amount points }
  }
}
"""
RECEIPT = f"""
query ($channel: Channel!, $orderId: String!) {{
  receipt(channel: $channel, orderId: $orderId) {{ {RECEIPT_FIELDS} }}
}}
"""
CART = [line(42.50, sku="tee"), line(10.00, "coffee", sku="beans")]


async def test_tiers_are_the_programs(shop: Shop, make_key: KeyFactory) -> None:
    document = "{ tiers { id name threshold multiplier benefits } }"

    tiers = ok(await shop.gql(document, key=await make_key("kiosk")))

    assert tiers == [
        {
            "id": "member",
            "name": "Member",
            "threshold": 0,
            "multiplier": 1.0,
            "benefits": ["Birthday treat"],
        },
        {
            "id": "silver",
            "name": "Silver",
            "threshold": 500,
            "multiplier": 1.25,
            "benefits": ["Birthday treat", "Free shipping"],
        },
        {
            "id": "gold",
            "name": "Gold",
            "threshold": 2000,
            "multiplier": 1.5,
            "benefits": ["Birthday treat", "Free shipping", "Early access"],
        },
    ]


async def test_rewards_are_the_programs_catalogue(shop: Shop) -> None:
    document = "{ rewards { id name description cost minTier { id } available } }"

    rewards = ok(await shop.gql(document))

    assert [(r["id"], r["cost"], r["minTier"], r["available"]) for r in rewards] == [
        ("coffee", 150, None, True),
        ("ten-off", 500, None, True),
        ("tote", 800, {"id": "silver"}, True),
        ("lounge", 2500, {"id": "gold"}, True),
    ]
    assert rewards[0]["description"] == "Any size, any store."


async def test_reading_the_catalogue_needs_a_key(shop: Shop) -> None:
    assert codes(await shop.gql("{ tiers { id } }", key=None)) == ["UNAUTHENTICATED"]


async def test_a_quote_is_what_the_purchase_then_earns(shop: Shop) -> None:
    # Anonymous, base tier: tee floor(42.5) = 42, beans 10 x2 = 20.
    # At silver (x1.25): tee floor(53.125) = 53, beans 25; base stays 42 + 10.
    anonymous = ok(await shop.gql(QUOTE, {"input": {"channel": "POS", "lines": CART}}))
    ok(await shop.purchase(CARD, line(500.00)))  # reaches silver
    for_member = {"channel": "POS", "lines": CART, "identifier": card_id(CARD)}
    quoted = ok(await shop.gql(QUOTE, {"input": for_member}))
    receipt = ok(await shop.purchase(CARD, *CART))

    assert anonymous == {
        "points": 62,
        "basePoints": 52,
        "bonusPoints": 10,
        "tierMultiplier": 1.0,
        "lines": [
            {"sku": "tee", "category": "general", "amount": 42.5, "points": 42},
            {"sku": "beans", "category": "coffee", "amount": 10.0, "points": 20},
        ],
    }
    assert (quoted["points"], quoted["basePoints"], quoted["bonusPoints"]) == (78, 52, 26)
    assert quoted["tierMultiplier"] == 1.25
    assert [q["points"] for q in quoted["lines"]] == [53, 25]
    assert (receipt["pointsEarned"], receipt["bonusPoints"]) == (78, 26)


async def test_a_quote_for_an_unknown_identifier_is_at_the_base_tier(shop: Shop) -> None:
    cart = {"channel": "ECOMMERCE", "lines": CART, "identifier": card_id(CARD)}

    quoted = ok(await shop.gql(QUOTE, {"input": cart}))

    # 42.5 x 1.25 = 53.125 -> 53; 10 x 2 x 1.25 = 25.
    assert (quoted["points"], quoted["tierMultiplier"]) == (78, 1.0)


async def test_a_receipt_is_found_by_channel_and_order_id(shop: Shop) -> None:
    recorded = ok(await shop.purchase(CARD, *CART, order_id="Q-1", storeId="store-1"))

    found = ok(await shop.gql(RECEIPT, {"channel": "POS", "orderId": "Q-1"}))
    elsewhere = ok(await shop.gql(RECEIPT, {"channel": "ECOMMERCE", "orderId": "Q-1"}))
    unknown = ok(await shop.gql(RECEIPT, {"channel": "POS", "orderId": "Q-404"}))

    assert found == recorded
    assert elsewhere is unknown is None


async def test_the_account_shows_every_figure_a_member_sees(
    shop: Shop, clock: MovableClock
) -> None:
    profile_id = await shop.member(CARD)  # 100 bonus, expiring 2027-06-15
    clock.advance(days=1)
    ok(await shop.purchase(CARD, line(300.00)))  # 300 pending, expiring 2027-06-16

    account = await shop.account(profile_id)

    assert account["status"] == "ENROLLED"
    assert account["loyalty"] == {
        "balance": 100,
        "pendingPoints": 300,
        "lifetimePoints": 400,
        "qualifyingPoints": 300,  # purchases only: the bonus does not qualify
        "tier": {"id": "member"},
        "nextTier": {"id": "silver"},
        "pointsToNextTier": 200,
        "tierProgress": 0.6,  # 300 of the 500 to silver
        "expiringPoints": [
            {"points": 100, "expiresAt": "2027-06-15T12:00:00+00:00"},
            {"points": 300, "expiresAt": "2027-06-16T12:00:00+00:00"},
        ],
        "canRedeem": True,
    }
    assert account["availableRewards"] == []  # 100 affords nothing yet


@pytest.mark.parametrize(
    ("spent", "tier", "next_tier", "to_next", "progress"),
    [
        (1250.00, "silver", {"id": "gold"}, 750, 0.5),  # (1250 - 500) / (2000 - 500)
        (2000.00, "gold", None, None, 1.0),  # the top tier
    ],
)
async def test_tier_progress_runs_from_one_threshold_to_the_next(
    shop: Shop,
    spent: float,
    tier: str,
    next_tier: dict[str, str] | None,
    to_next: int | None,
    progress: float,
) -> None:
    receipt = ok(await shop.purchase(CARD, line(spent)))

    loyalty = (await shop.account(receipt["profile"]["id"]))["loyalty"]

    assert (loyalty["tier"]["id"], loyalty["nextTier"]) == (tier, next_tier)
    assert (loyalty["pointsToNextTier"], loyalty["tierProgress"]) == (to_next, progress)


async def test_available_rewards_are_those_the_tier_allows_and_the_balance_affords(
    shop: Shop,
) -> None:
    profile_id = await shop.member(CARD)
    ok(await shop.adjust(profile_id, 800))  # 900
    at_member = await shop.account(profile_id)
    ok(await shop.purchase(CARD, line(500.00)))  # silver

    at_silver = await shop.account(profile_id)

    assert at_member["availableRewards"] == [{"id": "coffee"}, {"id": "ten-off"}]
    assert at_silver["availableRewards"] == [{"id": "coffee"}, {"id": "ten-off"}, {"id": "tote"}]


async def test_points_past_their_return_window_show_as_available_before_any_job_runs(
    shop: Shop, clock: MovableClock
) -> None:
    """A kiosk read between the window closing and the next job run shows the truth."""
    profile_id = await shop.member(CARD)  # 100 available: the enrollment bonus
    ok(await shop.purchase(CARD, line(80.00)))  # 80 pending for the 14-day window
    history = await shop.history(profile_id)

    clock.advance(days=13)
    inside_window = await shop.balance(profile_id)
    clock.advance(days=1)
    after_window = await shop.balance(profile_id)

    assert inside_window == (100, 80)
    assert after_window == (180, 0)
    assert await shop.history(profile_id) == history  # a release writes no entry
