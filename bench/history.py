"""History: a member's lookup, purchase and push cost the same however long their history.

    python bench/history.py              # the whole bench (about a minute)
    python bench/history.py --quick      # fewer calls per member, to try a change

A SQLite store in a temp dir gets four enrolled members with 1, 100, 1,000 and 5,000
prior purchases. They are seeded through the service (`record_purchase`, in bulk, in
this process) on a clock that walks through the last 330 days, so every purchase writes
what the product writes and a long history holds what one really holds: lots released
after their return window, the last two weeks' still pending. Then, in alternating rounds
(every member, one after the other, in each round, so drift on a shared machine hits
every history length alike), the same number of calls of each operation per member, in
this process on the product's runtime (`cdp.bootstrap`):

- lookup: the member by email (`find_profiles`), then what `Profile.loyalty` shows:
  `account_view` and the soonest expiring points (the reads a GraphQL profile lookup
  of `loyalty { balance pendingPoints expiringPoints }` makes);
- purchase: `record_purchase` of a 3-line basket with an orderId never used before;
- push: from the moment a purchase's commit returns (`StampingStore`, as in push.py) to
  the moment a subscriber of the member's topic on the in-process broker has the
  message and has decoded it (what every subscription does with a message before
  rendering it); and the message's size in bytes.

The stored profile's size is reported too. Targets: for each operation, p50 at 5,000
purchases within 1.5x of p50 at 1; the message at 5,000 within 1.25x of the one at 1. A
message does not grow with the history; what differs is bounded by the program: one
qualifying-points bucket per month of the tier window (12 at most), the tier's name and
the digits of the balances.

Printed and written to bench/results/history.json.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import email_of, latency_ms, machine, percentile, relative, write_results
from bench.push import StampingStore

HISTORIES = (1, 100, 1_000, 5_000)
SPAN = timedelta(days=330)
TARGET_RATIO = 1.5
MESSAGE_RATIO = 1.25
BASKET = (
    ("LATTE-M", "coffee", 2, 9.0),
    ("JKT-114", "outerwear", 1, 129.99),
    ("BAG-01", "reusable-bag", 1, 1.5),
)


class WalkingClock:
    """The seeding clock: set to each purchase's moment (a fake at the Clock port)."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


def purchase(member: int, order_id: str) -> Any:
    from cdp.channel import Channel
    from cdp.identity.model import IdentifierType
    from cdp.identity.service import RawIdentifier
    from cdp.loyalty.model import LineItem
    from cdp.loyalty.purchases import Purchase

    return Purchase(
        channel=Channel.POS,
        order_id=order_id,
        identifier=RawIdentifier(IdentifierType.EMAIL, email_of(member)),
        lines=[LineItem(*line) for line in BASKET],
        store_id="store-042",
        register_id="till-3",
    )


async def seed(rt: Any) -> dict[int, str]:
    """One enrolled member per history length, each with that many purchases behind them;
    their profile ids by history length."""
    from cdp.channel import Channel
    from cdp.identity.model import IdentifierType, PersonalData, ProfileStatus
    from cdp.identity.service import RawIdentifier, create_profile
    from cdp.loyalty.purchases import record_purchase

    real_clock, now = rt.clock, rt.clock.now()
    members = {}
    try:
        for member, count in enumerate(HISTORIES):
            walk = WalkingClock(now - SPAN)
            rt.clock = walk
            personal = PersonalData(first_name=f"First{member}", last_name=f"Last{member}")
            profile = await create_profile(
                rt,
                channel=Channel.POS,
                personal=personal,
                identifiers=[RawIdentifier(IdentifierType.EMAIL, email_of(member))],
                status=ProfileStatus.ENROLLED,
            )
            members[count] = profile.id
            for n in range(count):
                walk.moment = now - SPAN + SPAN * (n + 1) / (count + 1)
                await record_purchase(rt, purchase(member, f"seed-{member}-{n:05d}"))
    finally:
        rt.clock = real_clock
    return members


async def timed(calls: int, call: Callable[[int], Awaitable[object]]) -> list[float]:
    """Seconds each of `calls` calls took."""
    took = []
    for n in range(calls):
        started = time.perf_counter()
        await call(n)
        took.append(time.perf_counter() - started)
    return took


async def lookup(rt: Any, member: int) -> None:
    from cdp.identity.model import IdentifierType
    from cdp.identity.service import RawIdentifier, find_profiles, normalize
    from cdp.loyalty.queries import account_view, expiring

    key = normalize(rt, RawIdentifier(IdentifierType.EMAIL, email_of(member)))
    (profile,) = await find_profiles(rt.store, [key])
    assert profile is not None
    await account_view(rt.store, rt.program, profile, rt.clock.now())
    await expiring(rt.store, profile.id)


async def pushes(
    rt: Any, member: int, profile_id: str, calls: int, prefix: str
) -> tuple[list[float], list[int]]:
    """Commit-to-decoded latencies and message sizes of `calls` purchases."""
    from cdp.loyalty.purchases import record_purchase
    from cdp.realtime.messages import decode_update, profile_topic

    latencies: list[float] = []
    sizes: list[int] = []
    async with rt.broker.subscribe(profile_topic(profile_id)) as messages:
        for n in range(calls):
            await record_purchase(rt, purchase(member, f"{prefix}-{n:05d}"))
            message = await anext(messages)
            decode_update.cache_clear()  # every message is new to a subscriber
            decode_update(message)
            latencies.append((time.time_ns() - rt.store.last_commit_ns) / 1e9)
            sizes.append(len(message.encode()))
    return latencies, sizes


