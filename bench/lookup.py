"""Lookup by email: GraphQL over HTTP against a raw Starlette endpoint doing the same work.

    python bench/lookup.py                   # the whole bench (under a minute)
    python bench/lookup.py --quick           # shorter rounds, to try a change
    python bench/lookup.py --no-pin          # let the OS place servers and load
    python bench/lookup.py --profile         # cProfile of the GraphQL app, in process

A SQLite store in a temp dir is seeded with 10k profiles (email + POS id each) and one
API key (scope profiles:read). Two uvicorn servers run on it, each its own process with
the same uvicorn settings the product's `cdp serve` uses (uvloop, httptools):

- graphql: the product's app (`create_app`), POST /graphql with
  `profile(identifier: {type: EMAIL, value: $email}) { id version status firstName
  identifiers { type value verified } }`;
- raw: one Starlette route, POST /lookup {"email": ...}, that does what the resolver
  does, without GraphQL: the bearer through `authenticate`, the scope check, the
  identifier normalized, `find_profiles` (the same two store reads the DataLoader
  makes), and the same JSON body back (`{"data": {"profile": {...}}}`, same fields).

Both get the same load: this process is the load generator, an asyncio (uvloop)
keep-alive HTTP/1.1 client with N connections, each sending its next request as soon
as the last response is complete, over a fixed pool of random seeded emails (every
response is checked: 200, and no "errors"). The sides are measured in alternating
rounds (graphql, raw, graphql, raw, ...) so drift on the machine hits both; only one
server is under load at a time (the other idles). Before the rounds, the bodies of
both sides are checked to be the same JSON for sample emails.

Each server is pinned to one CPU and the load generator to the others (`--no-pin`
lets the OS place them). Pinned, a server is CPU-bound on its core, so throughput
reflects the CPU each request costs, which is the overhead to compare. Unpinned, a
server's event loop and its SQLite thread hand the GIL across cores: each store read
then waits on that hand-off, both sides idle part of the time, the raw side most
(its requests are mostly store reads), and the ratio comes out higher and noisier.

Per side: throughput (req/s, median over its rounds), latency p50/p99 (over all its
requests), and server CPU per request (user + system time of the server process over
the round / requests; what the load generator used is shown too, to see it is not
the bottleneck). The ratio is graphql / raw throughput, also given per adjacent pair
of rounds. Printed and written to bench/results/lookup.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (
    HOST,
    Target,
    baseline_app,
    bench_env,
    email_of,
    http_post,
    json_bytes,
    machine,
    pair_ratios,
    pin_servers,
    pool,
    relative,
    round_line,
    run_round,
    script_server,
    serve_side,
    side_summary,
    stage_member,
    write_results,
)

PROFILES = 10_000
SEED = 7

GRAPHQL_QUERY = (
    "query Lookup($email: String!) {"
    " profile(identifier: {type: EMAIL, value: $email}) {"
    " id version status firstName identifiers { type value verified } } }"
)


# --------------------------------------------------------------------------- seeding


async def seed(db: Path, profiles: int) -> str:
    """A store of `profiles` profiles; returns a profiles:read API key."""
    from cdp.auth.service import create_api_key
    from cdp.bootstrap import build_runtime, start_runtime, stop_runtime
    from cdp.identity.model import IdentifierType
    from cdp.settings import load_settings
    from cdp.store.unit_of_work import UnitOfWork

    settings = load_settings(
        store_url=f"sqlite:///{db}", jobs_interval_seconds=0, dispatch_interval_seconds=0
    )
    rt = build_runtime(settings)
    await start_runtime(rt)
    try:
        batch = 1000
        for start in range(0, profiles, batch):

            async def use_case(uow: UnitOfWork, start: int = start) -> None:
                now = rt.clock.now()
                for i in range(start, min(start + batch, profiles)):
                    pos_id = (IdentifierType.POS_CUSTOMER_ID, f"pos-{i:06d}")
                    stage_member(uow, rt, now, i, pos_id)

            await rt.transaction(use_case)
        _, key = await create_api_key(rt, name="bench", scopes=["profiles:read"])
        return key
    finally:
        await stop_runtime(rt)


# --------------------------------------------------------------------------- servers


def raw_app() -> Any:
    """The baseline: the resolver's work on a plain Starlette route, no GraphQL."""
    from cdp.identity.model import IdentifierType
    from cdp.identity.service import RawIdentifier, find_profiles, normalize

    async def lookup(rt: Any, body: Any) -> Any:
        key = normalize(rt, RawIdentifier(IdentifierType.EMAIL, body["email"]))
        (found,) = await find_profiles(rt.store, [key])
        profile = None
        if found is not None:
            profile = {
                "id": found.id,
                "version": found.version,
                "status": found.status.value,
                "firstName": found.personal.first_name,
                "identifiers": [
                    {"type": i.type.value, "value": i.value, "verified": i.verified}
                    for i in found.identifiers
                ],
            }
        return {"data": {"profile": profile}}

    return baseline_app("/lookup", "profiles:read", lookup)


