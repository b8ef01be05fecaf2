"""Rate limits under load: does a key's window hold, exactly, and what does counting cost?

    python bench/ratelimit.py            # the whole bench (about a minute)
    python bench/ratelimit.py --quick    # shorter throughput rounds
    python bench/ratelimit.py --no-pin   # let the OS place the processes

Holding: one key sends 2,000 `{ tiers { id } }` requests, paced evenly over 10 s, to a
server allowing a key 100 a minute (CDP_RATE_LIMIT_PER_KEY=100/minute; the per-address
limit off, as every request comes from loopback). A second key sends 50 beside them.
Exactly 100 of the first key's requests must pass (200, no errors) and the other 1,900
be refused (429, Retry-After, RATE_LIMITED); every one of the second key's must pass.
Run twice: one server counting in its memory; two servers counting in one real
redis-server, the first key's requests alternating between them.

Cost: requests/s of 16 keep-alive connections on one server (pinned to one CPU) with
the limits off (the baseline), on with windows in memory, and on with windows in Redis,
limits high enough never to refuse (over one second); ratio = limited / baseline, in
the same run, and CPU per request.

Printed and written to bench/results/ratelimit.json.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (
    ADMIN_KEY,
    ROOT,
    Target,
    bench_env,
    http_post,
    json_bytes,
    machine,
    pin_servers,
    pool,
    relative,
    round_line,
    run_round,
    script_server,
    serve_side,
    side_summary,
    write_results,
)

CDP = Path(sys.executable).with_name("cdp")
QUERY = "{ tiers { id } }"
BURST_REQUESTS = 2000
BURST_SECONDS = 10.0
KEY_RATE = "100/minute"
ALLOWED = 100
OTHER_REQUESTS = 50
# Limits this load never reaches, over a window as short as a real rate's (a moving
# window keeps one entry per request in it: an hour's window at this rate would hold
# millions, and measure the list, not the limits).
NEVER_REFUSES = "1000000/second"


def limited_env(db: Path, **rates: str) -> dict[str, str]:
    """The bench's environment with the rate limits given (unset ones off)."""
    return bench_env(
        db,
        CDP_RATE_LIMIT_PER_KEY=rates.get("per_key", ""),
        CDP_RATE_LIMIT_PER_ADDRESS=rates.get("per_address", ""),
        **({"CDP_REDIS_URL": rates["redis_url"]} if "redis_url" in rates else {}),
    )


@contextmanager
def redis_server(work: Path) -> Iterator[str]:
    from tests.realtime.redis_server import redis_running

    with redis_running(work / "redis") as server:
        yield server.url


# --------------------------------------------------------------------------- holding


async def burst(ports: list[int], other_key: str) -> dict[str, Any]:
    """2,000 requests from one key paced over 10 s (alternating between `ports`) and 50
    from another beside them; what each got."""
    import httpx

    async def post(client: httpx.AsyncClient, port: int, key: str) -> tuple[str, int, Any]:
        response = await client.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": QUERY},
            headers={"Authorization": f"Bearer {key}"},
        )
        body = response.json()
        codes = [e["extensions"]["code"] for e in body.get("errors", [])]
        retry_after = response.headers.get("retry-after")
        return key, response.status_code, (tuple(codes), retry_after)

    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        tasks = []
        began = time.perf_counter()
        every = BURST_SECONDS / BURST_REQUESTS
        other_every = BURST_REQUESTS // OTHER_REQUESTS
        for n in range(BURST_REQUESTS):
            await asyncio.sleep(max(0.0, began + n * every - time.perf_counter()))
            port = ports[n % len(ports)]
            tasks.append(asyncio.create_task(post(client, port, ADMIN_KEY)))
            if n % other_every == 0:
                tasks.append(asyncio.create_task(post(client, port, other_key)))
        answers = await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
    return tally(answers, elapsed)


def tally(answers: list[tuple[str, int, Any]], elapsed: float) -> dict[str, Any]:
    mine = [(status, extra) for key, status, extra in answers if key == ADMIN_KEY]
    other = [(status, extra) for key, status, extra in answers if key != ADMIN_KEY]
    passed = [s for s, (codes, _) in mine if s == 200 and not codes]
    refused = [(s, codes, after) for s, (codes, after) in mine if s != 200 or codes]
    retry_after = [int(after) for _, _, after in refused if after is not None]
    result = {
        "sent": len(mine),
        "seconds": round(elapsed, 2),
        "passed": len(passed),
        "refused": len(refused),
        "refused_statuses": dict(Counter(str(s) for s, _, _ in refused)),
        "refused_codes": dict(Counter(",".join(codes) for _, codes, _ in refused)),
        "retry_after_seconds": [min(retry_after), max(retry_after)] if retry_after else None,
        "other_key_sent": len(other),
        "other_key_passed": sum(1 for s, (codes, _) in other if s == 200 and not codes),
    }
    holds = (
        result["passed"] == ALLOWED
        and result["refused"] == BURST_REQUESTS - ALLOWED
        and result["refused_statuses"] == {"429": BURST_REQUESTS - ALLOWED}
        and result["refused_codes"] == {"RATE_LIMITED": BURST_REQUESTS - ALLOWED}
        and len(retry_after) == BURST_REQUESTS - ALLOWED
        and result["other_key_passed"] == OTHER_REQUESTS
    )
    result["holds"] = holds
    return result


