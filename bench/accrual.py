"""Accrual: recordPurchase against a raw store transaction doing the same writes; and
redemption under contention.

    python bench/accrual.py              # the whole bench (about a minute and a half)
    python bench/accrual.py --quick      # shorter rounds, fewer members, to try a change
    python bench/accrual.py --no-pin     # let the OS place servers and load

A SQLite store in a temp dir is seeded with 20k enrolled members (email + loyalty card
each), a `pos` API key, and a few members holding points for the redemption part.

Throughput and latency, four sides, each under 16 concurrent callers, measured in
alternating rounds (graphql, raw-http, service, raw-store, graphql, ...) so drift on the
machine hits every side; only one side is loaded at a time:

- graphql: the product's app (`create_app`) under uvicorn, POST /graphql with
  `recordPurchase` for a random member by email, a 3-line basket (two lattes, a jacket
  in the outerwear promotion, a reusable bag) and an orderId never used before;
- graphql-floor: the product's app as above, with the one thing behind `recordPurchase`
  (`cdp.loyalty.purchases.record_purchase`) swapped for one that hands back a receipt
  made in advance: what Strawberry, graphql-core, Starlette and uvicorn cost for this
  mutation with a service that costs nothing. Not a target; it bounds the graphql
  ratio: graphql can be no faster than this side, whatever the service costs;
- raw-http: one Starlette route under the same uvicorn settings, POST /purchase with the
  same variables as JSON: the bearer through `authenticate`, the scope check, points
  summed from the lines, then the raw transaction below; the receipt fields back as
  `{"data": {"recordPurchase": {...}}}`;
- service: `cdp.loyalty.purchases.record_purchase` called in this process on a Runtime
  from `cdp.bootstrap` (the same store file), the same purchases;
- raw-store: the raw transaction, in this process, as one call on the store's thread:
  `BEGIN IMMEDIATE`, the idempotency read (the order row by its key: a replay answers
  the stored receipt), the member's id from the identifier row, the order row inserted
  with its lines and receipt, one ledger entry, the lot that holds the points, one UPDATE
  adding them to the profile's pending balance, `COMMIT`. The same rows the product
  writes for a purchase (invariant 2: balance + pending == the ledger's sum; invariant 3:
  one order row per orderId).

What the product does on top: the program's pricing (tier, channel, category and
promotion multipliers), earn and bonus entries (two ledger rows where the raw side writes
one), the profile document rewritten under a version check, the rewards the purchase
unlocks, the outbox hook, and the publish after commit. The HTTP servers are separate
uvicorn processes pinned to one CPU (the load generator, `bench.harness`, keeps the
others); the in-process sides run with this process pinned to that same CPU, so every side
is CPU-bound on one core. Targets: service >= 50% of raw-store throughput; graphql >= 50%
of raw-http.

Redemption under contention: for each of a few members holding `cost * 60 + 100` points,
200 `redeemReward` mutations for the same reward (distinct idempotency keys) are written
at once on 200 connections to the GraphQL server. Every answer must be a redemption or
INSUFFICIENT_POINTS; then, through the store: exactly floor(balance / cost) redemptions,
the balance left is the remainder, and balance + pending == the ledger's sum. p50/p99 are
over all 200 calls of all trials. Afterwards the ledger invariant is checked for every
profile in the store, and the store holds one order per purchase the product answered.

Printed and written to bench/results/accrual.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (
    Target,
    baseline_app,
    bench_env,
    email_of,
    http_post,
    json_bytes,
    latency_ms,
    machine,
    pair_ratios,
    pin_servers,
    pinned_here,
    relative,
    round_line,
    run_calls,
    run_round,
    script_server,
    send_together,
    serve_app,
    serve_side,
    side_summary,
    stage_member,
    write_results,
)

MEMBERS = 20_000
SEED = 11
CONTENDED_REWARD = "coffee"  # 150 points, no stock limit
CONTENDED_FITS = 60
CONCURRENT_REDEMPTIONS = 200
SIDES = ("graphql", "graphql-floor", "raw-http", "service", "raw-store")
HTTP_SIDES = ("graphql", "graphql-floor", "raw-http")

BASKET = [
    {"sku": "LATTE-M", "category": "coffee", "quantity": 2, "amount": 9.0},
    {"sku": "JKT-114", "category": "outerwear", "quantity": 1, "amount": 129.99},
    {"sku": "BAG-01", "category": "reusable-bag", "quantity": 1, "amount": 1.5},
]
PURCHASE = (
    "mutation Purchase($input: PurchaseInput!) { recordPurchase(input: $input) {"
    " orderId pointsEarned bonusPoints pendingPoints balanceAfter tier { id name }"
    " tierChanged rewardsUnlocked { id } createdAt } }"
)
REDEEM = (
    "mutation Redeem($input: RedeemInput!) { redeemReward(input: $input) {"
    " id points code status } }"
)


def purchase_input(email: str, order_id: str) -> dict[str, Any]:
    return {
        "channel": "POS",
        "orderId": order_id,
        "identifier": {"type": "EMAIL", "value": email},
        "lines": BASKET,
        "storeId": "store-042",
        "registerId": "till-3",
    }


# --------------------------------------------------------------------------- seeding


async def seed(db: Path, members: int, holders: int) -> tuple[str, list[str]]:
    """`members` enrolled members; returns a `pos` API key and the ids of `holders`
    more members, each holding enough points for CONTENDED_FITS rewards and some."""
    from cdp.auth.service import create_api_key
    from cdp.bootstrap import build_runtime, start_runtime, stop_runtime
    from cdp.channel import Channel
    from cdp.identity.model import IdentifierType, ProfileStatus
    from cdp.loyalty.adjustments import adjust_points
    from cdp.settings import load_settings
    from cdp.store.unit_of_work import UnitOfWork

    rt = build_runtime(load_settings(store_url=f"sqlite:///{db}"))
    await start_runtime(rt)
    try:
        batch = 1000
        total = members + holders
        for start in range(0, total, batch):

            async def use_case(uow: UnitOfWork, start: int = start) -> list[str]:
                now = rt.clock.now()
                made = []
                for i in range(start, min(start + batch, total)):
                    card = (IdentifierType.LOYALTY_CARD, f"6037{i:012d}")
                    profile = stage_member(uow, rt, now, i, card, status=ProfileStatus.ENROLLED)
                    made.append(profile.id)
                return made

            made = await rt.transaction(use_case)
        holder_ids = made[len(made) - holders :] if holders else []
        reward = rt.program.reward(CONTENDED_REWARD)
        assert reward is not None
        for profile_id in holder_ids:
            await adjust_points(
                rt,
                profile_id=profile_id,
                points=reward.cost * CONTENDED_FITS + 100,
                reason="bench: points to redeem",
                idempotency_key=f"bench-{profile_id}",
                channel=Channel.ADMIN,
            )
        _, key = await create_api_key(rt, name="bench-pos", scopes=["pos"])
        return key, holder_ids
    finally:
        await stop_runtime(rt)


# --------------------------------------------------------------------------- the raw side


def raw_points(lines: list[dict[str, Any]]) -> int:
    return int(sum(line["amount"] for line in lines))


def raw_transaction(
    conn: sqlite3.Connection,
    identifier_key: str,
    order_id: str,
    lines: list[dict[str, Any]],
    points: int,
) -> tuple[int, int]:
    """What a purchase writes, as one transaction: the order row (after the idempotency
    read), a ledger entry, the lot holding its points and the balance they explain.
    Returns the member's pending points and balance after it (a replay: as first written)."""
    now = datetime.now(UTC).isoformat(timespec="microseconds")
    order_key = f"POS:{order_id}"
    conn.execute("BEGIN IMMEDIATE")
    try:
        replayed = conn.execute("SELECT doc FROM orders WHERE id = ?", (order_key,)).fetchall()
        if replayed:
            conn.execute("COMMIT")
            receipt = json.loads(replayed[0][0])["receipt"]
            return int(receipt["pending_points"]), int(receipt["balance_after"])
        (profile_id,) = conn.execute(
            "SELECT json_extract(doc, '$.profile_id') FROM identifiers WHERE id = ?",
            (identifier_key,),
        ).fetchone()
        entry_id = f"{profile_id}.raw-{order_id}"
        lot = {
            "id": entry_id,
            "version": 0,
            "profile_id": profile_id,
            "points": points,
            "earned_at": now,
            "available_at": now,
            "expires_at": None,
            "order_key": order_key,
            "due_at": now,
            "spend_key": None,
        }
        conn.execute(
            "INSERT INTO lots (id, version, doc) VALUES (?, 0, ?)", (entry_id, json.dumps(lot))
        )
        entry = {
            "id": entry_id,
            "version": 0,
            "sort_key": f"{now}|{entry_id}",
            "profile_id": profile_id,
            "type": "EARN",
            "points": points,
            "balance_after": None,
            "channel": "POS",
            "created_at": now,
            "reason": None,
            "order_id": order_id,
            "available_at": None,
            "expires_at": None,
        }
        conn.execute(
            "INSERT INTO ledger (id, version, doc) VALUES (?, 0, ?)", (entry_id, json.dumps(entry))
        )
        pending, balance = conn.execute(
            "UPDATE profiles SET version = version + 1, doc = json_set(doc, '$.version',"
            " version + 1, '$.loyalty.pending', json_extract(doc, '$.loyalty.pending') + ?)"
            " WHERE id = ?"
            " RETURNING json_extract(doc, '$.loyalty.pending'),"
            " json_extract(doc, '$.loyalty.balance')",
            (points, profile_id),
        ).fetchone()
        receipt = {"order_id": order_id, "points_earned": points, "pending_points": pending,
                   "balance_after": balance, "created_at": now}  # fmt: skip
        order = {"id": order_key, "version": 0, "profile_id": profile_id, "lines": lines,
                 "receipt": receipt}  # fmt: skip
        conn.execute(
            "INSERT INTO orders (id, version, doc) VALUES (?, 0, ?)", (order_key, json.dumps(order))
        )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return int(pending), int(balance)