# --------------------------------------------------------------------------- load


def lookup_target(name: str, port: int, pid: int, key: str, emails: list[str]) -> Target:
    """What one side is sent: a fixed pool of ready-made requests, one per email."""
    path = "/graphql" if name == "graphql" else "/lookup"
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
    requests = []
    for email in emails:
        if name == "graphql":
            body: dict[str, Any] = {"query": GRAPHQL_QUERY, "variables": {"email": email}}
        else:
            body = {"email": email}
        requests.append(http_post(port, path, json_bytes(body), headers))
    return Target(name, port, pid, pool(requests))


def check_same_bodies(sides: dict[str, Target], key: str, emails: list[str]) -> None:
    """The two endpoints answer the same JSON for the same email (and none for unknown)."""
    import httpx

    with httpx.Client(headers={"Authorization": f"Bearer {key}"}) as http:
        for email in [*emails, "nobody@example.com"]:
            answers = []
            for name, side in sides.items():
                if name == "graphql":
                    body: dict[str, Any] = {"query": GRAPHQL_QUERY, "variables": {"email": email}}
                    url = f"http://{HOST}:{side.port}/graphql"
                else:
                    body = {"email": email}
                    url = f"http://{HOST}:{side.port}/lookup"
                response = http.post(url, json=body)
                response.raise_for_status()
                answers.append(response.json())
            if answers[0] != answers[1]:
                raise RuntimeError(f"the sides differ for {email}: {answers}")
            if email != "nobody@example.com" and answers[0]["data"]["profile"] is None:
                raise RuntimeError(f"{email} was not found")


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cdp-bench-lookup-") as tmp:
        db = Path(tmp) / "cdp.db"
        t0 = time.perf_counter()
        key = await seed(db, args.profiles)
        seeded = time.perf_counter() - t0
        print(f"seeded {args.profiles} profiles in {seeded:.1f}s", flush=True)
        env = bench_env(db)
        rng = random.Random(SEED)
        emails = [email_of(rng.randrange(args.profiles)) for _ in range(4096)]
        server_cpu = pin_servers(args.pin)
        with (
            script_server(__file__, env, server_cpu, "graphql") as (graphql_port, graphql_pid),
            script_server(__file__, env, server_cpu, "raw") as (raw_port, raw_pid),
        ):
            sides = {
                "graphql": lookup_target("graphql", graphql_port, graphql_pid, key, emails),
                "raw": lookup_target("raw", raw_port, raw_pid, key, emails),
            }
            check_same_bodies(sides, key, emails[:20])
            # Warm both (imports, caches, SQLite pages) before anything is kept.
            for side in sides.values():
                await run_round(side, args.connections, 1.0, 0.2)
            rounds: list[dict[str, Any]] = []
            for _ in range(args.rounds):
                for name in ("graphql", "raw"):
                    result = await run_round(
                        sides[name], args.connections, args.seconds, args.warmup
                    )
                    rounds.append(result)
                    print(round_line(result), flush=True)
    per_side = {name: side_summary([r for r in rounds if r["side"] == name]) for name in sides}
    return {
        "benchmark": "lookup by email: GraphQL over HTTP vs raw Starlette, same store work",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "setup": {
            "profiles": args.profiles,
            "connections": args.connections,
            "rounds_per_side": args.rounds,
            "seconds_per_round": args.seconds,
            "warmup_per_round": args.warmup,
            "load_generator": "asyncio (uvloop) keep-alive HTTP/1.1, in the bench process",
            "server": "uvicorn, one process per side, loaded one at a time",
            "pinned": server_cpu is not None,
            "query": GRAPHQL_QUERY,
        },
        "graphql": per_side["graphql"],
        "raw": per_side["raw"],
        "ratio": round(per_side["graphql"]["rps"] / per_side["raw"]["rps"], 3),
        "cpu_ratio": round(
            per_side["raw"]["server_cpu_us_per_request"]
            / per_side["graphql"]["server_cpu_us_per_request"],
            3,
        ),
        "ratio_per_pair": pair_ratios(rounds, "graphql", "raw"),
        "seeding_seconds": round(seeded, 1),
        "total_seconds": round(time.perf_counter() - began, 1),
    }


