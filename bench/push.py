"""Real-time push: from a commit to the message arriving at a WebSocket client.

    python bench/push.py            # the whole bench (a few minutes)
    python bench/push.py --quick    # fewer rounds and a smaller memory run

Latency, p50/p99 over every (round, subscriber) pair, with 1, 100 and 1,000 subscribers
all watching one profile (the worst fan-out: every subscriber gets every message):

- memory: one server process with the in-process broker. The commit happens in that
  process (the bench runs uvicorn and the app in its own event loop, its start-up
  objects frozen as `cdp serve` freezes them, and calls the use case `adjust_points`),
  stamped the moment the store's commit returns;
- redis: two processes and a real redis-server. The bench process commits (same
  stamping) with the Redis broker; a `cdp serve` process on the same SQLite file
  holds the subscribers (`profileUpdates(id:)` over graphql-transport-ws);
- raw: the baseline. The bench publishes on Redis (stamped just before PUBLISH) to a
  relay process (redis-py pub/sub, then `send_text` to every WebSocket, nothing else);
  the bytes on the wire are the same as one `next` message of ours.

Subscribers are WebSocket clients in a separate process (asyncio + websockets, no
compression), stamping each message as it is read. Clocks: CLOCK_REALTIME, one machine.
The first rounds of each run are warm-up and not counted. Target: our p99 within 3x of
the raw path's p99 at 1,000 subscribers.

Memory: a `cdp serve` process, 5,000 idle subscriptions to 5,000 profiles; RSS before
and after, per subscription, once with one subscription per connection and once with
20 per connection (the per-connection cap). Target < 50 KB each.

Printed and written to bench/results/push.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (
    ADMIN_KEY,
    HOST,
    ROOT,
    bench_env,
    free_port,
    machine,
    percentile,
    relative,
    server_process,
    write_results,
)

THIS = Path(__file__).resolve()
CDP = Path(sys.executable).with_name("cdp")
SUBSCRIBERS = (1, 100, 1000)
WARMUP_ROUNDS = 3
QUERY = (
    "subscription Watch($id: ID) { profileUpdates(id: $id) {"
    " kind version entry { points }"
    " profile { id loyalty { balance pendingPoints tier { name } } } } }"
)
IDLE_QUERY = "subscription Idle($id: ID) { profileUpdates(id: $id) { version } }"


def summary(latencies_ms: list[float]) -> dict[str, Any]:
    return {
        "p50_ms": round(percentile(latencies_ms, 0.50), 3),
        "p99_ms": round(percentile(latencies_ms, 0.99), 3),
        "max_ms": round(max(latencies_ms), 3),
        "mean_ms": round(statistics.fmean(latencies_ms), 3),
        "samples": len(latencies_ms),
    }


def settings_env(db: Path, **extra: str) -> dict[str, str]:
    return bench_env(db, CDP_WS_MAX_CONNECTIONS_PER_KEY="100000", **extra)


def bench_settings(db: Path, **overrides: Any) -> Any:
    from cdp.settings import load_settings

    return load_settings(
        store_url=f"sqlite:///{db}",
        admin_key=ADMIN_KEY,
        jobs_interval_seconds=0,
        dispatch_interval_seconds=0,
        ws_max_connections_per_key=100_000,
        **overrides,
    )


# --------------------------------------------------------------------------- the commit side


class StampingStore:
    """The real store; remembers when its last commit returned (a wrapper at the port)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.last_commit_ns = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def commit(self, writes: Any) -> None:
        await self.inner.commit(writes)
        self.last_commit_ns = time.time_ns()


async def stamped_runtime(db: Path, **overrides: Any) -> Any:
    from cdp.bootstrap import build_runtime, start_runtime

    rt = build_runtime(bench_settings(db, **overrides))
    rt.store = StampingStore(rt.store)
    await start_runtime(rt)
    return rt


async def new_member(rt: Any, card: str) -> str:
    from cdp.channel import Channel
    from cdp.identity.model import IdentifierType
    from cdp.identity.service import RawIdentifier, create_profile

    profile = await create_profile(
        rt,
        channel=Channel.POS,
        identifiers=[RawIdentifier(IdentifierType.LOYALTY_CARD, card)],
    )
    return str(profile.id)


async def commit_change(rt: Any, profile_id: str, n: int) -> int:
    """One committed change (a +1 adjustment); the commit's wall-clock time in ns."""
    from cdp.channel import Channel
    from cdp.loyalty.adjustments import adjust_points

    await adjust_points(
        rt,
        profile_id=profile_id,
        points=1,
        reason="bench",
        idempotency_key=f"bench-{profile_id}-{n}",
        channel=Channel.ADMIN,
    )
    return int(rt.store.last_commit_ns)


