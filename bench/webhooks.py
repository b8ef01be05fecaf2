"""Webhooks: inbound events through POST /webhooks/{source} against the same events as
GraphQL mutations; outbound deliveries through the dispatcher to a local receiver.

    python bench/webhooks.py             # the whole bench (about a minute and a half)
    python bench/webhooks.py --quick     # shorter rounds, fewer deliveries
    python bench/webhooks.py --no-pin    # let the OS place the processes

A SQLite store in a temp dir is seeded with 20k enrolled members (as bench/accrual.py
does) and a `pos` API key.

Inbound: the product's app (`create_app`) in one uvicorn process pinned to one CPU, with
one source `pos` (format `cdp`, channel POS). The load generator (`bench.harness`, 16
keep-alive connections on the other CPUs) sends, in alternating rounds, two pairs:

- webhook-purchase: `POST /webhooks/pos`, a `purchase` event (docs/webhooks.md) for a
  random member by email, the accrual bench's 3-line basket, a new event id and order
  id each time, signed (`X-CDP-Signature`) with the source's secret at send time;
- graphql-purchase: `recordPurchase` with the same purchase (bench/accrual.py's request);
- webhook-profile: a `profile` event with every required enrollment field for a person
  not seen before (own email and phone; common names spread over postal codes), so
  each one searches for a match, finds none, and enrolls a new member;
- graphql-enroll: `enroll` with the same kind of new person.

Every webhook answer must be 202 (applied, not a duplicate), every GraphQL answer free
of errors. Each pair ends in the same service call (`record_purchase`, `enroll`); the
webhook side also verifies the signature and checks and stores the event id (one more
read and one more commit, with the sync log entry). Figures per side: events/s (median
over rounds), p50/p99, server CPU per event; per pair, webhook / GraphQL throughput.

Outbound: one endpoint registered for `points.earned`, pointing at a receiver: a tiny
asyncio HTTP/1.1 server in its own process (pinned to the servers' CPU) that answers
every POST 200 at once and stamps its Idempotency-Key (the delivery id) with the wall
clock. The dispatcher (`cdp.webhooks.dispatcher`) runs in this process, as `cdp serve`
runs it, on a runtime whose store is wrapped at the port to stamp each delivery id the
moment the commit that queued it returns.

- throughput: N purchases queue N deliveries with no dispatcher running; then one
  `Dispatcher.run_once` after another until all are delivered: deliveries/s. Baseline:
  one of those payloads, signed, POSTed to the receiver over and over by the
  dispatcher's HTTP client (httpx) from 16 workers (its concurrency), nothing else:
  posts/s; and from one worker (httpx's cost per request grows with the requests in
  flight on one client, so this is the client's best case on a fast receiver);
- latency: `dispatch_loop` runs as the server runs it while purchases commit at a steady
  rate (each on a member of its own); p50/p99 from a delivery's commit to the receiver
  reading it, once with the default `CDP_DISPATCH_INTERVAL_SECONDS` (1 s) and once with
  0.05 s. The commits happen in the dispatcher's process, so each wakes it: the interval
  only matters for other processes' commits and for retries.

Printed and written to bench/results/webhooks.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.accrual import BASKET, Purchases, seed
from bench.harness import (
    HOST,
    Target,
    bench_env,
    email_of,
    free_port,
    http_post,
    json_bytes,
    latency_ms,
    machine,
    pair_ratios,
    pin_servers,
    relative,
    round_line,
    run_calls,
    run_round,
    script_server,
    send_together,
    serve_app,
    server_process,
    side_summary,
    write_results,
)

MEMBERS = 20_000
SEED = 13
SOURCE = "pos"
SOURCE_SECRET = "bench-source-secret-0123456789"
# Pairs of sides: the same events as webhooks and as the matching GraphQL mutation.
PAIRS = (("webhook-purchase", "graphql-purchase"), ("webhook-profile", "graphql-enroll"))
SIDES = tuple(side for pair in PAIRS for side in pair)
ENROLL = (
    "mutation Enroll($input: EnrollInput!) { enroll(input: $input) {"
    " created profile { id version status } } }"
)


# --------------------------------------------------------------------------- inbound


def sources_env() -> str:
    return json.dumps({SOURCE: {"secret": SOURCE_SECRET, "format": "cdp", "channel": "POS"}})


def purchase_event(n: int, email: str) -> dict[str, Any]:
    """A `purchase` event in our format, the accrual bench's basket."""
    return {
        "id": f"evt-{n:010d}",
        "type": "purchase",
        "data": {
            "order_id": f"webhook-{n:010d}",
            "identifier": {"type": "EMAIL", "value": email},
            "lines": BASKET,
            "store_id": "store-042",
            "register_id": "till-3",
        },
    }