async def raw_purchase(store: Any, email: str, order_id: str, lines: list[dict[str, Any]]) -> Any:
    """The raw transaction on the store's own thread (one hop, as the product's commit)."""
    points = raw_points(lines)
    # The store's private runner on purpose: the same thread and connection settings
    # (WAL, synchronous=NORMAL) as the product's commits, without its write model.
    pending, balance = await store._run(
        lambda conn: raw_transaction(conn, f"EMAIL:{email}", order_id, lines, points)
    )
    return {"orderId": order_id, "pointsEarned": points, "pendingPoints": pending,
            "balanceAfter": balance}  # fmt: skip


def raw_app() -> Any:
    """The baseline over HTTP: the raw transaction on a plain Starlette route."""

    async def purchase(rt: Any, body: Any) -> Any:
        given = body["input"]
        receipt = await raw_purchase(
            rt.store, given["identifier"]["value"], given["orderId"], given["lines"]
        )
        return {"data": {"recordPurchase": receipt}}

    return baseline_app("/purchase", "loyalty:write", purchase)


def floor_app() -> Any:
    """The product's app with a service that costs nothing: `recordPurchase` resolves to a
    receipt made once, so what is left is the GraphQL and HTTP side of the request."""
    from datetime import UTC, datetime

    import resolvers.loyalty
    from cdp.channel import Channel
    from cdp.loyalty.model import Receipt
    from graphql_schema.app import create_app

    async def free_purchase(rt: Any, purchase: Any) -> Receipt:
        return Receipt(
            order_id=purchase.order_id,
            channel=Channel.POS,
            store_id=purchase.store_id,
            register_id=purchase.register_id,
            profile_id="p_floor",
            points_earned=303,
            bonus_points=164,
            pending_points=303,
            balance_after=0,
            tier_id=rt.program.tiers.levels[0].id,
            tier_changed=False,
            rewards_unlocked=(),
            created_at=datetime.now(UTC),
        )

    resolvers.loyalty.purchase = free_purchase  # type: ignore[assignment]
    return create_app()


