"""adjustPoints: an administrator's correction, with a reason, once per idempotency key."""

from __future__ import annotations

import pytest

from cdp.runtime import Runtime
from tests.api.helpers import KeyFactory, codes

from .books import assert_books_balance, ledger
from .shop import Shop, ok

CARD = "6037000000000005"


async def test_an_adjustment_credits_or_debits_with_its_reason(rt: Runtime, shop: Shop) -> None:
    profile_id = await shop.member(CARD)  # 100

    credit = ok(await shop.adjust(profile_id, 250, reason="missed scan"))
    debit = ok(await shop.adjust(profile_id, -120, reason="duplicate credit"))
    too_much = await shop.adjust(profile_id, -231)

    assert [(e["type"], e["points"], e["balanceAfter"], e["reason"]) for e in (credit, debit)] == [
        ("ADJUST", 250, 350, "missed scan"),
        ("ADJUST", -120, 230, "duplicate credit"),
    ]
    assert (credit["channel"], debit["channel"]) == ("ADMIN", "ADMIN")
    assert codes(too_much) == ["INSUFFICIENT_POINTS"]
    account = (await shop.account(profile_id))["loyalty"]
    # Corrections are not purchases: they do not count toward a tier.
    assert (account["balance"], account["qualifyingPoints"], account["tier"]) == (
        230,
        0,
        {"id": "member"},
    )
    await assert_books_balance(rt, profile_id)


async def test_a_replayed_adjustment_returns_the_first_entry(rt: Runtime, shop: Shop) -> None:
    profile_id = await shop.member(CARD)

    first = ok(await shop.adjust(profile_id, 40, idempotency_key="ticket-77"))
    again = ok(await shop.adjust(profile_id, 40, idempotency_key="ticket-77"))
    other = await shop.adjust(profile_id, 41, idempotency_key="ticket-77")

    assert again == first
    assert codes(other) == ["CONFLICT"]
    assert await shop.balance(profile_id) == (140, 0)
    assert len(await ledger(rt, profile_id)) == 2


async def test_an_adjustment_key_answers_only_its_member_and_caller(
    rt: Runtime, shop: Shop, make_key: KeyFactory
) -> None:
    profile_id = await shop.member(CARD)
    other_id = await shop.member("6037000000000006")
    one, another = await make_key("loyalty:admin"), await make_key("loyalty:admin")
    first = ok(await shop.adjust(profile_id, 40, idempotency_key="ticket-9", key=one))

    again = ok(await shop.adjust(profile_id, 40, idempotency_key="ticket-9", key=one))
    other_member = await shop.adjust(other_id, 40, idempotency_key="ticket-9", key=one)
    other_caller = await shop.adjust(profile_id, 40, idempotency_key="ticket-9", key=another)

    assert again == first
    assert [codes(other_member), codes(other_caller)] == [["CONFLICT"], ["CONFLICT"]]
    assert first["id"] not in str([other_member, other_caller])
    assert [await shop.balance(p) for p in (profile_id, other_id)] == [(140, 0), (100, 0)]


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
async def test_an_adjustment_needs_a_reason(rt: Runtime, shop: Shop, reason: str) -> None:
    profile_id = await shop.member(CARD)

    refused = await shop.adjust(profile_id, 10, reason=reason)

    assert codes(refused) == ["BAD_USER_INPUT"]
    assert len(await ledger(rt, profile_id)) == 1


async def test_an_adjustment_without_a_reason_argument_is_refused(shop: Shop) -> None:
    profile_id = await shop.member(CARD)
    document = """
    mutation ($id: ID!) { adjustPoints(profileId: $id, points: 5, idempotencyKey: "k") { id } }
    """

    assert codes(await shop.gql(document, {"id": profile_id})) == ["BAD_USER_INPUT"]
    assert await shop.balance(profile_id) == (100, 0)


async def test_only_a_loyalty_admin_adjusts(shop: Shop, make_key: KeyFactory) -> None:
    profile_id = await shop.member(CARD)
    till = await make_key("pos")
    admin = await make_key("loyalty:admin", "profiles:read")

    refused = await shop.adjust(profile_id, 10, key=till)
    anonymous = await shop.adjust(profile_id, 10, key=None)
    allowed = await shop.adjust(profile_id, 10, key=admin)

    assert codes(refused) == ["FORBIDDEN"]
    assert codes(anonymous) == ["UNAUTHENTICATED"]
    assert ok(allowed)["points"] == 10
    assert await shop.balance(profile_id) == (110, 0)
