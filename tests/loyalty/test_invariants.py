"""Invariant 2 under random use: whatever mix of purchases, returns, replays, redemptions,
voids, adjustments, enrollment and passing time a member goes through, after every step
balance + pending equals the sum of their ledger entries, and a refused step changes
nothing at all."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdp.loyalty.jobs import ALL_JOBS, run_jobs
from cdp.runtime import Runtime
from tests.api.helpers import Json, codes
from tests.realtime.support import MovableClock

from .books import assert_books_balance, ledger
from .shop import Shop, line, ok

CATEGORIES = ["general", "coffee", "gift-card", "reusable-bag", "outerwear"]
# Refusals a random sequence runs into; anything else is a failure.
EXPECTED_REFUSALS = {"INSUFFICIENT_POINTS", "NOT_REDEEMABLE", "BAD_USER_INPUT"}
cards = itertools.count(1)

amounts = st.integers(min_value=1, max_value=60_000).map(lambda cents: cents / 100)
purchases = st.tuples(
    st.just("purchase"),
    st.sampled_from(CATEGORIES),
    amounts,
    st.integers(1, 3),
    st.sampled_from(["POS", "ECOMMERCE", "MOBILE_APP"]),
)
steps = st.one_of(
    purchases,
    st.tuples(st.just("return"), st.integers(0, 5), st.sampled_from([0.25, 0.5, 1.0])),
    st.tuples(st.just("replay"), st.integers(0, 5)),
    st.tuples(st.just("redeem"), st.sampled_from(["coffee", "ten-off", "tote"])),
    st.tuples(st.just("void"), st.integers(0, 5)),
    st.tuples(st.just("adjust"), st.integers(-400, 800).filter(bool)),
    st.tuples(st.just("enroll")),
    st.tuples(st.just("wait"), st.integers(1, 400)),  # past the return window, and expiry
)


@dataclass
class Member:
    """One member's random life, driven through the API."""

    rt: Runtime
    shop: Shop
    clock: MovableClock
    card: str
    profile_id: str | None = None
    orders: list[tuple[str, list[Json], str]] = field(default_factory=list)  # id, lines, channel
    redemptions: list[str] = field(default_factory=list)

    async def take(self, step: tuple[Any, ...]) -> Json | None:
        """The response to one step (None when the step changes only the clock, or has
        nothing to act on yet)."""
        kind, *args = step
        if kind == "purchase":
            category, amount, quantity, channel = args
            lines = [line(amount, category, sku=f"sku-{len(self.orders)}", quantity=quantity)]
            self.orders.append((f"{self.card}-{len(self.orders)}", lines, channel))
            return await self.buy(*self.orders[-1])
        if kind == "replay" and self.orders:
            return await self.buy(*self.orders[args[0] % len(self.orders)])
        if kind == "return" and self.orders:
            order_id, (bought,), channel = self.orders[args[0] % len(self.orders)]
            back = {**bought, "amount": round(bought["amount"] * args[1], 2)}
            return await self.shop.give_back(order_id, back, channel=channel)
        if kind == "enroll":
            return await self.shop.enroll(self.card)
        if kind == "wait":
            self.clock.advance(days=args[0])
            await run_jobs(self.rt, ALL_JOBS)
            return None
        if self.profile_id is None:
            return None
        if kind == "redeem":
            body = await self.shop.redeem(self.profile_id, args[0])
            if not codes(body):
                self.redemptions.append(ok(body)["id"])
            return body
        if kind == "void" and self.redemptions:
            return await self.shop.void(self.redemptions[args[0] % len(self.redemptions)])
        if kind == "adjust":
            return await self.shop.adjust(self.profile_id, args[0])
        return None

    async def buy(self, order_id: str, lines: list[Json], channel: str) -> Json:
        body = await self.shop.purchase(self.card, *lines, order_id=order_id, channel=channel)
        if self.profile_id is None and not codes(body):
            self.profile_id = ok(body)["profile"]["id"]
        return body

    async def snapshot(self) -> tuple[Any, ...] | None:
        if self.profile_id is None:
            return None
        (account,) = await assert_books_balance(self.rt, self.profile_id)
        return account, await ledger(self.rt, self.profile_id)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(first=purchases, sequence=st.lists(steps, min_size=2, max_size=15))
async def test_the_books_balance_after_every_step_of_a_random_sequence(
    rt: Runtime,
    shop: Shop,
    clock: MovableClock,
    first: tuple[Any, ...],
    sequence: list[tuple[Any, ...]],
) -> None:
    # Every example is a new member on the same store; the clock only moves forward.
    member = Member(rt, shop, clock, card=f"60371{next(cards):011d}")
    for step in [first, *sequence]:
        before = await member.snapshot()
        body = await member.take(step)
        refused = codes(body) if body else []
        assert set(refused) <= EXPECTED_REFUSALS, (step, body)
        after = await member.snapshot()
        if refused:
            assert after == before, step