# --------------------------------------------------------------------------- load


class Purchases:
    """Purchases for random members, each with an orderId of its own (n, 10 digits)."""

    def __init__(self, side: str, members: int, rng: random.Random) -> None:
        self.side = side
        self.emails = [email_of(rng.randrange(members)) for _ in range(4096)]
        self.started = 0  # in-process calls begun (each takes the next order number)
        self.done = 0  # in-process calls that returned

    def next_number(self) -> int:
        self.started += 1
        return self.started - 1

    def order_id(self, n: int) -> str:
        return f"{self.side}-{n:010d}"

    def email(self, n: int) -> str:
        return self.emails[n % len(self.emails)]

    def target(self, port: int, pid: int, key: str) -> Target:
        """Ready-made requests with the order number cut out, to be filled in per send."""
        graphql = self.side.startswith("graphql")
        path = "/graphql" if graphql else "/purchase"
        headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
        marker = self.order_id(0)
        parts = []
        for email in self.emails:
            body: dict[str, Any] = {"input": purchase_input(email, marker)}
            if graphql:
                body = {"query": PURCHASE, "variables": body}
            before, after = http_post(port, path, json_bytes(body), headers).split(marker.encode())
            parts.append((before + f"{self.side}-".encode(), after))

        def request(n: int) -> bytes:
            before, after = parts[n % len(parts)]
            return before + b"%010d" % n + after

        return Target(self.side, port, pid, request)


