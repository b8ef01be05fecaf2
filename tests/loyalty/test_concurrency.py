"""Invariants 3 and 4 under load: concurrent redemptions never overdraw the balance (in
one process on each store, and across two OS processes sharing one SQLite file), and
concurrent replays of one purchase accrue it once."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import pytest

from cdp.channel import Channel
from cdp.enrollment.service import enroll
from cdp.identity.model import PersonalData
from cdp.loyalty.adjustments import adjust_points
from cdp.loyalty.model import LedgerEntryType
from cdp.loyalty.program import Program
from cdp.runtime import Runtime
from tests.api.helpers import api_settings, codes, started_runtime

from .books import assert_books_balance, ledger
from .shop import Shop, line, ok
from .support import program_with, run_processes

CARD = "6037000000000013"
REDEMPTIONS = 50
COFFEE = 150
FUNDS = 3 * COFFEE  # covers exactly three coffees
RACERS = 8


def mugs(stock: int) -> Program:
    """A program whose one reward, a mug for 100 points, has `stock` units."""
    return program_with(rewards=[{"id": "mug", "name": "Mug", "cost": 100, "stock": stock}])


# Each copy opens the file, says "ready", waits for "go", then fires its share of the
# redemptions at once, each under its own idempotency key.
REDEEMER = """
import asyncio, json, os, sys
from cdp.bootstrap import build_runtime, start_runtime, stop_runtime
from cdp.channel import Channel
from cdp.errors import InsufficientPoints
from cdp.loyalty.redemptions import redeem_reward
from cdp.settings import load_settings

async def redeem(rt, profile_id, n):
    try:
        redemption = await redeem_reward(
            rt, profile_id=profile_id, reward_id="coffee", channel=Channel.POS,
            idempotency_key=f"{os.getpid()}-{n}",
        )
        return redemption.code
    except InsufficientPoints:
        return None

async def main(path, profile_id, count):
    rt = build_runtime(load_settings(store_url=f"sqlite:///{path}"))
    await start_runtime(rt)
    print("ready", flush=True)
    sys.stdin.readline()
    results = await asyncio.gather(*(redeem(rt, profile_id, n) for n in range(count)))
    await stop_runtime(rt)
    print(json.dumps(results), flush=True)

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


async def test_of_50_concurrent_redemptions_only_those_the_balance_covers_succeed(
    rt: Runtime, shop: Shop
) -> None:
    profile_id = await shop.member(CARD)
    ok(await shop.adjust(profile_id, FUNDS - 100))

    bodies = await asyncio.gather(*(shop.redeem(profile_id, "coffee") for _ in range(REDEMPTIONS)))

    outcomes = Counter(tuple(codes(body)) for body in bodies)
    assert outcomes == {(): 3, ("INSUFFICIENT_POINTS",): REDEMPTIONS - 3}
    issued = [ok(body)["code"] for body in bodies if not codes(body)]
    assert len(set(issued)) == 3
    (account,) = await assert_books_balance(rt, profile_id)
    assert account.balance == 0
    spent = [e.points for e in await ledger(rt, profile_id) if e.type is LedgerEntryType.REDEEM]
    assert spent == [-COFFEE] * 3


async def test_10_concurrent_replays_of_one_redemption_issue_it_once(
    rt: Runtime, shop: Shop
) -> None:
    profile_id = await shop.member(CARD)
    ok(await shop.adjust(profile_id, FUNDS - 100))

    bodies = await asyncio.gather(
        *(shop.redeem(profile_id, "coffee", idempotency_key="race-k") for _ in range(10))
    )

    first = ok(bodies[0])
    assert all(ok(body) == first for body in bodies)
    spent = [e.points for e in await ledger(rt, profile_id) if e.type is LedgerEntryType.REDEEM]
    assert spent == [-COFFEE]
    await assert_books_balance(rt, profile_id)


