"""Bad input to every loyalty write gets one error with the contract's stable code, and
changes nothing: the member's ledger and balance stay as they were (invariant 8).

Each test sends all the bad variants of one operation against one member (one store
set-up per operation keeps the folder fast on MongoDB); a failure names its variant.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from cdp.runtime import Runtime
from tests.api.helpers import Json, codes

from .books import unchanged
from .shop import PURCHASE, RETURN, Shop, card_id, line, ok
from .support import START

CARD = "6037000000000011"
NEW_CARD = "6037000000000012"
RECEIPT = "query ($id: String!) { receipt(channel: POS, orderId: $id) { orderId } }"
QUOTE = "query ($input: PointsQuoteInput!) { pointsQuote(input: $input) { points } }"
HOLDER = "query ($card: IdentifierInput!) { profile(identifier: $card) { id } }"

BAD_BASKETS: list[list[Json]] = [
    [line(-5.00)],
    [{"amount": "ten"}],
    [{"category": "general"}],  # no amount
    [],
    [line(1.00)] * 501,
    [line(1_000_000.01)],
    [line(5.00, quantity=0)],
    [line(5.00, quantity=10_001)],
    [line(5.00, quantity=2**31)],  # beyond GraphQL's Int
    [line(5.00, sku="x" * 101)],
]
BAD_PURCHASES: list[Json] = [
    *({"lines": basket} for basket in BAD_BASKETS),
    {"channel": "TELEPATHY"},
    {"orderId": "   "},
    {"orderId": "x" * 201},
    {"occurredAt": (START + timedelta(days=1)).isoformat()},  # far in the future
    {"occurredAt": (START - timedelta(days=91)).isoformat()},  # later than any till sends
    {"occurredAt": "2026-06-15T12:00:00"},  # no offset
    {"occurredAt": "yesterday"},
    {"identifier": {"type": "LOYALTY_CARD", "value": "12"}},
    {"identifier": {"type": "EMAIL", "value": "test@test.com"}},  # a placeholder
    {"identifier": card_id(NEW_CARD), "lines": [line(-1.00)]},  # creates no profile either
]
BAD_RETURNS: list[Json] = [
    {"lines": [line(10.01, sku="mug")]},  # more than was bought
    {"lines": [line(5.00, sku="lamp")]},  # not in the order
    {"lines": [line(-1.00, sku="mug")]},
    {"lines": [line(5.00, sku="mug", quantity=0)]},
    {"lines": []},
    {"occurredAt": (START + timedelta(hours=1)).isoformat()},
    {"returnId": ""},
    {"channel": "TELEPATHY"},
]


@pytest.fixture
async def member(shop: Shop) -> str:
    """An enrolled member holding CARD, with 150 points: enough for one coffee."""
    profile_id = await shop.member(CARD)
    ok(await shop.adjust(profile_id, 50))
    return profile_id


async def refused_codes(shop: Shop, document: str, inputs: list[Json]) -> list[list[str]]:
    return [codes(await shop.gql(document, {"input": given})) for given in inputs]


def purchase(**changes: Any) -> Json:
    base = {"channel": "POS", "orderId": "BAD-1", "identifier": card_id(CARD)}
    return {**base, "lines": [line(10.00)], **changes}


async def test_bad_purchases_are_refused_and_record_nothing(
    rt: Runtime, shop: Shop, member: str
) -> None:
    async with unchanged(rt, member):
        refused = await refused_codes(shop, PURCHASE, [purchase(**bad) for bad in BAD_PURCHASES])

    assert dict(zip(map(str, BAD_PURCHASES), refused, strict=True)) == {
        str(bad): ["BAD_USER_INPUT"] for bad in BAD_PURCHASES
    }
    assert ok(await shop.gql(RECEIPT, {"id": "BAD-1"})) is None
    assert ok(await shop.gql(HOLDER, {"card": card_id(NEW_CARD)})) is None


async def test_a_quote_for_a_bad_basket_is_refused(shop: Shop) -> None:
    quotes = [{"channel": "POS", "lines": basket} for basket in BAD_BASKETS]

    refused = await refused_codes(shop, QUOTE, quotes)

    assert refused == [["BAD_USER_INPUT"]] * len(quotes)


async def test_a_till_clock_a_few_minutes_ahead_is_tolerated(shop: Shop, member: str) -> None:
    ahead = purchase(occurredAt=(START + timedelta(minutes=9)).isoformat())

    receipt = ok(await shop.gql(PURCHASE, {"input": ahead}))

    assert receipt["pointsEarned"] == 10


async def test_bad_returns_are_refused_and_take_nothing_back(rt: Runtime, shop: Shop) -> None:
    receipt = ok(await shop.purchase(CARD, line(10.00, sku="mug"), order_id="R-1"))
    base = {"channel": "POS", "orderId": "R-1", "returnId": "ret-1", "lines": [line(5.00)]}

    async with unchanged(rt, receipt["profile"]["id"]):
        refused = await refused_codes(shop, RETURN, [{**base, **bad} for bad in BAD_RETURNS])

    assert dict(zip(map(str, BAD_RETURNS), refused, strict=True)) == {
        str(bad): ["BAD_USER_INPUT"] for bad in BAD_RETURNS
    }


async def test_bad_redemptions_are_refused_and_spend_nothing(
    rt: Runtime, shop: Shop, member: str
) -> None:
    async with unchanged(rt, member):
        refused = [
            codes(await shop.redeem(member, "free-car")),
            codes(await shop.redeem("p_unknown", "coffee")),
            codes(await shop.redeem(member, "coffee", idempotency_key="")),
            codes(await shop.redeem(member, "coffee", idempotency_key="k" * 201)),
            codes(await shop.redeem(member, "coffee", channel="TELEPATHY")),
        ]

    assert refused == [
        ["NOT_FOUND"],
        ["NOT_FOUND"],
        ["BAD_USER_INPUT"],
        ["BAD_USER_INPUT"],
        ["BAD_USER_INPUT"],
    ]


async def test_bad_adjustments_are_refused(rt: Runtime, shop: Shop, member: str) -> None:
    async with unchanged(rt, member):
        refused = [
            codes(await shop.adjust(member, 0)),
            codes(await shop.adjust(member, 10_000_001)),
            codes(await shop.adjust(member, -10_000_001)),
            codes(await shop.adjust(member, 10, idempotency_key=" ")),
            codes(await shop.adjust("p_unknown", 10)),
        ]

    assert refused == [
        ["BAD_USER_INPUT"],
        ["BAD_USER_INPUT"],
        ["BAD_USER_INPUT"],
        ["BAD_USER_INPUT"],
        ["NOT_FOUND"],
    ]