def service_call(rt: Any, purchases: Purchases) -> Any:
    from cdp.channel import Channel
    from cdp.identity.model import IdentifierType
    from cdp.identity.service import RawIdentifier
    from cdp.loyalty.model import LineItem
    from cdp.loyalty.purchases import Purchase, record_purchase

    lines = [LineItem(**line) for line in BASKET]  # type: ignore[arg-type]

    async def call() -> None:
        n = purchases.next_number()
        await record_purchase(
            rt,
            Purchase(
                channel=Channel.POS,
                order_id=purchases.order_id(n),
                identifier=RawIdentifier(IdentifierType.EMAIL, purchases.email(n)),
                lines=lines,
                store_id="store-042",
                register_id="till-3",
            ),
        )
        purchases.done += 1

    return call


def raw_store_call(rt: Any, purchases: Purchases) -> Any:
    async def call() -> None:
        n = purchases.next_number()
        await raw_purchase(rt.store, purchases.email(n), purchases.order_id(n), BASKET)
        purchases.done += 1

    return call


async def check_sides(targets: dict[str, Target]) -> None:
    """One purchase each over HTTP answers with a receipt (the rounds check the rest)."""
    for target in targets.values():
        (answer,) = await send_together(target.port, [target.next_request()])
        receipt = None
        if answer.status == 200:
            receipt = (json.loads(answer.body).get("data") or {}).get("recordPurchase")
        if not receipt or receipt["pointsEarned"] <= 0:
            raise RuntimeError(f"{target.name}: {answer.status} {answer.body[:300]!r}")


# --------------------------------------------------------------------------- contention


async def contend(rt: Any, port: int, key: str, profile_id: str, trial: int) -> dict[str, Any]:
    """200 redemptions of one reward for one member at once; the outcome checked."""
    from cdp.identity.service import get_profile
    from cdp.store.catalogue import LEDGER, REDEMPTIONS
    from cdp.store.port import Query

    reward = rt.program.reward(CONTENDED_REWARD)
    before = await get_profile(rt.store, profile_id)
    assert before is not None
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
    requests = []
    for n in range(CONCURRENT_REDEMPTIONS):
        given = {
            "profileId": profile_id,
            "rewardId": reward.id,
            "channel": "POS",
            "idempotencyKey": f"contend-{trial}-{n}",
        }
        body = json_bytes({"query": REDEEM, "variables": {"input": given}})
        requests.append(http_post(port, "/graphql", body, headers))
    began = time.perf_counter()
    answers = await send_together(port, requests)
    took = time.perf_counter() - began
    succeeded = refused = 0
    others: list[str] = []
    for answer in answers:
        body = json.loads(answer.body)
        errors = body.get("errors") or []
        if answer.status == 200 and not errors and body["data"]["redeemReward"]:
            succeeded += 1
        elif [e.get("extensions", {}).get("code") for e in errors] == ["INSUFFICIENT_POINTS"]:
            refused += 1
        else:
            others.append(answer.body[:200].decode(errors="replace"))
    after = await get_profile(rt.store, profile_id)
    assert after is not None
    ledger = await rt.store.find(Query(LEDGER, {"profile_id": profile_id}))
    redeemed = await rt.store.count(REDEMPTIONS, {"profile_id": profile_id})
    fits = before.loyalty.balance // reward.cost
    violations = []
    if succeeded != fits or redeemed != fits:
        violations.append(f"{succeeded} answered and {redeemed} stored, {fits} fit")
    if after.loyalty.balance != before.loyalty.balance - fits * reward.cost:
        violations.append(f"balance {after.loyalty.balance} left")
    ledger_sum = sum(doc["points"] for doc in ledger)
    if after.loyalty.balance + after.loyalty.pending != ledger_sum:
        violations.append(f"balance + pending != ledger sum {ledger_sum}")
    if others:
        violations.append(f"{len(others)} other answers, e.g. {others[0]}")
    if violations:
        raise RuntimeError(f"trial {trial}: invariant violated: {'; '.join(violations)}")
    return {
        "balance_before": before.loyalty.balance,
        "cost": reward.cost,
        "succeeded": succeeded,
        "insufficient_points": refused,
        "balance_after": after.loyalty.balance,
        "seconds": round(took, 3),
        "latencies": [a.seconds for a in answers],
    }


