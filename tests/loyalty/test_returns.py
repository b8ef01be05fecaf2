"""recordReturn: points of returned lines come back, pending ones first, never more than
the order earned however many returns there are; a return is recorded once."""

from __future__ import annotations

import pytest

from cdp.loyalty.jobs import ALL_JOBS, run_jobs
from cdp.runtime import Runtime
from tests.api.helpers import codes
from tests.realtime.support import MovableClock

from .books import assert_books_balance
from .shop import Shop, line, ok
from .support import program_with

CARD = "6037000000000002"


async def test_a_return_takes_back_the_orders_pending_points_first(rt: Runtime, shop: Shop) -> None:
    profile_id = await shop.member(CARD)  # 100 available (enrollment bonus)
    ok(await shop.purchase(CARD, line(100.00, sku="coat"), order_id="R-1"))

    receipt = ok(await shop.give_back("R-1", line(100.00, sku="coat"), return_id="ret-1"))

    assert (receipt["orderId"], receipt["pointsEarned"]) == ("R-1", -100)
    assert (receipt["pendingPoints"], receipt["balanceAfter"]) == (0, 100)
    reversal = (await shop.history(profile_id, types=["REVERSAL"]))["edges"]
    assert [(e["node"]["points"], e["node"]["reason"]) for e in reversal] == [
        (-100, "return ret-1")
    ]
    await assert_books_balance(rt, profile_id)


async def test_returns_in_parts_never_take_back_more_than_the_order_earned(
    rt: Runtime, shop: Shop
) -> None:
    # mug 33.33 earns 33; beans (coffee x2) 10.00 earn 20: 53 in all. Each part returned
    # takes back points in proportion to what has come back so far, rounded down.
    purchase = ok(
        await shop.purchase(
            CARD, line(33.33, sku="mug"), line(10.00, "coffee", sku="beans"), order_id="R-2"
        )
    )
    mug, beans = line(11.11, sku="mug"), line(5.00, "coffee", sku="beans")

    taken = [
        ok(await shop.give_back("R-2", mug))["pointsEarned"],  # floor(33 x 1/3) = 11
        ok(await shop.give_back("R-2", mug, beans))["pointsEarned"],  # 22 - 11 + 10
        ok(await shop.give_back("R-2", mug, beans))["pointsEarned"],  # 33 - 22 + 20 - 10
    ]
    too_much = await shop.give_back("R-2", line(0.01, sku="mug"))

    assert taken == [-11, -21, -21]
    assert sum(taken) == -purchase["pointsEarned"] == -53
    assert codes(too_much) == ["BAD_USER_INPUT"]
    (account,) = await assert_books_balance(rt, purchase["profile"]["id"])
    assert (account.balance, account.pending, account.lifetime) == (0, 0, 0)


async def spent_after_buying(shop: Shop, clock: MovableClock) -> str:
    """A member who bought order R-3 (100 points) and, once they were available, spent
    150 on a coffee; returns the member's id."""
    profile_id = await shop.member(CARD)
    clock.advance(days=1)
    ok(await shop.purchase(CARD, line(100.00), order_id="R-3"))
    clock.advance(days=15)
    ok(await shop.redeem(profile_id, "coffee"))
    return profile_id


async def test_a_return_after_the_points_were_spent_stops_the_balance_at_zero(
    rt: Runtime, shop: Shop, clock: MovableClock
) -> None:
    # The bonus lot (100) expires first, so the coffee (150) takes it and 50 of the
    # order's 100; the return finds 50 left and forgives the rest.
    profile_id = await spent_after_buying(shop, clock)

    receipt = ok(await shop.give_back("R-3", line(100.00)))

    assert (receipt["pointsEarned"], receipt["balanceAfter"]) == (-50, 0)
    await assert_books_balance(rt, profile_id)


@pytest.mark.parametrize(
    "program", [program_with(allow_negative_balance=True)], indirect=True, ids=["negative"]
)
async def test_a_program_allowing_it_takes_the_balance_below_zero(
    rt: Runtime, shop: Shop, clock: MovableClock
) -> None:
    profile_id = await spent_after_buying(shop, clock)

    receipt = ok(await shop.give_back("R-3", line(100.00)))
    credit = ok(await shop.adjust(profile_id, 80))

    assert (receipt["pointsEarned"], receipt["balanceAfter"]) == (-100, -50)
    assert credit["balanceAfter"] == 30  # the debt is paid back first
    await assert_books_balance(rt, profile_id)


async def test_a_replayed_return_changes_nothing_and_other_lines_are_a_conflict(
    rt: Runtime, shop: Shop, clock: MovableClock
) -> None:
    purchase = ok(await shop.purchase(CARD, line(60.00, sku="hat"), order_id="R-4"))
    first = ok(await shop.give_back("R-4", line(20.00, sku="hat"), return_id="ret-4"))
    clock.advance(minutes=3)

    again = ok(await shop.give_back("R-4", line(20.00, sku="hat"), return_id="ret-4"))
    other = await shop.give_back("R-4", line(30.00, sku="hat"), return_id="ret-4")

    assert again == first
    assert first["pointsEarned"] == -20
    assert codes(other) == ["CONFLICT"]
    (account,) = await assert_books_balance(rt, purchase["profile"]["id"])
    assert account.pending == 40


async def test_a_return_of_an_unknown_order_is_not_found(rt: Runtime, shop: Shop) -> None:
    purchase = ok(await shop.purchase(CARD, line(60.00), order_id="R-5"))

    on_other_channel = await shop.give_back("R-5", line(60.00), channel="ECOMMERCE")
    unknown = await shop.give_back("nope", line(60.00))

    assert codes(on_other_channel) == codes(unknown) == ["NOT_FOUND"]
    (account,) = await assert_books_balance(rt, purchase["profile"]["id"])
    assert account.pending == 60


async def test_a_return_below_the_threshold_takes_the_tier_back_down(shop: Shop) -> None:
    ok(await shop.purchase(CARD, line(450.00, sku="tv"), order_id="R-6"))
    upgraded = ok(await shop.purchase(CARD, line(50.00, sku="cable"), order_id="R-7"))

    receipt = ok(await shop.give_back("R-7", line(50.00, sku="cable")))

    assert (upgraded["tier"]["id"], upgraded["tierChanged"]) == ("silver", True)
    assert (receipt["tier"]["id"], receipt["tierChanged"]) == ("member", True)


async def test_a_return_after_the_orders_points_expired_takes_nothing_again(
    rt: Runtime, shop: Shop, clock: MovableClock
) -> None:
    """Expired points already cost the member: a late return must not take them twice."""
    profile_id = await shop.member(CARD)
    ok(await shop.purchase(CARD, line(100.00), order_id="R-6"))  # a lot of 100, 12 months
    clock.advance(days=370)
    await run_jobs(rt, ALL_JOBS)  # releases, then expires the bonus lot and the order's
    ok(await shop.adjust(profile_id, 50))  # points the member earned since

    halves = [ok(await shop.give_back("R-6", line(50.00))) for _ in range(2)]

    assert [(r["pointsEarned"], r["balanceAfter"]) for r in halves] == [(0, 50), (0, 50)]
    await assert_books_balance(rt, profile_id)
