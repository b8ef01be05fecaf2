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
import contextlib
import gc
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results" / "lookup.json"
HOST = "127.0.0.1"
PROFILES = 10_000
SEED = 7
ADMIN_KEY = "bench-admin-key-0123456789abcdef"

GRAPHQL_QUERY = (
    "query Lookup($email: String!) {"
    " profile(identifier: {type: EMAIL, value: $email}) {"
    " id version status firstName identifiers { type value verified } } }"
)


# --------------------------------------------------------------------------- settings


def bench_env(db: Path) -> dict[str, str]:
    """The environment both servers (and the seeding) read their settings from."""
    return {
        **os.environ,
        "CDP_STORE_URL": f"sqlite:///{db}",
        "CDP_ADMIN_KEY": ADMIN_KEY,
        "CDP_JOBS_INTERVAL_SECONDS": "0",  # nothing runs behind the measured requests
        "CDP_DISPATCH_INTERVAL_SECONDS": "0",
        "CDP_LOG_LEVEL": "warning",
        "PYTHONPATH": str(ROOT),
    }


# --------------------------------------------------------------------------- seeding


def email_of(i: int) -> str:
    return f"member{i:06d}@example.com"


async def seed(db: Path, profiles: int) -> str:
    """A store of `profiles` profiles; returns a profiles:read API key."""
    from cdp.auth.service import create_api_key
    from cdp.bootstrap import build_runtime, start_runtime, stop_runtime
    from cdp.channel import Channel
    from cdp.identity.model import IdentifierType, PersonalData
    from cdp.identity.service import RawIdentifier, normalize, stage_new_profile
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
                    raws = [
                        RawIdentifier(IdentifierType.EMAIL, email_of(i)),
                        RawIdentifier(IdentifierType.POS_CUSTOMER_ID, f"pos-{i:06d}"),
                    ]
                    stage_new_profile(
                        uow,
                        now=now,
                        channel=Channel.POS,
                        keys=[normalize(rt, raw) for raw in raws],
                        denylist=rt.settings.denylist,
                        personal=PersonalData(
                            first_name=f"First{i}", last_name=f"Last{i}", email=email_of(i)
                        ),
                    )

            await rt.transaction(use_case)
        _, key = await create_api_key(rt, name="bench", scopes=["profiles:read"])
        return key
    finally:
        await stop_runtime(rt)


# --------------------------------------------------------------------------- servers