async def check_store(rt: Any, orders_answered: int) -> dict[str, Any]:
    """Invariant 2 for every profile, and one order row per purchase answered."""
    from cdp.store.catalogue import ORDERS

    profiles = await asyncio.to_thread(_ledger_mismatches, rt.settings.sqlite_path)
    orders = await rt.store.count(ORDERS, {})
    if profiles["mismatched"] or orders != orders_answered:
        raise RuntimeError(f"store check failed: {profiles}, {orders} orders of {orders_answered}")
    return {**profiles, "orders": orders}


def _ledger_mismatches(path: Any) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        held = dict(
            conn.execute(
                "SELECT id, json_extract(doc, '$.loyalty.balance')"
                " + json_extract(doc, '$.loyalty.pending') FROM profiles"
            )
        )
        sums = dict(
            conn.execute(
                "SELECT json_extract(doc, '$.profile_id'), SUM(json_extract(doc, '$.points'))"
                " FROM ledger GROUP BY 1"
            )
        )
    mismatched = sum(1 for pid, points in held.items() if points != sums.get(pid, 0))
    return {"profiles": len(held), "mismatched": mismatched, "entries_checked": len(sums)}


# --------------------------------------------------------------------------- run


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    from cdp.bootstrap import build_runtime, start_runtime, stop_runtime
    from cdp.settings import load_settings

    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cdp-bench-accrual-") as tmp:
        db = Path(tmp) / "cdp.db"
        t0 = time.perf_counter()
        key, holders = await seed(db, args.members, args.trials)
        seeded = time.perf_counter() - t0
        print(f"seeded {args.members} members in {seeded:.1f}s", flush=True)
        env = bench_env(db)
        rng = random.Random(SEED)
        purchases = {side: Purchases(side, args.members, rng) for side in SIDES}
        cpu = pin_servers(args.pin)
        rt = build_runtime(load_settings(store_url=f"sqlite:///{db}"))
        await start_runtime(rt)
        try:
            with contextlib.ExitStack() as servers:
                targets = {}
                for side in HTTP_SIDES:
                    port, pid = servers.enter_context(script_server(__file__, env, cpu, side))
                    targets[side] = purchases[side].target(port, pid, key)
                calls = {
                    "service": service_call(rt, purchases["service"]),
                    "raw-store": raw_store_call(rt, purchases["raw-store"]),
                }
                await check_sides(targets)

                async def one_round(side: str, seconds: float, warmup: float) -> dict[str, Any]:
                    if side in targets:
                        return await run_round(targets[side], args.connections, seconds, warmup)
                    with pinned_here(cpu):
                        return await run_calls(side, calls[side], args.connections, seconds, warmup)

                for side in SIDES:  # warm every side before anything is kept
                    await one_round(side, 1.0, 0.2)
                rounds: list[dict[str, Any]] = []
                for _ in range(args.rounds):
                    for side in SIDES:
                        result = await one_round(side, args.seconds, args.warmup)
                        rounds.append(result)
                        print(round_line(result), flush=True)
                trials = [
                    await contend(rt, targets["graphql"].port, key, profile_id, n)
                    for n, profile_id in enumerate(holders)
                ]
                for n, trial in enumerate(trials):
                    print(
                        f"  contention trial {n}: {trial['succeeded']} redeemed,"
                        f" {trial['insufficient_points']} INSUFFICIENT_POINTS,"
                        f" {trial['seconds'] * 1000:.0f} ms for all 200",
                        flush=True,
                    )
            # Every purchase answered (the product's and the raw sides', over HTTP or in
            # process) left one order.
            answered = targets["graphql"].sent + targets["raw-http"].sent
            answered += purchases["service"].done + purchases["raw-store"].done
            store = await check_store(rt, answered)
        finally:
            await stop_runtime(rt)
    per_side = {side: side_summary([r for r in rounds if r["side"] == side]) for side in SIDES}
    contention_latencies = [x for t in trials for x in t.pop("latencies")]
    service_ratio = per_side["service"]["rps"] / per_side["raw-store"]["rps"]
    http_ratio = per_side["graphql"]["rps"] / per_side["raw-http"]["rps"]
    floor_ratio = per_side["graphql-floor"]["rps"] / per_side["raw-http"]["rps"]
    return {
        "benchmark": "recordPurchase vs a raw store transaction; redeemReward under contention",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": machine(),
        "setup": {
            "members": args.members,
            "concurrency": args.connections,
            "rounds_per_side": args.rounds,
            "seconds_per_round": args.seconds,
            "warmup_per_round": args.warmup,
            "basket": BASKET,
            "mutation": PURCHASE,
            "raw_transaction": "BEGIN IMMEDIATE; SELECT the order (idempotency read);"
            " identifier -> profile id; INSERT lot; INSERT ledger;"
            " UPDATE profiles pending += points; INSERT order; COMMIT (one call on the"
            " store's thread)",
            "load_generator": "asyncio (uvloop) keep-alive HTTP/1.1, in the bench process",
            "server": "uvicorn, one process per HTTP side, loaded one at a time",
            "in_process": "this process, pinned to the servers' CPU while measured",
            "pinned": cpu is not None,
        },
        "sides": per_side,
        "ratios": {
            "service_vs_raw_store": round(service_ratio, 3),
            "service_vs_raw_store_per_pair": pair_ratios(rounds, "service", "raw-store"),
            "graphql_vs_raw_http": round(http_ratio, 3),
            "graphql_vs_raw_http_per_pair": pair_ratios(rounds, "graphql", "raw-http"),
            "graphql_floor_vs_raw_http": round(floor_ratio, 3),
        },
        "targets": {
            "service_at_least_half_of_raw_store": service_ratio >= 0.5,
            "graphql_at_least_half_of_raw_http": http_ratio >= 0.5,
        },
        "contention": {
            "concurrent_calls": CONCURRENT_REDEMPTIONS,
            "reward": CONTENDED_REWARD,
            "trials": trials,
            **latency_ms(contention_latencies),
            "max_ms": round(max(contention_latencies) * 1000, 3),
            "invariant_violations": 0,  # any would have stopped the run (see `contend`)
        },
        "store_check": store,
        "seeding_seconds": round(seeded, 1),
        "total_seconds": round(time.perf_counter() - began, 1),
    }


