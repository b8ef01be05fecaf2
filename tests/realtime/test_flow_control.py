"""A client that stops reading holds the server's sends back, and loses nothing."""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from websockets.asyncio.client import connect

from .support import serve

MESSAGES = 200
SIZE = 64 * 1024  # 12.8 MB in all: far past the socket buffers and the client's queue


async def test_sends_wait_for_a_stalled_reader_then_all_arrive_in_order() -> None:
    sent = asyncio.Event()

    async def flood(ws: WebSocket) -> None:
        await ws.accept()
        for n in range(MESSAGES):
            await ws.send_text(f"{n:08d}".ljust(SIZE, "."))
        sent.set()
        await ws.receive_text()

    app = Starlette(routes=[WebSocketRoute("/flood", flood)])
    async with serve(app) as live:
        url = live.base_url.replace("http://", "ws://") + "/flood"
        async with connect(url, compression=None, max_size=None) as client:
            await asyncio.sleep(0.2)
            assert not sent.is_set()  # held back while nobody reads
            got = [int((await asyncio.wait_for(client.recv(), 5))[:8]) for _ in range(MESSAGES)]
            assert got == list(range(MESSAGES))
            assert sent.is_set()
            await client.send("done")