FIRST_NAMES = "Ada Grace Alan Edsger Barbara Donald Frances John Radia Ken Margaret Niklaus"
LAST_NAMES = "Lovelace Hopper Turing Dijkstra Liskov Knuth Allen Backus Perlman Thompson"


def new_person(side: str, n: int) -> dict[str, str]:
    """Someone not seen before (own email and phone), with common names spread over
    postal codes, so matching searches the handful of candidates it would in a town."""
    firsts, lasts = FIRST_NAMES.split(), LAST_NAMES.split()
    area = "212" if side.startswith("webhook") else "646"
    return {
        "first_name": firsts[n % len(firsts)],
        "last_name": lasts[n // len(firsts) % len(lasts)],
        "email": f"{side}-{n:07d}@example.com",
        "phone": f"+1{area}{200 + n // 10_000 % 800:03d}{n % 10_000:04d}",
        "postal_code": f"{10_000 + n * 7919 % 89_989:05d}",
    }


def signed(port: int, event: dict[str, Any]) -> bytes:
    """An event in our format, signed with the source's secret now."""
    from cdp.webhooks.signing import SIGNATURE_HEADER, sign

    body = json_bytes(event)
    signature = sign(SOURCE_SECRET, body, int(time.time()))
    return http_post(port, f"/webhooks/{SOURCE}", body, {SIGNATURE_HEADER: signature})


def webhook_purchases(port: int, pid: int, members: int, rng: random.Random) -> Target:
    """Signed purchase events, each with an event id and order id of its own."""
    emails = [email_of(rng.randrange(members)) for _ in range(4096)]

    def request(n: int) -> bytes:
        return signed(port, purchase_event(n, emails[n % len(emails)]))

    return Target("webhook-purchase", port, pid, request, status=b"202")


def webhook_profiles(port: int, pid: int) -> Target:
    """Signed profile events with every required field: each enrolls a new member."""

    def request(n: int) -> bytes:
        person = new_person("webhook-profile", n)
        return signed(port, {"id": f"evt-p-{n:010d}", "type": "profile", "data": person})

    return Target("webhook-profile", port, pid, request, status=b"202")


def graphql_enrollments(port: int, pid: int, key: str) -> Target:
    """`enroll` for the same kind of new person."""
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}

    def request(n: int) -> bytes:
        person = new_person("graphql-enroll", n)
        given = {
            "channel": "POS",
            "profile": {
                "firstName": person["first_name"],
                "lastName": person["last_name"],
                "email": person["email"],
                "phone": person["phone"],
                "postalCode": person["postal_code"],
            },
        }
        body = json_bytes({"query": ENROLL, "variables": {"input": given}})
        return http_post(port, "/graphql", body, headers)

    return Target("graphql-enroll", port, pid, request)


async def inbound(args: argparse.Namespace, db: Path, key: str, cpu: int | None) -> Any:
    env = bench_env(db, CDP_WEBHOOK_SOURCES=sources_env())
    rng = random.Random(SEED)
    with script_server(__file__, env, cpu) as (port, pid):
        purchases = Purchases("graphql", args.members, rng).target(port, pid, key)
        purchases.name = "graphql-purchase"
        targets = {
            "webhook-purchase": webhook_purchases(port, pid, args.members, rng),
            "graphql-purchase": purchases,
            "webhook-profile": webhook_profiles(port, pid),
            "graphql-enroll": graphql_enrollments(port, pid, key),
        }
        for target in targets.values():  # one of each answered as it should be
            (answer,) = await send_together(port, [target.next_request()])
            if str(answer.status).encode() != target.status or b'"errors"' in answer.body:
                raise RuntimeError(f"{target.name}: {answer.status} {answer.body[:300]!r}")
        for target in targets.values():
            await run_round(target, args.connections, 1.0, 0.2)
        rounds = []
        for _ in range(args.rounds):
            for side in SIDES:
                result = await run_round(targets[side], args.connections, args.seconds, 0.5)
                rounds.append(result)
                print(round_line(result), flush=True)
    per_side = {side: side_summary([r for r in rounds if r["side"] == side]) for side in SIDES}
    ratios = {}
    for webhook, graphql in PAIRS:
        ratios[f"{webhook}_vs_{graphql}"] = {
            "throughput": round(per_side[webhook]["rps"] / per_side[graphql]["rps"], 3),
            "throughput_per_round": pair_ratios(rounds, webhook, graphql),
            "cpu_per_event": round(
                per_side[webhook]["server_cpu_us_per_request"]
                / per_side[graphql]["server_cpu_us_per_request"],
                3,
            ),
        }
    return {
        "sides": per_side,
        "ratios": ratios,
        "events_sent": {name: target.sent for name, target in targets.items()},
    }