def report(result: dict[str, Any], written: Path) -> None:
    print()
    print(f"{'side':13} {'calls/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU us/call':>12}")
    for side in SIDES:
        figures = result["sides"][side]
        print(
            f"{side:13} {figures['rps']:9.0f} {figures['p50_ms']:8.2f} {figures['p99_ms']:8.2f}"
            f" {figures['server_cpu_us_per_request']:12}"
        )
    ratios = result["ratios"]
    print(
        f"service / raw-store: {ratios['service_vs_raw_store']:.3f} (target >= 0.5;"
        f" pairs {ratios['service_vs_raw_store_per_pair']})"
    )
    print(
        f"graphql / raw-http:  {ratios['graphql_vs_raw_http']:.3f} (target >= 0.5;"
        f" pairs {ratios['graphql_vs_raw_http_per_pair']})"
    )
    print(
        f"graphql-floor / raw-http: {ratios['graphql_floor_vs_raw_http']:.3f}"
        " (the same app with a service that costs nothing: the most graphql could reach)"
    )
    contention = result["contention"]
    print(
        f"contention: {contention['concurrent_calls']} redeemReward at once,"
        f" p50 {contention['p50_ms']:.1f} ms p99 {contention['p99_ms']:.1f} ms,"
        f" {len(contention['trials'])} trials, invariant violations 0"
    )
    store = result["store_check"]
    print(
        f"store: balance + pending == ledger sum on all {store['profiles']} profiles;"
        f" {store['orders']} orders, one per purchase answered"
    )
    print(f"total {result['total_seconds']}s; written to {relative(written)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter rounds, fewer members")
    parser.add_argument("--members", type=int, default=MEMBERS)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--warmup", type=float, default=0.5)
    parser.add_argument("--trials", type=int, default=3, help="contention trials")
    parser.add_argument(
        "--no-pin", dest="pin", action="store_false", help="do not pin servers to one CPU"
    )
    parser.add_argument("--serve", choices=HTTP_SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve == "graphql-floor":
        serve_app(floor_app(), args.port)
        return
    if args.serve:
        serve_side(args.serve, args.port, raw_app)
        return
    if args.quick:
        args.members, args.rounds, args.seconds, args.trials = 5000, 2, 1.5, 1
    import uvloop

    result = uvloop.run(measure(args))
    report(result, write_results("accrual", result))


if __name__ == "__main__":
    main()