async def one_round(
    rt: Any, member: int, profile_id: str, round_number: int, calls: int
) -> dict[str, list[float]]:
    """`calls` lookups, purchases and pushes of one member: seconds (and message bytes)."""
    from cdp.loyalty.purchases import record_purchase

    tag = f"{member}-r{round_number}"
    looked = await timed(calls, lambda n: lookup(rt, member))
    bought = await timed(
        calls, lambda n: record_purchase(rt, purchase(member, f"bench-{tag}-{n:05d}"))
    )
    took, sizes = await pushes(rt, member, profile_id, calls, f"push-{tag}")
    return {
        "lookup": looked,
        "purchase": bought,
        "push": took,
        "bytes": [float(size) for size in sizes],
    }


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    from cdp.bootstrap import build_runtime, start_runtime, stop_runtime
    from cdp.json_text import dumps
    from cdp.settings import load_settings
    from cdp.store.catalogue import PROFILES

    began = time.perf_counter()
    rounds, per_round = (4, 25) if args.quick else (8, 50)
    with tempfile.TemporaryDirectory(prefix="cdp-bench-history-") as tmp:
        db = Path(tmp) / "cdp.db"
        rt = build_runtime(load_settings(store_url=f"sqlite:///{db}", jobs_interval_seconds=0))
        rt.store = StampingStore(rt.store)
        await start_runtime(rt)
        try:
            t0 = time.perf_counter()
            members = await seed(rt)
            seeded = time.perf_counter() - t0
            print(f"seeded {sum(HISTORIES)} purchases in {seeded:.1f}s", flush=True)
            stored = {count: await rt.store.get(PROFILES, members[count]) for count in HISTORIES}
            samples: dict[int, dict[str, list[float]]] = {
                count: {"lookup": [], "purchase": [], "push": [], "bytes": []}
                for count in HISTORIES
            }
            for r in range(-1, rounds):  # round -1 warms every member up, and is not kept
                for member, count in enumerate(HISTORIES):
                    measured = await one_round(rt, member, members[count], r, per_round)
                    for op, values in measured.items():
                        samples[count][op] += values if r >= 0 else []
        finally:
            await stop_runtime(rt)
    by_length: dict[str, Any] = {}
    for count in HISTORIES:
        got = samples[count]
        by_length[str(count)] = {
            "lookup": latency_ms(got["lookup"]),
            "purchase": latency_ms(got["purchase"]),
            "push": {**latency_ms(got["push"]), "message_bytes": int(max(got["bytes"]))},
            "stored_profile_bytes": len(dumps(stored[count]).encode()),
        }
        print(
            f"  {count:5d} purchases: lookup p50 {percentile(got['lookup'], 0.5) * 1e3:.3f} ms,"
            f" purchase p50 {percentile(got['purchase'], 0.5) * 1e3:.3f} ms,"
            f" push p50 {percentile(got['push'], 0.5) * 1e3:.3f} ms"
            f" ({int(max(got['bytes']))} B)",
            flush=True,
        )
    first, last = by_length[str(HISTORIES[0])], by_length[str(HISTORIES[-1])]
    ratios = {
        op: round(last[op]["p50_ms"] / first[op]["p50_ms"], 3)
        for op in ("lookup", "purchase", "push")
    }
    message_growth = last["push"]["message_bytes"] / first["push"]["message_bytes"]
    return {
        "benchmark": "lookup, purchase and push for members with 1 to 5,000 prior purchases",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": machine(),
        "setup": {
            "histories": list(HISTORIES),
            "history_span_days": SPAN.days,
            "rounds": rounds,
            "calls_per_operation_per_round": per_round,
            "store": "SQLite, in this process, the product's runtime",
            "seeding": "record_purchase through the service, on a clock walking the span",
        },
        "by_history": by_length,
        "ratios_p50_at_5000_vs_1": ratios,
        "message_bytes_at_5000_vs_1": round(message_growth, 3),
        "targets": {
            **{f"{op}_within_{TARGET_RATIO}x": r <= TARGET_RATIO for op, r in ratios.items()},
            f"message_within_{MESSAGE_RATIO}x": message_growth <= MESSAGE_RATIO,
        },
        "seeding_seconds": round(seeded, 1),
        "total_seconds": round(time.perf_counter() - began, 1),
    }


def report(result: dict[str, Any], written: Path) -> None:
    ratios = result["ratios_p50_at_5000_vs_1"]
    print(
        "p50 at 5,000 purchases / at 1: "
        + ", ".join(f"{op} {ratio:.2f}x" for op, ratio in ratios.items())
        + f"; message size {result['message_bytes_at_5000_vs_1']:.2f}x"
    )
    missed = [name for name, met in result["targets"].items() if not met]
    print("targets met" if not missed else f"targets missed: {', '.join(missed)}")
    print(f"written to {relative(written)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls per member")
    args = parser.parse_args()
    result = asyncio.run(measure(args))
    report(result, write_results("history", result))


if __name__ == "__main__":
    main()
