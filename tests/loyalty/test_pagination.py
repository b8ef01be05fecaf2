"""History and redemptions pages: newest first, and a client paging through them sees
each item once even while new ones arrive (they land before its first page).

The clock stands still here, so every entry has the same timestamp: the order within
one moment is the order entries were written.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import codes

from .shop import HISTORY, REDEMPTIONS, Shop, ok

CARD = "6037000000000007"


async def pages(
    shop: Shop, document: str, profile_id: str, field: str, *, first: int, between: Any = None
) -> list[list[str]]:
    """Every page of `field`, as lists of ids; `between()` runs after each page."""
    result: list[list[str]] = []
    after = None
    while True:
        variables = {"id": profile_id, "first": first, "after": after}
        connection = ok(await shop.gql(document, variables))[field]
        result.append([edge["node"]["id"] for edge in connection["edges"]])
        if not connection["pageInfo"]["hasNextPage"]:
            return result
        after = connection["pageInfo"]["endCursor"]
        assert after == connection["edges"][-1]["cursor"]
        if between is not None:
            await between()


async def test_history_pages_stay_whole_while_entries_are_added(shop: Shop) -> None:
    profile_id = await shop.member(CARD)  # one BONUS entry
    written = [ok(await shop.adjust(profile_id, n))["id"] for n in range(1, 7)]
    bonus = ok(await shop.gql(HISTORY, {"id": profile_id, "types": ["BONUS"]}))
    (bonus_id,) = [edge["node"]["id"] for edge in bonus["history"]["edges"]]

    async def add_one() -> None:
        ok(await shop.adjust(profile_id, 100))

    seen = await pages(shop, HISTORY, profile_id, "history", first=3, between=add_one)
    newest = ok(await shop.gql(HISTORY, {"id": profile_id, "first": 2}))["history"]

    newest_first = [*reversed(written), bonus_id]
    assert seen == [newest_first[0:3], newest_first[3:6], newest_first[6:]]
    assert [edge["node"]["points"] for edge in newest["edges"]] == [100, 100]


async def test_history_filters_by_type(shop: Shop) -> None:
    profile_id = await shop.member(CARD)
    ok(await shop.adjust(profile_id, 50))
    ok(await shop.redeem(profile_id, "coffee"))

    redeemed = await shop.history(profile_id, types=["REDEEM", "ADJUST"])

    assert [(e["node"]["type"], e["node"]["points"]) for e in redeemed["edges"]] == [
        ("REDEEM", -150),
        ("ADJUST", 50),
    ]


async def test_redemption_pages_stay_whole_while_redemptions_are_added(shop: Shop) -> None:
    profile_id = await shop.member(CARD)
    ok(await shop.adjust(profile_id, 1400))  # 1500 = ten coffees
    issued = [ok(await shop.redeem(profile_id, "coffee"))["id"] for _ in range(5)]

    async def redeem_one() -> None:
        ok(await shop.redeem(profile_id, "coffee"))

    seen = await pages(shop, REDEMPTIONS, profile_id, "redemptions", first=2, between=redeem_one)

    newest_first = list(reversed(issued))
    assert seen == [newest_first[0:2], newest_first[2:4], newest_first[4:]]
    assert await shop.balance(profile_id) == (1500 - 150 * 7, 0)


BAD_PAGES = [
    {"first": 101},
    {"first": -1},
    {"after": "not a cursor!"},
    {"after": "!!!"},  # decodes to nothing: base64 skips what is not in its alphabet
    {"after": "bm90IHlvdXJz!"},  # a cursor's text with junk after it
    {"after": "\u00e9t\u00e9"},  # not ASCII
]


@pytest.mark.parametrize("page", BAD_PAGES, ids=str)
@pytest.mark.parametrize("connection", ["history", "redemptions"])
async def test_a_bad_page_request_is_refused(
    shop: Shop, connection: str, page: dict[str, Any]
) -> None:
    profile_id = await shop.member(CARD)
    query = HISTORY if connection == "history" else REDEMPTIONS

    body = await shop.gql(query, {"id": profile_id, **page})

    assert codes(body) == ["BAD_USER_INPUT"]