async def holding(work: Path, redis_url: str) -> dict[str, Any]:
    results = {}
    for name, servers, rates in (
        ("memory, one process", 1, {"per_key": KEY_RATE}),
        ("redis, two processes", 2, {"per_key": KEY_RATE, "redis_url": redis_url}),
    ):
        db = work / f"holding-{servers}.db"
        env = limited_env(db, **rates)
        other_key = create_key(env)
        with ExitStack() as stack:
            ports = [
                stack.enter_context(script_server(__file__, env, None, "graphql"))[0]
                for _ in range(servers)
            ]
            result = await burst(ports, other_key)
        print(f"{name:22} {line(result)}", flush=True)
        results[name] = result
    return results


def create_key(env: dict[str, str]) -> str:
    """A stored `pos` key in the servers' store, made by `cdp keys create`."""
    made = subprocess.run(
        [str(CDP), "keys", "create", "--name", "bench other till", "--scopes", "pos"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return next(line.split()[1] for line in made.stdout.splitlines() if line.startswith("key:"))


def line(result: dict[str, Any]) -> str:
    return (
        f"sent {result['sent']} in {result['seconds']}s: passed {result['passed']}, refused "
        f"{result['refused']} {result['refused_codes']}, Retry-After "
        f"{result['retry_after_seconds']}; other key {result['other_key_passed']}/"
        f"{result['other_key_sent']}; holds: {result['holds']}"
    )


# --------------------------------------------------------------------------- cost


async def cost(work: Path, redis_url: str, args: argparse.Namespace) -> dict[str, Any]:
    request = pool(
        [
            http_post(
                0,
                "/graphql",
                json_bytes({"query": QUERY}),
                {"Authorization": f"Bearer {ADMIN_KEY}"},
            )
        ]
    )
    sides = {
        "off": {},
        "memory": {"per_key": NEVER_REFUSES, "per_address": NEVER_REFUSES},
        "redis": {"per_key": NEVER_REFUSES, "per_address": NEVER_REFUSES, "redis_url": redis_url},
    }
    server_cpu = pin_servers(args.pin)
    rounds: list[dict[str, Any]] = []
    with ExitStack() as stack:
        targets = {}
        for name, rates in sides.items():
            env = limited_env(work / "cost.db", **rates)
            port, pid = stack.enter_context(script_server(__file__, env, server_cpu, "graphql"))
            targets[name] = Target(name, port, pid, request)
        for target in targets.values():
            await run_round(target, args.connections, 1.0, 0.2)
        for _ in range(args.rounds):
            for target in targets.values():
                result = await run_round(target, args.connections, args.seconds, args.warmup)
                rounds.append(result)
                print(round_line(result), flush=True)
    per_side = {name: side_summary([r for r in rounds if r["side"] == name]) for name in sides}
    return {
        **per_side,
        "ratio_memory": round(per_side["memory"]["rps"] / per_side["off"]["rps"], 3),
        "ratio_redis": round(per_side["redis"]["rps"] / per_side["off"]["rps"], 3),
        # CPU per request, off / limited: steadier than req/s on a shared machine
        "cpu_ratio_memory": cpu_ratio(per_side, "memory"),
        "cpu_ratio_redis": cpu_ratio(per_side, "redis"),
        "pinned": server_cpu is not None,
    }


def cpu_ratio(per_side: dict[str, Any], side: str) -> float:
    off = per_side["off"]["server_cpu_us_per_request"]
    return round(off / per_side[side]["server_cpu_us_per_request"], 3)


# --------------------------------------------------------------------------- main


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cdp-bench-ratelimit-") as tmp:
        work = Path(tmp)
        with redis_server(work) as redis_url:
            held = await holding(work, redis_url)
            costs = await cost(work, redis_url, args)
    return {
        "benchmark": "rate limits: a key's window under 2,000 requests in 10 s; cost per request",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "setup": {
            "query": QUERY,
            "burst": f"{BURST_REQUESTS} requests over {BURST_SECONDS:.0f} s from one key",
            "key_rate": KEY_RATE,
            "other_key_requests": OTHER_REQUESTS,
            "cost_rates": NEVER_REFUSES,
            "connections": args.connections,
            "rounds_per_side": args.rounds,
            "seconds_per_round": args.seconds,
        },
        "holding": held,
        "cost": costs,
        "total_seconds": round(time.perf_counter() - began, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter throughput rounds")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--warmup", type=float, default=0.5)
    parser.add_argument(
        "--no-pin", dest="pin", action="store_false", help="do not pin servers to one CPU"
    )
    parser.add_argument("--serve", choices=["graphql"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_side(args.serve, args.port, lambda: None)
        return
    if args.quick:
        args.rounds, args.seconds = 2, 2.0
    import uvloop

    result = uvloop.run(measure(args))
    written = write_results("ratelimit", result)
    costs = result["cost"]
    print(
        f"limited / off, req/s: memory {costs['ratio_memory']}, redis {costs['ratio_redis']};"
        f" CPU per request, off / limited: memory {costs['cpu_ratio_memory']},"
        f" redis {costs['cpu_ratio_redis']}"
    )
    print(f"total {result['total_seconds']}s; written to {relative(written)}")
    if not all(run["holds"] for run in result["holding"].values()):
        raise SystemExit("the rate limit did not hold: see the figures above")


if __name__ == "__main__":
    main()