# --------------------------------------------------------------------------- receiver


class Receiver(asyncio.Protocol):
    """HTTP/1.1 keep-alive: every POST answered 200 at once, its Idempotency-Key stamped;
    `GET /stamps` answers them all as JSON {key: [wall clock ns, ...]}."""

    stamps: dict[str, list[int]] = {}
    OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self.buffer[:end].split(b"\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get(b"content-length", b"0"))
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            assert self.transport is not None
            if lines[0].startswith(b"GET /stamps"):
                body = json.dumps(Receiver.stamps).encode()
                head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n"
                self.transport.write(head.encode() + body)
                continue
            now = time.time_ns()
            key = headers.get(b"idempotency-key", b"-").decode()
            Receiver.stamps.setdefault(key, []).append(now)
            self.transport.write(self.OK)


async def receiver_main(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Receiver, HOST, port, backlog=1024)
    async with server:
        await server.serve_forever()


@contextlib.contextmanager
def receiver(cpu: int | None) -> Iterator[int]:
    port = free_port()
    argv = [sys.executable, str(Path(__file__).resolve()), "--receiver", "--port", str(port)]
    with server_process(argv, port, bench_env(Path("unused")), cpu):
        yield port


async def received(port: int) -> dict[str, list[int]]:
    import httpx

    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://{HOST}:{port}/stamps")
        return dict(response.json())


# --------------------------------------------------------------------------- outbound


class StampingStore:
    """The real store; stamps each delivery it commits with the wall clock the moment
    that commit returns (a wrapper at the port, as bench/push.py's)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.committed: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def commit(self, writes: Any) -> None:
        from cdp.store.catalogue import DELIVERIES
        from cdp.store.port import Insert

        await self.inner.commit(writes)
        now = time.time_ns()
        for write in writes:
            if isinstance(write, Insert) and write.collection == DELIVERIES:
                self.committed[write.doc["id"]] = now


class Members:
    """Purchases on members not bought for before, so every delivery can go at once
    (a profile's deliveries go out one after another)."""

    def __init__(self, members: int) -> None:
        self.order = list(range(members))
        random.Random(SEED).shuffle(self.order)
        self.used = 0

    async def purchase(self, rt: Any) -> None:
        from cdp.channel import Channel
        from cdp.identity.model import IdentifierType
        from cdp.identity.service import RawIdentifier
        from cdp.loyalty.model import LineItem
        from cdp.loyalty.purchases import Purchase, record_purchase

        member = self.order[self.used]
        self.used += 1
        await record_purchase(
            rt,
            Purchase(
                channel=Channel.POS,
                order_id=f"outbound-{self.used:010d}",
                identifier=RawIdentifier(IdentifierType.EMAIL, email_of(member)),
                lines=[LineItem(**line) for line in BASKET],  # type: ignore[arg-type]
                store_id="store-042",
                register_id="till-3",
            ),
        )


async def delivered_count(rt: Any) -> int:
    from cdp.store.catalogue import DELIVERIES
    from cdp.webhooks.model import DeliveryStatus

    return int(await rt.store.count(DELIVERIES, {"status": DeliveryStatus.DELIVERED.value}))


async def dispatcher_throughput(rt: Any, members: Members, count: int) -> dict[str, Any]:
    """Queue `count` deliveries, then dispatch until all are delivered."""
    import httpx

    from cdp.webhooks.dispatcher import Dispatcher

    already = await delivered_count(rt)
    for _ in range(count):
        await members.purchase(rt)
    async with httpx.AsyncClient(follow_redirects=False) as client:
        dispatcher = Dispatcher(rt, client)
        began, cpu = time.perf_counter(), time.process_time()
        attempted = 0
        while attempted < count:
            done = await dispatcher.run_once()
            if not done:
                raise RuntimeError(f"dispatching stalled after {attempted} of {count}")
            attempted += done
        took, cpu = time.perf_counter() - began, time.process_time() - cpu
    delivered = await delivered_count(rt) - already
    if delivered != count:
        raise RuntimeError(f"{delivered} of {count} delivered")
    return {
        "deliveries": count,
        "seconds": round(took, 3),
        "deliveries_per_second": round(count / took, 1),
        "cpu_us_per_delivery": round(cpu / count * 1e6),
    }


async def raw_posts(rt: Any, port: int, seconds: float, workers: int) -> dict[str, Any]:
    """The baseline: a delivered payload POSTed to the receiver, signed, by the
    dispatcher's HTTP client (httpx) from `workers` workers, and nothing else."""
    import httpx

    from cdp.store.catalogue import DELIVERIES
    from cdp.store.port import Query
    from cdp.webhooks.signing import SIGNATURE_HEADER, sign

    (sample,) = await rt.store.find(Query(DELIVERIES, {}, limit=1))
    body = json_bytes(sample["payload"])
    posted = 0
    async with httpx.AsyncClient(follow_redirects=False) as client:

        async def post() -> None:
            nonlocal posted
            posted += 1
            headers = {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign("s" * 64, body, int(time.time())),
                "Idempotency-Key": f"raw-{posted}",
                "X-CDP-Event": "points.earned",
            }
            response = await client.post(
                f"http://{HOST}:{port}/hook", content=body, headers=headers, timeout=5
            )
            response.raise_for_status()

        result = await run_calls("raw posts", post, workers, seconds, 0.5)
    return {
        "workers": workers,
        "posts_per_second": round(result["rps"], 1),
        "cpu_us_per_post": round(result["server_cpu_us"]),
        **latency_ms(result["latencies"]),
        "seconds": seconds,
    }


async def commit_to_delivery(
    rt: Any, members: Members, port: int, interval: float, count: int, rate: float
) -> dict[str, Any]:
    """`count` purchases at `rate`/s with `dispatch_loop` running; commit -> received."""
    from cdp.webhooks.dispatcher import dispatch_loop

    store: StampingStore = rt.store
    store.committed.clear()
    already = await delivered_count(rt)
    task = asyncio.create_task(dispatch_loop(rt, interval))
    try:
        began = time.perf_counter()
        for n in range(count):
            await asyncio.sleep(max(0.0, began + n / rate - time.perf_counter()))
            await members.purchase(rt)
        deadline = time.monotonic() + 30 + 2 * interval
        while await delivered_count(rt) - already < count:
            if time.monotonic() > deadline:
                raise RuntimeError("deliveries did not all arrive")
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    stamps = await received(port)
    latencies = [(min(stamps[delivery]) - at) / 1e9 for delivery, at in store.committed.items()]
    if len(latencies) != count:
        raise RuntimeError(f"{len(latencies)} deliveries stamped of {count}")
    duplicates = sum(1 for d in store.committed if len(stamps[d]) > 1)
    return {
        "dispatch_interval_seconds": interval,
        "deliveries": count,
        "commit_rate_per_second": rate,
        **latency_ms(latencies),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 3),
        "max_ms": round(max(latencies) * 1000, 3),
        "received_twice": duplicates,
    }


async def outbound(args: argparse.Namespace, db: Path, cpu: int | None) -> dict[str, Any]:
    from cdp.bootstrap import build_runtime, start_runtime, stop_runtime
    from cdp.settings import load_settings
    from cdp.webhooks.dispatcher import CONCURRENCY
    from cdp.webhooks.service import register_webhook

    # The receiver is on this machine: a private target, allowed for the bench.
    settings = load_settings(store_url=f"sqlite:///{db}", webhook_allow_private_targets=True)
    rt = build_runtime(settings)
    rt.store = StampingStore(rt.store)
    await start_runtime(rt)
    members = Members(args.members)
    try:
        with receiver(cpu) as port:
            await register_webhook(rt, url=f"http://{HOST}:{port}/hook", events=["points.earned"])
            await dispatcher_throughput(rt, members, 100)  # warm
            throughput = await dispatcher_throughput(rt, members, args.deliveries)
            print(
                f"  dispatcher  {throughput['deliveries_per_second']:8.0f} deliveries/s"
                f"  ({throughput['cpu_us_per_delivery']} us CPU each)",
                flush=True,
            )
            raw = []
            for workers in (CONCURRENCY, 1):
                raw.append(await raw_posts(rt, port, args.seconds, workers))
                print(
                    f"  raw posts   {raw[-1]['posts_per_second']:8.0f} posts/s"
                    f"  ({raw[-1]['cpu_us_per_post']} us CPU each, {workers} at a time)",
                    flush=True,
                )
            latency = []
            for interval in (1.0, 0.05):
                figures = await commit_to_delivery(
                    rt, members, port, interval, args.latency_deliveries, args.rate
                )
                latency.append(figures)
                print(
                    f"  commit -> delivery, dispatch interval {interval:4} s:"
                    f"  p50 {figures['p50_ms']:7.1f} ms  p99 {figures['p99_ms']:7.1f} ms",
                    flush=True,
                )
    finally:
        await stop_runtime(rt)
    return {
        "dispatcher": throughput,
        "raw_posts": raw,
        "ratio_dispatcher_vs_raw_posts": round(
            throughput["deliveries_per_second"] / raw[0]["posts_per_second"], 3
        ),
        "commit_to_delivery": latency,
    }


# --------------------------------------------------------------------------- run


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    from cdp.logging import configure_logging
    from cdp.settings import load_settings

    configure_logging(load_settings(log_level="warning"))  # as the servers (bench_env)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cdp-bench-webhooks-") as tmp:
        db = Path(tmp) / "cdp.db"
        t0 = time.perf_counter()
        key, _ = await seed(db, args.members, 0)
        seeded = time.perf_counter() - t0
        print(f"seeded {args.members} members in {seeded:.1f}s", flush=True)
        cpu = pin_servers(args.pin)
        print("inbound", flush=True)
        inbound_figures = await inbound(args, db, key, cpu)
        print("outbound", flush=True)
        outbound_figures = await outbound(args, db, cpu)
    return {
        "benchmark": "webhooks: inbound events vs GraphQL mutations; outbound deliveries",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": machine(),
        "setup": {
            "members": args.members,
            "connections": args.connections,
            "rounds_per_side": args.rounds,
            "seconds_per_round": args.seconds,
            "events": "purchase (the accrual bench's 3-line basket) and profile (a new"
            " person with every required field), format cdp, signed",
            "load_generator": "asyncio (uvloop) keep-alive HTTP/1.1, in the bench process",
            "server": "the product's app under uvicorn, one process",
            "receiver": "asyncio HTTP/1.1, its own process, answers 200 at once",
            "dispatcher": "in the bench process, as `cdp serve` runs it",
            "pinned": cpu is not None,
        },
        "inbound": inbound_figures,
        "outbound": outbound_figures,
        "seeding_seconds": round(seeded, 1),
        "total_seconds": round(time.perf_counter() - began, 1),
    }


def report(result: dict[str, Any], written: Path) -> None:
    inbound_figures = result["inbound"]
    print()
    print(f"{'inbound':16} {'events/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU us/event':>13}")
    for side in SIDES:
        figures = inbound_figures["sides"][side]
        print(
            f"{side:16} {figures['rps']:9.0f} {figures['p50_ms']:8.2f} {figures['p99_ms']:8.2f}"
            f" {figures['server_cpu_us_per_request']:13}"
        )
    for name, ratio in inbound_figures["ratios"].items():
        print(
            f"{name.replace('_vs_', ' / ')}: {ratio['throughput']:.3f}"
            f" (per round {ratio['throughput_per_round']})"
        )
    figures = result["outbound"]
    concurrent, single = figures["raw_posts"]
    print(
        f"outbound: {figures['dispatcher']['deliveries_per_second']:.0f} deliveries/s;"
        f" raw posts {concurrent['posts_per_second']:.0f}/s {concurrent['workers']} at a time"
        f" (ratio {figures['ratio_dispatcher_vs_raw_posts']:.3f}),"
        f" {single['posts_per_second']:.0f}/s one at a time"
    )
    for latency in figures["commit_to_delivery"]:
        print(
            f"commit -> delivery (interval {latency['dispatch_interval_seconds']} s):"
            f" p50 {latency['p50_ms']:.1f} ms, p99 {latency['p99_ms']:.1f} ms"
        )
    print(f"total {result['total_seconds']}s; written to {relative(written)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter rounds, fewer deliveries")
    parser.add_argument("--members", type=int, default=MEMBERS)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--deliveries", type=int, default=2000, help="for throughput")
    parser.add_argument("--latency-deliveries", type=int, default=300)
    parser.add_argument("--rate", type=float, default=50.0, help="purchases/s for latency")
    parser.add_argument(
        "--no-pin", dest="pin", action="store_false", help="do not pin servers to one CPU"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--receiver", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    import uvloop

    if args.serve:
        from graphql_schema.app import create_app

        serve_app(create_app(), args.port)
        return
    if args.receiver:
        uvloop.run(receiver_main(args.port))
        return
    if args.quick:
        args.members, args.rounds, args.seconds = 5000, 2, 1.0
        args.deliveries, args.latency_deliveries, args.rate = 300, 50, 40.0
    result = uvloop.run(measure(args))
    report(result, write_results("webhooks", result))


if __name__ == "__main__":
    main()
