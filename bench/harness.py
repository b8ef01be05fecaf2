"""What the benches share: server processes, a keep-alive HTTP/1.1 load generator,
in-process rounds, percentiles, machine facts and results files.

The load generator is an asyncio (uvloop) client in the bench process: N keep-alive
connections, each sending its next request as soon as the last response is whole. A
`Target` makes every request (`request(n)`, n counting up over the whole run), so a
target can cycle through a fixed pool (lookups) or make each one unique (an orderId per
purchase). Every response is checked: the expected status and no `"errors"` in the body.

Servers are separate processes that the bench may pin to one CPU (`pin_servers`) while
it keeps the others for itself: pinned, a server is CPU-bound on its core, so its
throughput reflects the CPU each request costs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "bench" / "results"
HOST = "127.0.0.1"
ADMIN_KEY = "bench-admin-key-0123456789abcdef"


# --------------------------------------------------------------------------- settings


def bench_env(db: Path, **extra: str) -> dict[str, str]:
    """The environment a server (or `cdp` command) reads its settings from: this one,
    without any CDP_ variable of the caller's, plus the bench's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDP_")}
    env.update(
        CDP_STORE_URL=f"sqlite:///{db}",
        CDP_ADMIN_KEY=ADMIN_KEY,
        CDP_JOBS_INTERVAL_SECONDS="0",  # nothing runs behind the measured requests
        CDP_DISPATCH_INTERVAL_SECONDS="0",
        CDP_LOG_LEVEL="warning",
        # A bench's load comes from one key and one address, far past the product's
        # default rates; bench/ratelimit.py measures the limits and what they cost.
        CDP_RATE_LIMIT_PER_KEY="",
        CDP_RATE_LIMIT_PER_ADDRESS="",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


# --------------------------------------------------------------------------- servers


def email_of(i: int) -> str:
    """Member i's email in every bench's seeded population."""
    return f"member{i:06d}@example.com"


def stage_member(uow: Any, rt: Any, now: Any, i: int, other: tuple[Any, str], **fields: Any) -> Any:
    """Stage seeded member i: an email, one `other` (type, value) identifier, a name."""
    from cdp.channel import Channel
    from cdp.identity.model import IdentifierType, PersonalData
    from cdp.identity.service import RawIdentifier, normalize, stage_new_profile

    raws = [RawIdentifier(IdentifierType.EMAIL, email_of(i)), RawIdentifier(*other)]
    return stage_new_profile(
        uow,
        now=now,
        channel=Channel.POS,
        keys=[normalize(rt, raw) for raw in raws],
        denylist=rt.settings.denylist,
        personal=PersonalData(first_name=f"First{i}", last_name=f"Last{i}", email=email_of(i)),
        **fields,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[Any], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the server on {port} exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), 0.2):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server on {port} did not start")
        time.sleep(0.05)