# --------------------------------------------------------------------------- subscribers


class Subscribers:
    """A subscriber process: N WebSocket clients, each stamping what it reads."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls, *args: str) -> Subscribers:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(THIS),
            "--subscribers",
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=2**28,
        )
        subscribers = cls(proc)
        await subscribers.expect("ready", within=600)
        return subscribers

    async def expect(self, prefix: str, within: float = 60) -> str:
        assert self.proc.stdout is not None
        line = (await asyncio.wait_for(self.proc.stdout.readline(), within)).decode()
        if not line.startswith(prefix):
            raise RuntimeError(f"subscribers said {line!r}, expected {prefix!r}")
        return line[len(prefix) :].strip()

    async def finish(self) -> dict[int, list[int]]:
        """Stop reading; every version's receive stamps."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"stop\n")
        await self.proc.stdin.drain()
        samples = json.loads(await self.expect("samples ", within=120))
        await self.proc.wait()
        return {int(v): stamps for v, stamps in samples.items()}

    async def close(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


async def subscriber_main(args: argparse.Namespace) -> None:
    """The subscriber process (run with --subscribers)."""
    from websockets.asyncio.client import connect

    protocol = "graphql-transport-ws" if args.protocol == "graphql" else None
    ids = args.profile_ids.split(",")
    gate = asyncio.Semaphore(64)
    sockets: list[Any] = []

    async def open_one(n: int) -> Any:
        async with gate:
            ws = await connect(
                args.url,
                subprotocols=[protocol] if protocol else None,  # type: ignore[list-item]
                compression=None,
                max_size=None,
                ping_interval=None,
                open_timeout=60,
            )
            if protocol:
                auth = {"Authorization": f"Bearer {args.key}"}
                await ws.send(json.dumps({"type": "connection_init", "payload": auth}))
                assert json.loads(await ws.recv())["type"] == "connection_ack"
                for k in range(args.per_connection):
                    profile_id = ids[(n * args.per_connection + k) % len(ids)]
                    payload = {"query": args.query, "variables": {"id": profile_id}}
                    subscribe = {"id": str(k), "type": "subscribe", "payload": payload}
                    await ws.send(json.dumps(subscribe))
                for _ in range(args.per_connection):  # the current state of each
                    assert json.loads(await ws.recv())["type"] == "next"
            return ws

    sockets = list(await asyncio.gather(*(open_one(n) for n in range(args.count))))
    stamps: dict[int, list[int]] = defaultdict(list)
    expected = args.count * args.per_connection

    async def read(ws: Any) -> None:
        async for raw in ws:
            now = time.time_ns()
            # The raw relay sends the same shape of message, so both sides parse alike.
            version = json.loads(raw)["payload"]["data"]["profileUpdates"]["version"]
            got = stamps[version]
            got.append(now)
            if len(got) == expected:
                sys.stdout.write(f"done {version}\n")
                sys.stdout.flush()

    readers = [asyncio.create_task(read(ws)) for ws in sockets]
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    await asyncio.to_thread(sys.stdin.readline)
    for task in readers:
        task.cancel()
    sys.stdout.write("samples " + json.dumps(stamps) + "\n")
    sys.stdout.flush()
    for ws in sockets:
        with contextlib.suppress(Exception):
            await ws.close()


# --------------------------------------------------------------------------- servers


@contextlib.asynccontextmanager
async def in_process_server(app: Any) -> AsyncIterator[str]:
    """uvicorn in this event loop, with the options `cdp serve` uses."""
    import uvicorn

    from graphql_schema.ws_protocol import WS_OPTIONS

    sock = socket.socket()
    sock.bind((HOST, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", **WS_OPTIONS)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.01)
    try:
        yield f"ws://{HOST}:{port}/graphql"
    finally:
        server.should_exit = True
        await task
        sock.close()


@contextlib.contextmanager
def serve_process(env: dict[str, str], port: int) -> Any:
    """`cdp serve` in its own process; yields the process (for its pid)."""
    argv = [str(CDP), "serve", "--host", HOST, "--port", str(port)]
    with tempfile.TemporaryFile() as log, server_process(argv, port, env, output=log) as proc:
        yield proc


def relay_app(redis_url: str) -> Any:
    """The raw path: Redis pub/sub to every WebSocket, with nothing in between."""
    from redis.asyncio import Redis
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    clients: set[WebSocket] = set()

    async def relay() -> None:
        redis = Redis.from_url(redis_url)
        pubsub = redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe("raw")
        while True:
            message = await pubsub.get_message(timeout=None)
            if message is None:
                continue
            text = message["data"].decode()
            for ws in list(clients):
                with contextlib.suppress(Exception):
                    await ws.send_text(text)

    async def endpoint(ws: WebSocket) -> None:
        await ws.accept()
        clients.add(ws)
        try:
            while True:
                await ws.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            clients.discard(ws)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(relay())
        yield
        task.cancel()

    return Starlette(routes=[WebSocketRoute("/raw", endpoint)], lifespan=lifespan)


def relay_main(args: argparse.Namespace) -> None:
    import uvicorn

    uvicorn.run(relay_app(args.redis_url), host=HOST, port=args.port, log_level="warning")


# --------------------------------------------------------------------------- runs


async def measure(subscribers: Subscribers, rounds: int, commit: Any) -> tuple[list[float], float]:
    """Run `rounds` commits, each after the last was read by every subscriber."""
    committed: dict[int, int] = {}
    began = time.monotonic()
    for _ in range(rounds):
        version, at = await commit()
        committed[version] = at
        await subscribers.expect("done ")
        await asyncio.sleep(0.005)
    took = time.monotonic() - began
    stamps = await subscribers.finish()
    latencies = [
        (t - committed[v]) / 1e6
        for v, ts in stamps.items()
        if v in committed and v >= min(committed) + WARMUP_ROUNDS
        for t in ts
    ]
    return latencies, took


def rounds_for(count: int, quick: bool) -> int:
    full = {1: 300, 100: 100, 1000: 40}[count]
    return max(WARMUP_ROUNDS + 5, full // (4 if quick else 1))


async def timed_rounds(
    subs: Subscribers, label: str, count: int, quick: bool, commit: Any
) -> dict[str, Any]:
    """Commits timed to every subscriber's receipt, summed up and printed; closes `subs`."""
    try:
        latencies, took = await measure(subs, rounds_for(count, quick), commit)
    finally:
        await subs.close()
    result = summary(latencies) | {"seconds": round(took, 2)}
    print(f"  {label:<7} {count:>5} subscribers: {fmt(result)}", flush=True)
    return result


async def latency_rounds(
    rt: Any, url: str, label: str, card_prefix: str, quick: bool
) -> dict[str, Any]:
    """For each subscriber count: a member of its own, that many subscribers watching it
    over `url`, and commits on `rt` timed to each subscriber's receipt."""
    results: dict[str, Any] = {}
    for count in SUBSCRIBERS:
        profile_id = await new_member(rt, f"{card_prefix}{count:08d}")
        version = [1]

        async def commit(
            profile_id: str = profile_id, version: list[int] = version
        ) -> tuple[int, int]:
            at = await commit_change(rt, profile_id, version[0])
            version[0] += 1
            return version[0], at

        subs = await Subscribers.start(
            "--url", url, "--count", str(count), "--key", ADMIN_KEY,
            "--profile-ids", profile_id, "--query", QUERY,
        )  # fmt: skip
        results[str(count)] = await timed_rounds(subs, label, count, quick, commit)
    return results


async def run_memory(work: Path, quick: bool) -> dict[str, Any]:
    from cdp.bootstrap import stop_runtime
    from graphql_schema.app import create_app, freeze_startup_objects

    rt = await stamped_runtime(work / "memory.db")
    try:
        app = create_app(runtime=rt)
        # As `cdp serve` does once started: without it every full collection walks this
        # process's ~100k start-up objects again, and the passes the 1,000 subscribers'
        # connecting sets off run long enough (~300 ms) to land in the measured rounds.
        freeze_startup_objects()
        async with in_process_server(app) as url:
            return await latency_rounds(rt, url, "memory", "60370000", quick)
    finally:
        await stop_runtime(rt)


async def run_redis(work: Path, redis_url: str, quick: bool) -> dict[str, Any]:
    from cdp.bootstrap import stop_runtime

    db = work / "redis.db"
    rt = await stamped_runtime(db, redis_url=redis_url)
    port = free_port()
    env = settings_env(db, CDP_REDIS_URL=redis_url)
    try:
        deadline = time.monotonic() + 10
        while not rt.broker.connected:
            assert time.monotonic() < deadline, "redis broker did not connect"
            await asyncio.sleep(0.02)
        with serve_process(env, port):
            url = f"ws://{HOST}:{port}/graphql"
            return await latency_rounds(rt, url, "redis", "60371111", quick)
    finally:
        await stop_runtime(rt)


def raw_message(version: int) -> str:
    """Byte for byte the shape of one `next` message our server sends for QUERY."""
    return json.dumps(
        {
            "id": "0",
            "type": "next",
            "payload": {
                "data": {
                    "profileUpdates": {
                        "kind": "POINTS_ADJUSTED",
                        "version": version,
                        "entry": {"points": 1},
                        "profile": {
                            "id": "p_0123456789abcdef0123",
                            "loyalty": {
                                "balance": version,
                                "pendingPoints": 0,
                                "tier": {"name": "Member"},
                            },
                        },
                    }
                }
            },
        },
        separators=(",", ":"),
    )


async def run_raw(redis_url: str, quick: bool) -> dict[str, Any]:
    from redis.asyncio import Redis

    port = free_port()
    argv = [sys.executable, str(THIS), "--relay", "--port", str(port), "--redis-url", redis_url]
    results: dict[str, Any] = {}
    redis = Redis.from_url(redis_url)
    try:
        with server_process(argv, port, {**os.environ, "PYTHONPATH": str(ROOT)}):
            for count in SUBSCRIBERS:
                version = [1]

                async def commit(version: list[int] = version) -> tuple[int, int]:
                    version[0] += 1
                    message = raw_message(version[0])
                    at = time.time_ns()
                    await redis.publish("raw", message)
                    return version[0], at

                subs = await Subscribers.start(
                    "--url", f"ws://{HOST}:{port}/raw", "--count", str(count),
                    "--protocol", "raw", "--profile-ids", "-",
                )  # fmt: skip
                results[str(count)] = await timed_rounds(subs, "raw", count, quick, commit)
    finally:
        await redis.aclose()
    return results


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def seed_profiles(db: Path, count: int) -> list[str]:
    from cdp.bootstrap import build_runtime, start_runtime, stop_runtime
    from cdp.channel import Channel
    from cdp.identity.model import IdentifierType
    from cdp.identity.service import RawIdentifier, normalize, stage_new_profile
    from cdp.store.unit_of_work import UnitOfWork

    rt = build_runtime(bench_settings(db))
    await start_runtime(rt)
    ids: list[str] = []
    try:
        for start in range(0, count, 500):

            async def use_case(uow: UnitOfWork, start: int = start) -> list[str]:
                made = []
                for i in range(start, min(start + 500, count)):
                    key = normalize(rt, RawIdentifier(IdentifierType.LOYALTY_CARD, f"7{i:015d}"))
                    made.append(
                        stage_new_profile(
                            uow,
                            now=rt.clock.now(),
                            channel=Channel.POS,
                            keys=[key],
                            denylist=rt.settings.denylist,
                        ).id
                    )
                return made

            ids.extend(await rt.transaction(use_case))
    finally:
        await stop_runtime(rt)
    return ids


async def run_memory_footprint(work: Path, total: int, per_connection: int) -> dict[str, Any]:
    db = work / f"idle-{per_connection}.db"
    ids = await seed_profiles(db, total)
    ids_file = work / f"ids-{per_connection}.txt"
    ids_file.write_text(",".join(ids))
    port = free_port()
    url = f"ws://{HOST}:{port}/graphql"
    with serve_process(settings_env(db), port) as proc:
        # Warm up: load every code path a subscription touches, then let it go.
        warm = await Subscribers.start(
            "--url", url, "--count", "20", "--key", ADMIN_KEY, "--profile-ids",
            ",".join(ids[:20]), "--query", IDLE_QUERY,
        )  # fmt: skip
        await warm.finish()
        await asyncio.sleep(1.0)
        before = rss_kb(proc.pid)
        connections = total // per_connection
        subs = await Subscribers.start(
            "--url", url, "--count", str(connections), "--per-connection", str(per_connection),
            "--key", ADMIN_KEY, "--profile-ids", "@" + str(ids_file), "--query", IDLE_QUERY,
        )  # fmt: skip
        try:
            await asyncio.sleep(2.0)  # idle
            after = rss_kb(proc.pid)
        finally:
            await subs.close()
    per = (after - before) / total
    result = {
        "subscriptions": total,
        "connections": connections,
        "subscriptions_per_connection": per_connection,
        "rss_before_mb": round(before / 1024, 1),
        "rss_after_mb": round(after / 1024, 1),
        "kb_per_subscription": round(per, 1),
    }
    print(
        f"  idle {total} subscriptions over {connections} connections: "
        f"{per:.1f} KB each (RSS {before / 1024:.0f} -> {after / 1024:.0f} MB)",
        flush=True,
    )
    return result


def fmt(result: dict[str, Any]) -> str:
    return (
        f"p50 {result['p50_ms']:.3f} ms  p99 {result['p99_ms']:.3f} ms  "
        f"({result['samples']} samples)"
    )


def push_machine() -> dict[str, Any]:
    import redis
    import websockets

    server = subprocess.run(["redis-server", "--version"], capture_output=True, text=True)
    return machine(
        redis_py=redis.__version__,
        websockets=websockets.__version__,
        redis_server=server.stdout.split()[2].removeprefix("v=") if server.stdout else None,
    )


async def explore(only: str, quick: bool) -> None:
    """One side only, printed and not written (to try a change)."""
    from tests.realtime.redis_server import RedisServer

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if only == "memory":
            await run_memory(work, quick)
            return
        if only == "idle":
            await run_memory_footprint(work, 1000 if quick else 5000, 1)
            await run_memory_footprint(work, 1000 if quick else 5000, 20)
            return
        server = RedisServer(work / "redis")
        server.start()
        try:
            if only == "redis":
                await run_redis(work, server.url, quick)
            else:
                await run_raw(server.url, quick)
        finally:
            server.stop()


async def main(quick: bool) -> None:
    from tests.realtime.redis_server import RedisServer

    print("push latency, commit -> WebSocket client", flush=True)
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        info = push_machine()
        memory = await run_memory(work, quick)
        server = RedisServer(work / "redis")
        server.start()
        try:
            redis = await run_redis(work, server.url, quick)
            raw = await run_raw(server.url, quick)
        finally:
            server.stop()
        print("memory per idle subscription", flush=True)
        total = 1000 if quick else 5000
        footprint = [
            await run_memory_footprint(work, total, 1),
            await run_memory_footprint(work, total, 20),
        ]

    ratio_redis = redis["1000"]["p99_ms"] / raw["1000"]["p99_ms"]
    ratio_memory = memory["1000"]["p99_ms"] / raw["1000"]["p99_ms"]
    worst_kb = max(f["kb_per_subscription"] for f in footprint)
    report = {
        "benchmark": "push: commit -> WebSocket client, p50/p99; memory per idle subscription",
        "timestamp": started.isoformat(timespec="seconds"),
        "quick": quick,
        "machine": info,
        "setup": {
            "subscribers_watch": "one profile (every subscriber gets every message)",
            "change": "adjust_points +1, one transaction, stamped when the store commit returns",
            "subscription": QUERY,
            "client": "websockets (asyncio), separate process, no compression",
            "warmup_rounds_dropped": WARMUP_ROUNDS,
        },
        "latency": {"memory": memory, "redis_two_processes": redis, "raw_redis_ws": raw},
        "target": {
            "p99_ratio_redis_vs_raw_at_1000": round(ratio_redis, 2),
            "p99_ratio_memory_vs_raw_at_1000": round(ratio_memory, 2),
            "within_3x": ratio_redis <= 3,
            "kb_per_idle_subscription_worst": worst_kb,
            "under_50kb": worst_kb < 50,
        },
        "memory": footprint,
    }
    written = write_results("push", report)
    print(
        f"p99 at 1,000 subscribers: redis {redis['1000']['p99_ms']:.2f} ms, "
        f"raw {raw['1000']['p99_ms']:.2f} ms -> {ratio_redis:.2f}x (target <= 3x); "
        f"memory broker {ratio_memory:.2f}x",
        flush=True,
    )
    print(f"worst memory per idle subscription: {worst_kb} KB (target < 50 KB)")
    print(f"written to {relative(written)}")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--only", choices=["memory", "redis", "raw", "idle"], help="one side, not written"
    )
    # Internal: the subscriber process and the raw relay.
    parser.add_argument("--subscribers", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--relay", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--per-connection", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--key", default="", help=argparse.SUPPRESS)
    parser.add_argument("--profile-ids", default="", help=argparse.SUPPRESS)
    parser.add_argument("--query", default=QUERY, help=argparse.SUPPRESS)
    parser.add_argument("--protocol", default="graphql", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--redis-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.profile_ids.startswith("@"):
        args.profile_ids = Path(args.profile_ids[1:]).read_text()
    return args


if __name__ == "__main__":
    import uvloop

    arguments = parse()
    if arguments.relay:
        relay_main(arguments)
    elif arguments.subscribers:
        uvloop.run(subscriber_main(arguments))
    elif arguments.only:
        uvloop.run(explore(arguments.only, arguments.quick))
    else:
        uvloop.run(main(arguments.quick))
