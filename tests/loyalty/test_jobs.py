"""The background jobs on a moved clock: pending points released when the return window
ends, points expired (lots oldest first, or everything after inactivity), tiers reviewed
when the window moves on; each one idempotent, also when two copies run at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from cdp.loyalty.jobs import ALL_JOBS, Job, run_jobs
from cdp.loyalty.model import LedgerEntryType
from cdp.runtime import Runtime
from tests.realtime.support import MovableClock

from .books import assert_books_balance, ledger
from .shop import Shop, line, ok
from .support import (
    PENDING,
    START,
    assert_every_job_done_once,
    demo_rules,
    members_due_for_every_job,
    program_with,
)

CARD = "6037000000000008"


async def run(rt: Runtime, *jobs: Job) -> int:
    """How many profiles the jobs changed."""
    return (await run_jobs(rt, frozenset(jobs) or ALL_JOBS)).changed


async def test_pending_points_are_released_when_the_return_window_ends(
    rt: Runtime, shop: Shop, clock: MovableClock
) -> None:
    profile_id = await shop.member(CARD)
    ok(await shop.purchase(CARD, line(100.00)))
    clock.moment = START + PENDING - timedelta(seconds=1)

    early = await run(rt, Job.RELEASE)
    still_pending = await shop.balance(profile_id)
    clock.moment = START + PENDING
    on_time = await run(rt, Job.RELEASE)
    again = await run(rt, Job.RELEASE)

    assert (early, on_time, again) == (0, 1, 0)
    assert still_pending == (100, 100)
    assert await shop.balance(profile_id) == (200, 0)
    assert len(await ledger(rt, profile_id)) == 2  # a release moves points, it adds none
    await assert_books_balance(rt, profile_id)


async def test_expiry_writes_off_lots_a_year_old_and_spending_takes_the_oldest_first(
    rt: Runtime, shop: Shop, clock: MovableClock
) -> None:
    profile_id = await shop.member(CARD)  # 100, expiring 2027-06-15
    clock.moment = datetime(2026, 8, 1, tzinfo=UTC)
    ok(await shop.purchase(CARD, line(200.00)))  # expiring 2027-08-01
    clock.moment = datetime(2026, 8, 20, tzinfo=UTC)
    ok(await shop.redeem(profile_id, "coffee"))  # 150: all of the bonus lot, 50 of the other

    clock.moment = datetime(2027, 6, 15, 12, tzinfo=UTC)
    nothing_left_to_expire = await run(rt, Job.EXPIRE)
    clock.moment = datetime(2027, 8, 1, tzinfo=UTC)
    expired = await run(rt, Job.EXPIRE)
    again = await run(rt, Job.EXPIRE)

    assert (nothing_left_to_expire, expired, again) == (0, 1, 0)
    entries = (await shop.history(profile_id, types=["EXPIRE"]))["edges"]
    assert [(e["node"]["points"], e["node"]["reason"]) for e in entries] == [
        (-150, "points expired")
    ]
    assert await shop.balance(profile_id) == (0, 0)
    await assert_books_balance(rt, profile_id)


@pytest.mark.parametrize(
    "program",
    [program_with(expiry={"policy": "inactivity", "months": 6})],
    indirect=True,
    ids=["inactivity"],
)
async def test_inactivity_expires_everything_six_months_after_the_last_activity(
    rt: Runtime, shop: Shop, clock: MovableClock
) -> None:
    profile_id = await shop.member(CARD)  # active 2026-06-15
    clock.moment = datetime(2026, 7, 15, 12, tzinfo=UTC)
    ok(await shop.purchase(CARD, line(200.00)))  # active again 2026-07-15

    clock.moment = datetime(2026, 12, 16, tzinfo=UTC)  # 6 months after enrolling
    kept = await run(rt)
    after_release = await shop.balance(profile_id)
    clock.moment = datetime(2027, 1, 15, 12, tzinfo=UTC)  # 6 months after the purchase
    expired = await run(rt)

    assert after_release == (300, 0)
    assert (kept, expired) == (1, 1)  # the first run only released the purchase
    entries = await ledger(rt, profile_id)
    assert [(e.type, e.points) for e in entries][-1] == (LedgerEntryType.EXPIRE, -300)
    assert await shop.balance(profile_id) == (0, 0)
    await assert_books_balance(rt, profile_id)


async def test_the_tier_goes_down_when_its_qualifying_month_leaves_the_window(
    rt: Runtime, shop: Shop, clock: MovableClock
) -> None:
    receipt = ok(await shop.purchase(CARD, line(500.00)))  # June 2026: silver
    profile_id = receipt["profile"]["id"]
    clock.moment = datetime(2027, 5, 31, 23, 59, tzinfo=UTC)  # June 2026 still counts

    kept = await run(rt, Job.TIERS)
    clock.moment = datetime(2027, 6, 1, tzinfo=UTC)
    lowered = await run(rt, Job.TIERS)
    again = await run(rt, Job.TIERS)

    assert receipt["tier"]["id"] == "silver"
    assert (kept, lowered, again) == (0, 1, 0)
    loyalty = (await shop.account(profile_id))["loyalty"]
    assert (loyalty["tier"]["id"], loyalty["qualifyingPoints"]) == ("member", 0)
    await assert_books_balance(rt, profile_id)


@pytest.mark.parametrize(
    "program",
    [program_with(tiers={**demo_rules()["tiers"], "downgrade": "never"})],
    indirect=True,
    ids=["downgrade-never"],
)
async def test_a_program_that_never_downgrades_keeps_the_tier(
    rt: Runtime, shop: Shop, clock: MovableClock
) -> None:
    receipt = ok(await shop.purchase(CARD, line(500.00)))  # silver
    clock.moment = datetime(2027, 7, 1, tzinfo=UTC)

    changed = await run(rt, Job.TIERS)

    loyalty = (await shop.account(receipt["profile"]["id"]))["loyalty"]
    assert (changed, loyalty["tier"]["id"], loyalty["qualifyingPoints"]) == (0, "silver", 0)


async def test_two_copies_of_the_jobs_at_once_apply_each_change_once(
    rt: Runtime, shop: Shop, clock: MovableClock
) -> None:
    members = await members_due_for_every_job(shop)
    clock.moment = START + timedelta(days=400)

    first, second = await asyncio.gather(run(rt), run(rt))
    third = await run(rt)

    assert (first + second, third) == (3, 0)
    await assert_every_job_done_once(rt, members)