async def test_20_concurrent_replays_of_one_purchase_accrue_it_once(
    rt: Runtime, shop: Shop
) -> None:
    # An unknown card: the replays also race to create its one ALLOCATED profile.
    receipts = await asyncio.gather(
        *(shop.purchase(CARD, line(100.00), order_id="RACE-1") for _ in range(20))
    )

    first = ok(receipts[0])
    assert all(ok(receipt) == first for receipt in receipts)
    profile_id = first["profile"]["id"]
    entries = await ledger(rt, profile_id)
    assert [(e.type, e.points) for e in entries] == [(LedgerEntryType.EARN, 100)]
    (account,) = await assert_books_balance(rt, profile_id)
    assert account.pending == 100


@pytest.mark.parametrize(
    ("program", "issued"),
    [(mugs(1), 1), (mugs(RACERS), RACERS)],
    indirect=["program"],
    ids=["last-one", "enough"],
)
async def test_members_racing_for_a_limited_reward_get_only_the_stock(
    rt: Runtime, shop: Shop, issued: int
) -> None:
    members = [await shop.member(f"60370000000005{n:02d}") for n in range(RACERS)]

    bodies = await asyncio.gather(*(shop.redeem(member, "mug") for member in members))

    outcomes = Counter(tuple(codes(body)) for body in bodies)
    assert outcomes == Counter({(): issued, ("NOT_REDEEMABLE",): RACERS - issued}) - Counter()
    accounts = await assert_books_balance(rt, *members)
    assert sorted(a.balance for a in accounts) == [0] * issued + [100] * (RACERS - issued)


async def test_concurrent_replays_of_one_return_take_the_points_back_once(
    rt: Runtime, shop: Shop
) -> None:
    receipt = ok(await shop.purchase(CARD, line(100.00, sku="kettle"), order_id="RET-1"))

    bodies = await asyncio.gather(
        *(shop.give_back("RET-1", line(40.00, sku="kettle"), return_id="r-1") for _ in range(10))
    )

    assert {ok(body)["pointsEarned"] for body in bodies} == {-40}
    (account,) = await assert_books_balance(rt, receipt["profile"]["id"])
    assert account.pending == 60


async def test_concurrent_voids_of_one_redemption_refund_it_once(rt: Runtime, shop: Shop) -> None:
    profile_id = await shop.member(CARD)
    ok(await shop.adjust(profile_id, 50))
    redemption = ok(await shop.redeem(profile_id, "coffee"))

    bodies = await asyncio.gather(*(shop.void(redemption["id"]) for _ in range(10)))

    assert {ok(body)["status"] for body in bodies} == {"VOIDED"}
    voids = [e for e in await ledger(rt, profile_id) if e.type is LedgerEntryType.VOID]
    assert [e.points for e in voids] == [COFFEE]
    (account,) = await assert_books_balance(rt, profile_id)
    assert account.balance == 150


async def test_two_processes_redeeming_at_once_on_one_sqlite_file_never_overdraw(
    tmp_path: Path,
) -> None:
    db = tmp_path / "shared.db"
    async with started_runtime(api_settings(db)) as runtime:
        profile_id = await funded_member(runtime)

        results = await run_processes(
            ["-c", REDEEMER, str(db), profile_id, str(REDEMPTIONS // 2)],
            copies=2,
            env={},
            stdin=b"go\n",
        )

        for code, _, err in results:
            assert "database is locked" not in err
            assert code == 0, err
        issued = [c for _, out, _ in results for c in json.loads(out) if c is not None]
        assert len(issued) == len(set(issued)) == 3
        (account,) = await assert_books_balance(runtime, profile_id)
        assert account.balance == 0


async def funded_member(rt: Runtime) -> str:
    """An enrolled member holding FUNDS points (the enrollment bonus and a top-up)."""
    personal = PersonalData(
        first_name="Ada", last_name="Race", email="ada.race@example.com", phone="+12025550143"
    )
    enrolled = await enroll(rt, channel=Channel.POS, personal=personal)
    await adjust_points(
        rt,
        profile_id=enrolled.profile.id,
        points=FUNDS - rt.program.enrollment_bonus,
        reason="test funds",
        idempotency_key="funds",
        channel=Channel.ADMIN,
    )
    return enrolled.profile.id
