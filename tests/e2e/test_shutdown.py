"""SIGTERM ends `cdp serve` within CDP_SHUTDOWN_TIMEOUT_SECONDS, whatever its sockets are
doing: subscribed, idle, half way through a handshake, or never reading again."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from graphql_schema.server import EXIT_SHUTDOWN_TIMEOUT

from .processes import ADMIN_KEY, ROOT, ServeProcess

TIMEOUT = 3.0
PROTOCOL = "graphql-transport-ws"
CARD = "6037000000004242"
# Every push carries the member's last 100 ledger entries: a few KB each, so a socket
# whose reader stopped fills its buffers after a few hundred pushes.
WATCH_HISTORY = (
    "subscription ($id: ID) { profileUpdates(id: $id) { version profile { history(first: 100)"
    " { edges { cursor node { id type points reason createdAt } } } } } }"
)
ALLOCATE = f'mutation {{ allocateCard(input: {{channel: POS, cardNumber: "{CARD}"}}) {{ id }} }}'
ADJUST = (
    "mutation ($id: ID!, $key: String!) { adjustPoints(profileId: $id, points: 1, "
    'reason: "a long enough reason to make every ledger entry weigh something", '
    "idempotencyKey: $key) { points } }"
)


async def gql(http: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None) -> Any:
    response = await http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def stalled(ws_url: str, stack: AsyncExitStack, profile_id: str) -> None:
    """A subscriber whose reader stops: it never reads again after the acknowledgement,
    so the server's pushes pile up in its buffers."""
    ws = await stack.enter_async_context(
        connect(ws_url, subprotocols=[PROTOCOL], max_queue=1)  # type: ignore[list-item]
    )
    await ws.send(json.dumps({"type": "connection_init", "payload": {"apiKey": ADMIN_KEY}}))
    assert '"connection_ack"' in str(await ws.recv())
    payload = {"query": WATCH_HISTORY, "variables": {"id": profile_id}}
    await ws.send(json.dumps({"id": "w", "type": "subscribe", "payload": payload}))


async def subscribed(ws_url: str, stack: AsyncExitStack, store: str) -> ClientConnection:
    ws = await stack.enter_async_context(connect(ws_url, subprotocols=[PROTOCOL]))  # type: ignore[list-item]
    await ws.send(json.dumps({"type": "connection_init", "payload": {"apiKey": ADMIN_KEY}}))
    assert '"connection_ack"' in str(await ws.recv())
    query = f'subscription {{ receipts(storeId: "{store}") {{ orderId }} }}'
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
    return ws


def raw_socket(port: int, request: bytes) -> socket.socket:
    """A TCP connection that sends `request` and then never reads or writes again."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(request)
    return sock


def upgrade(port: int, *, complete: bool) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    head = (
        f"GET /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: {PROTOCOL}\r\n"
    )
    return (head + "\r\n").encode() if complete else head.encode()


@pytest.mark.parametrize("attempt", range(2))
async def test_sigterm_exits_within_the_shutdown_timeout_under_websocket_load(
    tmp_path: Path, attempt: int
) -> None:
    server = ServeProcess(
        tmp_path,
        "shutdown",
        store_url=f"sqlite:///{tmp_path / 'cdp.db'}",
        shutdown_timeout_seconds=str(TIMEOUT),
        # the background loops run, as in production, and must be cancelled too
        jobs_interval_seconds="0.2",
        dispatch_interval_seconds="0.2",
    )
    server.start()
    sockets: list[socket.socket] = []
    try:
        async with AsyncExitStack() as stack:
            # subscribed and reading; acknowledged and idle; upgraded but never initialised;
            # half a handshake; a bare TCP connection; upgraded, then never reading again
            live = [await subscribed(server.ws_url, stack, f"s-{n}") for n in range(40)]
            for _ in range(20):
                ws = await stack.enter_async_context(
                    connect(server.ws_url, subprotocols=[PROTOCOL])
                )  # type: ignore[list-item]
                await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            sockets += [
                raw_socket(server.port, upgrade(server.port, complete=True)) for _ in range(20)
            ]
            sockets += [
                raw_socket(server.port, upgrade(server.port, complete=False)) for _ in range(20)
            ]
            sockets += [raw_socket(server.port, b"") for _ in range(10)]
            # and subscribers that stopped reading, while pushes keep coming
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                profile_id = (await gql(http, ALLOCATE))["allocateCard"]["id"]
                for _ in range(10):
                    await stalled(server.ws_url, stack, profile_id)
                for n in range(150):
                    await gql(http, ADJUST, {"id": profile_id, "key": f"adjust-{attempt}-{n}"})
            await asyncio.sleep(0.5)
            assert server.process is not None
            began = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            exited = await asyncio.to_thread(wait_for_exit, server, TIMEOUT + 2.0)
            took = time.monotonic() - began
            codes = [ws.close_code for ws in live]
    finally:
        for sock in sockets:
            sock.close()
        server.stop()

    assert exited is not None, f"still running {took:.1f}s after SIGTERM"
    assert took <= TIMEOUT + 1.0, f"exit took {took:.1f}s"
    print(f"exited in {took:.2f}s; close codes {sorted(set(codes), key=str)}")
    # uvicorn shuts down, then raises the signal it caught again: killed by SIGTERM
    assert exited == -signal.SIGTERM
    assert set(codes) == {1001}, codes


def wait_for_exit(server: ServeProcess, seconds: float) -> int | None:
    assert server.process is not None
    try:
        return server.process.wait(timeout=seconds)
    except Exception:
        return None


def test_a_shutdown_stuck_past_the_deadline_still_exits() -> None:
    # given a server told to stop whose shutdown never returns (a thread that hangs)
    script = (
        "import time, uvicorn\n"
        "from graphql_schema.server import BoundedServer\n"
        "server = BoundedServer(uvicorn.Config(app=None), shutdown_timeout=0.5)\n"
        "server.handle_exit(15, None)\n"
        "time.sleep(60)\n"
    )
    began = time.monotonic()

    stuck = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, timeout=30, check=False
    )

    # then the deadline ends the process, with the code that says so
    assert stuck.returncode == EXIT_SHUTDOWN_TIMEOUT, stuck.stderr
    assert time.monotonic() - began < 10
    assert b"shutdown_timeout_exceeded" in stuck.stdout + stuck.stderr