def report(result: dict[str, Any], written: Path) -> None:
    print()
    print(f"{'side':8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU us/req':>11}")
    for name in ("graphql", "raw"):
        side = result[name]
        print(
            f"{name:8} {side['rps']:9.0f} {side['p50_ms']:8.2f} {side['p99_ms']:8.2f}"
            f" {side['server_cpu_us_per_request']:11}"
        )
    pinned = "servers pinned to one CPU" if result["setup"]["pinned"] else "unpinned"
    print(f"ratio graphql/raw: {result['ratio']:.3f} (pairs: {result['ratio_per_pair']}; {pinned})")
    print(f"CPU per request, raw/graphql: {result['cpu_ratio']:.3f}")
    print(f"total {result['total_seconds']}s; written to {relative(written)}")


# --------------------------------------------------------------------------- profile


def profile_in_process(requests: int) -> None:
    """cProfile of `requests` lookups through the GraphQL ASGI app, no sockets."""
    import cProfile
    import pstats

    async def main() -> None:
        from graphql_schema.app import create_app

        with tempfile.TemporaryDirectory(prefix="cdp-bench-profile-") as tmp:
            db = Path(tmp) / "cdp.db"
            key = await seed(db, 2000)
            os.environ.update(bench_env(db))
            app = create_app()
            rng = random.Random(SEED)
            bodies = [
                json.dumps(
                    {"query": GRAPHQL_QUERY, "variables": {"email": email_of(rng.randrange(2000))}}
                ).encode()
                for _ in range(256)
            ]
            headers = [
                (b"host", b"bench"),
                (b"authorization", f"Bearer {key}".encode()),
                (b"accept", b"application/json"),
                (b"content-type", b"application/json"),
            ]

            async def call(body: bytes) -> None:
                scope = {
                    "type": "http",
                    "asgi": {"version": "3.0"},
                    "http_version": "1.1",
                    "method": "POST",
                    "scheme": "http",
                    "path": "/graphql",
                    "raw_path": b"/graphql",
                    "root_path": "",
                    "query_string": b"",
                    "server": (HOST, 80),
                    "client": (HOST, 1234),
                    "headers": [*headers, (b"content-length", str(len(body)).encode())],
                }
                sent = False

                async def receive() -> dict[str, Any]:
                    nonlocal sent
                    if sent:
                        await asyncio.sleep(3600)
                    sent = True
                    return {"type": "http.request", "body": body, "more_body": False}

                async def send(message: dict[str, Any]) -> None:
                    if message["type"] == "http.response.start":
                        assert message["status"] == 200, message

                await app(scope, receive, send)

            async with app.router.lifespan_context(app):
                for body in bodies[:50]:
                    await call(body)
                profiler = cProfile.Profile()
                t0 = time.perf_counter()
                profiler.enable()
                for n in range(requests):
                    await call(bodies[n % len(bodies)])
                profiler.disable()
                elapsed = time.perf_counter() - t0
            print(
                f"{requests} requests in {elapsed:.2f}s under cProfile "
                f"({requests / elapsed:.0f} req/s)"
            )
            stats = pstats.Stats(profiler)
            stats.sort_stats("cumulative").print_stats(45)
            stats.sort_stats("tottime").print_stats(30)

    asyncio.run(main())


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter rounds")
    parser.add_argument("--profile", action="store_true", help="cProfile in process")
    parser.add_argument("--profiles", type=int, default=PROFILES)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=0.5)
    parser.add_argument(
        "--no-pin", dest="pin", action="store_false", help="do not pin servers to one CPU"
    )
    parser.add_argument("--serve", choices=["graphql", "raw"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_side(args.serve, args.port, raw_app)
        return
    if args.profile:
        profile_in_process(3000)
        return
    if args.quick:
        args.rounds, args.seconds = 2, 2.0
    import uvloop

    result = uvloop.run(measure(args))
    report(result, write_results("lookup", result))


if __name__ == "__main__":
    main()