def raw_app() -> Any:
    """The baseline: the resolver's work on a plain Starlette route, no GraphQL."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from cdp.auth.model import Scope
    from cdp.auth.service import authenticate
    from cdp.bootstrap import build_runtime, start_runtime, stop_runtime
    from cdp.errors import DomainError
    from cdp.identity.model import IdentifierType
    from cdp.identity.service import RawIdentifier, find_profiles, normalize
    from cdp.settings import load_settings

    rt = build_runtime(load_settings())

    async def lookup(request: Request) -> JSONResponse:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        bearer = token.strip() if scheme.lower() == "bearer" else None
        try:
            caller = await authenticate(rt, bearer)
            if not caller.allows(Scope.PROFILES_READ):
                return JSONResponse({"errors": [{"message": "forbidden"}]}, status_code=403)
            body = await request.json()
            key = normalize(rt, RawIdentifier(IdentifierType.EMAIL, body["email"]))
        except DomainError as exc:
            return JSONResponse({"errors": [{"message": exc.message}]}, status_code=400)
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
        return JSONResponse({"data": {"profile": profile}})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        await start_runtime(rt)
        gc.collect()  # what the product's app does at start-up (freeze_startup_objects),
        gc.freeze()  # without importing any of the GraphQL side into this process
        try:
            yield
        finally:
            await stop_runtime(rt)

    return Starlette(routes=[Route("/lookup", lookup, methods=["POST"])], lifespan=lifespan)


def serve(side: str, port: int) -> None:
    """One server, as `cdp serve` runs the product (same uvicorn options both sides)."""
    import uvicorn

    from cdp.logging import configure_logging
    from cdp.settings import load_settings

    configure_logging(load_settings())
    if side == "graphql":
        from graphql_schema.app import create_app

        app = create_app()
    else:
        app = raw_app()
    uvicorn.run(app, host=HOST, port=port, log_level="warning")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def server(side: str, env: dict[str, str], cpu: int | None = None) -> Iterator[tuple[int, int]]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--serve", side, "--port", str(port)],
        env=env,
        cwd=ROOT,
    )
    if cpu is not None:
        os.sched_setaffinity(proc.pid, {cpu})
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the {side} server exited with {proc.returncode}")
            with contextlib.suppress(OSError), socket.create_connection((HOST, port), 0.2):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {side} server did not start")
            time.sleep(0.05)
        yield port, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --------------------------------------------------------------------------- load


class Side:
    """What one side is sent: a fixed pool of ready-made requests."""

    def __init__(self, name: str, port: int, pid: int, key: str, emails: list[str]) -> None:
        self.name = name
        self.port = port
        self.pid = pid
        path = "/graphql" if name == "graphql" else "/lookup"
        self.requests = []
        for email in emails:
            if name == "graphql":
                body = {"query": GRAPHQL_QUERY, "variables": {"email": email}}
            else:
                body = {"email": email}
            data = json.dumps(body, separators=(",", ":")).encode()
            head = (
                f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
                f"Authorization: Bearer {key}\r\nAccept: application/json\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
            )
            self.requests.append(head.encode() + data)


class Round:
    """One timed run of N connections against one side."""

    def __init__(self, side: Side, seconds: float, warmup: float) -> None:
        self.side = side
        self.running = True
        self.recording = False
        self.latencies: list[float] = []
        self.completed = 0
        self.failures = 0
        self.seconds = seconds
        self.warmup = warmup
        self.idle = asyncio.Event()
        self.busy = 0


class Connection(asyncio.Protocol):
    """Keep-alive HTTP/1.1: the next request goes out when the last response is whole."""

    def __init__(self, run: Round, offset: int) -> None:
        self.run = run
        self.requests = run.side.requests
        self.next = offset % len(self.requests)
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.sent_at = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.run.busy += 1
        self.send()

    def send(self) -> None:
        assert self.transport is not None
        request = self.requests[self.next]
        self.next = (self.next + 1) % len(self.requests)
        self.sent_at = time.perf_counter()
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self.buffer[:end].lower()
        at = head.find(b"content-length:")
        if at < 0:
            raise RuntimeError("response without content-length")
        stop = head.find(b"\r\n", at)
        length = int(head[at + 15 : stop if stop >= 0 else len(head)])
        if len(self.buffer) < end + 4 + length:
            return
        body = self.buffer[end + 4 : end + 4 + length]
        ok = head.startswith(b"http/1.1 200") and b'"errors"' not in body
        self.buffer = self.buffer[end + 4 + length :]
        run = self.run
        if run.recording:
            run.latencies.append(time.perf_counter() - self.sent_at)
            run.completed += 1
            if not ok:
                run.failures += 1
        if run.running:
            self.send()
        else:
            self.finish()

    def finish(self) -> None:
        run = self.run
        run.busy -= 1
        if run.busy == 0:
            run.idle.set()
        assert self.transport is not None
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is not None and self.run.running:
            raise RuntimeError(f"connection lost: {exc}")


async def run_round(side: Side, connections: int, seconds: float, warmup: float) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    run = Round(side, seconds, warmup)
    stride = len(side.requests) // connections
    for n in range(connections):
        await loop.create_connection(lambda n=n: Connection(run, n * stride), HOST, side.port)
    await asyncio.sleep(warmup)
    run.recording = True
    started = time.perf_counter()
    server_cpu, client_cpu = cpu_seconds(side.pid), time.process_time()
    await asyncio.sleep(seconds)
    run.recording = False
    elapsed = time.perf_counter() - started
    server_cpu = cpu_seconds(side.pid) - server_cpu
    client_cpu = time.process_time() - client_cpu
    run.running = False
    await asyncio.wait_for(run.idle.wait(), 10)
    if run.failures:
        raise RuntimeError(f"{side.name}: {run.failures} responses were not 200 with data")
    return {
        "side": side.name,
        "requests": run.completed,
        "rps": run.completed / elapsed,
        "latencies": run.latencies,
        "server_cpu": server_cpu / elapsed,
        "server_cpu_us": server_cpu / max(run.completed, 1) * 1e6,
        "client_cpu": client_cpu / elapsed,
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def check_same_bodies(sides: dict[str, Side], key: str, emails: list[str]) -> None:
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


def machine() -> dict[str, Any]:
    from importlib.metadata import version

    import graphql
    import starlette
    import strawberry  # noqa: F401
    import uvicorn

    return {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "strawberry": version("strawberry-graphql"),
        "graphql_core": graphql.__version__,
        "starlette": starlette.__version__,
        "uvicorn": uvicorn.__version__,
    }


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
        server_cpu = None
        cpus = sorted(os.sched_getaffinity(0))
        if args.pin and len(cpus) > 1:
            server_cpu = cpus[-1]
            os.sched_setaffinity(0, set(cpus[:-1]))
        with (
            server("graphql", env, server_cpu) as (graphql_port, graphql_pid),
            server("raw", env, server_cpu) as (raw_port, raw_pid),
        ):
            sides = {
                "graphql": Side("graphql", graphql_port, graphql_pid, key, emails),
                "raw": Side("raw", raw_port, raw_pid, key, emails),
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
                    print(
                        f"  {name:8} {result['rps']:8.0f} req/s"
                        f"  p50 {percentile(result['latencies'], 0.5) * 1000:6.2f} ms"
                        f"  server CPU {result['server_cpu']:4.0%}"
                        f" ({result['server_cpu_us']:4.0f} us/req)"
                        f"  load generator CPU {result['client_cpu']:4.0%}",
                        flush=True,
                    )
    per_side: dict[str, Any] = {}
    for name in ("graphql", "raw"):
        mine = [r for r in rounds if r["side"] == name]
        latencies = [x for r in mine for x in r["latencies"]]
        per_side[name] = {
            "rps": round(statistics.median(r["rps"] for r in mine), 1),
            "rps_rounds": [round(r["rps"], 1) for r in mine],
            "p50_ms": round(percentile(latencies, 0.50) * 1000, 3),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 3),
            "requests": sum(r["requests"] for r in mine),
            "server_cpu_us_per_request": round(statistics.median(r["server_cpu_us"] for r in mine)),
            "server_cpu_busy": round(statistics.median(r["server_cpu"] for r in mine), 2),
            "load_generator_cpu_busy": round(statistics.median(r["client_cpu"] for r in mine), 2),
        }
    pairs = [rounds[i]["rps"] / rounds[i + 1]["rps"] for i in range(0, len(rounds) - 1, 2)]
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
        "ratio_per_pair": [round(p, 3) for p in pairs],
        "seeding_seconds": round(seeded, 1),
        "total_seconds": round(time.perf_counter() - began, 1),
    }


def report(result: dict[str, Any]) -> None:
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
    print(f"total {result['total_seconds']}s; written to {RESULTS.relative_to(ROOT)}")


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
        serve(args.serve, args.port)
        return
    if args.profile:
        profile_in_process(3000)
        return
    if args.quick:
        args.rounds, args.seconds = 2, 2.0
    import uvloop

    result = uvloop.run(measure(args))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    tmp.replace(RESULTS)
    report(result)


if __name__ == "__main__":
    main()