@contextlib.contextmanager
def server_process(
    argv: Sequence[str],
    port: int,
    env: dict[str, str],
    cpu: int | None = None,
    output: IO[bytes] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start `argv` (a server that will listen on `port`), pinned to `cpu` if given;
    yield it once it accepts connections; terminate it after."""
    proc = subprocess.Popen(
        list(argv), env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT if output else None
    )
    if cpu is not None:
        os.sched_setaffinity(proc.pid, {cpu})
    try:
        wait_listening(port, proc)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def serve_app(app: Any, port: int) -> None:
    """Serve `app` as `cdp serve` runs the product (uvicorn's defaults: uvloop, httptools)."""
    import uvicorn

    from cdp.logging import configure_logging
    from cdp.settings import load_settings

    configure_logging(load_settings())
    uvicorn.run(app, host=HOST, port=port, log_level="warning")


def serve_side(side: str, port: int, raw_app: Callable[[], Any]) -> None:
    """One bench server, as `cdp serve` runs the product: the product's app for "graphql",
    the bench's raw baseline (`raw_app()`) for any other side."""
    if side == "graphql":
        from graphql_schema.app import create_app

        serve_app(create_app(), port)
    else:
        serve_app(raw_app(), port)


@contextlib.contextmanager
def script_server(
    script: str, env: dict[str, str], cpu: int | None, *args: str
) -> Iterator[tuple[int, int]]:
    """The bench `script` run again as a server (`--serve ARGS --port P`): (port, pid)."""
    port = free_port()
    argv = [sys.executable, script, "--serve", *args, "--port", str(port)]
    with server_process(argv, port, env, cpu) as proc:
        yield port, proc.pid


def baseline_app(path: str, scope: str, work: Callable[[Any, Any], Awaitable[Any]]) -> Any:
    """A raw baseline endpoint: the bearer checked as the product checks it (`authenticate`
    and the scope), then `work(runtime, json body)`, whose answer is sent back as JSON; the
    runtime starts with the app and its start-up objects are frozen, as the product's are
    (`freeze_startup_objects`), without importing any of the GraphQL side."""
    import gc

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from cdp.auth.model import Scope
    from cdp.auth.service import authenticate
    from cdp.bootstrap import build_runtime, start_runtime, stop_runtime
    from cdp.errors import DomainError
    from cdp.settings import load_settings

    rt = build_runtime(load_settings())
    needed = Scope(scope)

    async def endpoint(request: Request) -> JSONResponse:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        bearer = token.strip() if scheme.lower() == "bearer" else None
        try:
            caller = await authenticate(rt, bearer)
            if not caller.allows(needed):
                return JSONResponse({"errors": [{"message": "forbidden"}]}, status_code=403)
            return JSONResponse(await work(rt, await request.json()))
        except DomainError as exc:
            return JSONResponse({"errors": [{"message": exc.message}]}, status_code=400)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        await start_runtime(rt)
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await stop_runtime(rt)

    return Starlette(routes=[Route(path, endpoint, methods=["POST"])], lifespan=lifespan)


def pin_servers(pin: bool) -> int | None:
    """The CPU servers get (the last one), moving this process to the others; None when
    not pinning or on one CPU."""
    cpus = sorted(os.sched_getaffinity(0))
    if not pin or len(cpus) < 2:
        return None
    _set_process_affinity(set(cpus[:-1]))
    return cpus[-1]


@contextlib.contextmanager
def pinned_here(cpu: int | None) -> Iterator[None]:
    """Run this process on `cpu` alone for a while (an in-process round under the same
    conditions as a pinned server), then go back to where it was."""
    if cpu is None:
        yield
        return
    before = os.sched_getaffinity(0)
    _set_process_affinity({cpu})
    try:
        yield
    finally:
        _set_process_affinity(before)


def _set_process_affinity(cpus: set[int]) -> None:
    """Every thread of this process (`sched_setaffinity(0)` moves only the calling one,
    and a store's thread left elsewhere hands the GIL across cores)."""
    for tid in os.listdir("/proc/self/task"):
        with contextlib.suppress(ProcessLookupError):  # a thread that just ended
            os.sched_setaffinity(int(tid), cpus)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- requests


def http_post(port: int, path: str, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    """A whole HTTP/1.1 POST, ready for the wire."""
    head = f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
    for name, value in (headers or {}).items():
        head += f"{name}: {value}\r\n"
    head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


@dataclass
class Target:
    """One side under load: where it listens, its pid (for CPU time) and its requests."""

    name: str
    port: int
    pid: int
    request: Callable[[int], bytes]
    status: bytes = b"200"
    sent: int = field(default=0, init=False)

    def next_request(self) -> bytes:
        self.sent += 1
        return self.request(self.sent - 1)


def pool(requests: Sequence[bytes]) -> Callable[[int], bytes]:
    """Requests that cycle through a fixed pool."""
    return lambda n: requests[n % len(requests)]


# --------------------------------------------------------------------------- load


class Round:
    """One timed run of N connections against one target."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.ok_head = b"http/1.1 " + target.status
        self.running = True
        self.recording = False
        self.latencies: list[float] = []
        self.completed = 0
        self.failures: list[bytes] = []
        self.idle = asyncio.Event()
        self.busy = 0


class Connection(asyncio.Protocol):
    """Keep-alive HTTP/1.1: the next request goes out when the last response is whole."""

    def __init__(self, run: Round) -> None:
        self.run = run
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.sent_at = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.run.busy += 1
        self.send()

    def send(self) -> None:
        assert self.transport is not None
        request = self.run.target.next_request()
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
        self.buffer = self.buffer[end + 4 + length :]
        run = self.run
        if run.recording:
            run.latencies.append(time.perf_counter() - self.sent_at)
            run.completed += 1
            if not head.startswith(run.ok_head) or b'"errors"' in body:
                run.failures.append(head.split(b"\r\n", 1)[0] + b" " + body[:300])
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


async def run_round(
    target: Target, connections: int, seconds: float, warmup: float
) -> dict[str, Any]:
    """Load `target` for `warmup` + `seconds`; figures over the `seconds` only."""
    loop = asyncio.get_running_loop()
    run = Round(target)
    for _ in range(connections):
        await loop.create_connection(lambda: Connection(run), HOST, target.port)
    await asyncio.sleep(warmup)
    run.recording = True
    started = time.perf_counter()
    server_cpu, client_cpu = cpu_seconds(target.pid), time.process_time()
    await asyncio.sleep(seconds)
    run.recording = False
    elapsed = time.perf_counter() - started
    server_cpu = cpu_seconds(target.pid) - server_cpu
    client_cpu = time.process_time() - client_cpu
    run.running = False
    await asyncio.wait_for(run.idle.wait(), 10)
    if run.failures:
        raise RuntimeError(
            f"{target.name}: {len(run.failures)} responses were not {target.status.decode()}"
            f" without errors; the first: {run.failures[0]!r}"
        )
    return {
        "side": target.name,
        "requests": run.completed,
        "rps": run.completed / elapsed,
        "latencies": run.latencies,
        "server_cpu": server_cpu / elapsed,
        "server_cpu_us": server_cpu / max(run.completed, 1) * 1e6,
        "client_cpu": client_cpu / elapsed,
    }


async def run_calls(
    name: str, call: Callable[[], Awaitable[Any]], workers: int, seconds: float, warmup: float
) -> dict[str, Any]:
    """The in-process twin of `run_round`: `workers` tasks each awaiting `call()` in a
    loop; this process's CPU counts as the server's."""
    running, recording = True, False
    latencies: list[float] = []

    async def worker() -> None:
        while running:
            began = time.perf_counter()
            await call()
            if recording:
                latencies.append(time.perf_counter() - began)

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    try:
        await asyncio.sleep(warmup)
        recording = True
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.sleep(seconds)
        recording = False
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        running = False
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
    return {
        "side": name,
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "latencies": latencies,
        "server_cpu": cpu / elapsed,
        "server_cpu_us": cpu / max(len(latencies), 1) * 1e6,
        "client_cpu": 0.0,
    }


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    seconds: float


async def send_together(port: int, requests: Sequence[bytes]) -> list[Answer]:
    """Each request on its own connection, all opened first and then written at once;
    every answer with its latency from the write (answers are read with
    `Connection: close` semantics: the body runs to its content-length)."""
    streams = [await asyncio.open_connection(HOST, port) for _ in requests]

    async def one(stream: tuple[asyncio.StreamReader, asyncio.StreamWriter], data: bytes) -> Answer:
        reader, writer = stream
        began = time.perf_counter()
        writer.write(data)
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await reader.readexactly(length)
        seconds = time.perf_counter() - began
        writer.close()
        return Answer(int(head.split(b" ", 2)[1]), body, seconds)

    return list(await asyncio.gather(*(one(s, r) for s, r in zip(streams, requests, strict=True))))


# --------------------------------------------------------------------------- figures


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank value at quantile `q` (0..1) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def latency_ms(seconds: Sequence[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(seconds, 0.50) * 1000, 3),
        "p99_ms": round(percentile(seconds, 0.99) * 1000, 3),
    }


def side_summary(rounds: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One side's rounds: median throughput, latency over all its requests, CPU."""
    latencies = [x for r in rounds for x in r["latencies"]]
    return {
        "rps": round(statistics.median(r["rps"] for r in rounds), 1),
        "rps_rounds": [round(r["rps"], 1) for r in rounds],
        **latency_ms(latencies),
        "requests": sum(r["requests"] for r in rounds),
        "server_cpu_us_per_request": round(statistics.median(r["server_cpu_us"] for r in rounds)),
        "server_cpu_busy": round(statistics.median(r["server_cpu"] for r in rounds), 2),
        "load_generator_cpu_busy": round(statistics.median(r["client_cpu"] for r in rounds), 2),
    }


def round_line(result: dict[str, Any]) -> str:
    """One printed line per round."""
    line = (
        f"  {result['side']:13} {result['rps']:8.0f} req/s"
        f"  p50 {percentile(result['latencies'], 0.5) * 1000:6.2f} ms"
        f"  CPU {result['server_cpu']:4.0%} ({result['server_cpu_us']:4.0f} us/req)"
    )
    if result["client_cpu"]:
        line += f"  load generator CPU {result['client_cpu']:4.0%}"
    return line


def pair_ratios(rounds: Sequence[dict[str, Any]], side: str, baseline: str) -> list[float]:
    """`side` / `baseline` throughput for each round of `side` and the next `baseline`."""
    ratios = []
    for i, r in enumerate(rounds):
        if r["side"] == side:
            following = next((b for b in rounds[i + 1 :] if b["side"] == baseline), None)
            if following is not None:
                ratios.append(round(r["rps"] / following["rps"], 3))
    return ratios


def machine(**extra: Any) -> dict[str, Any]:
    """What the figures were measured on, with the versions that matter to them."""
    from importlib.metadata import version

    import graphql
    import starlette
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
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        **extra,
    }


def write_results(name: str, result: dict[str, Any]) -> Path:
    """bench/results/<name>.json, replaced whole (never left half written)."""
    path = RESULTS_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    tmp.replace(path)
    return path


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))
