"""What an idle WebSocket connection keeps once it is set up: nothing it no longer needs,
and still its keepalive pings."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from websockets.http11 import Request

from cdp.runtime import Runtime
from graphql_schema.app import create_app
from graphql_schema.ws_protocol import LeanWebSocketProtocol

from .support import Live, serve, ws_session


def alive(kind: type[Any]) -> list[Any]:
    gc.collect()
    return [found for found in gc.get_objects() if isinstance(found, kind)]


async def test_an_acknowledged_connection_lets_its_init_timer_go(live: Live) -> None:
    async with ws_session(live):
        await asyncio.sleep(0)  # the cancelled timer finishes on the next turn
        await asyncio.sleep(0)
        timers = [
            task
            for task in alive(asyncio.Task)
            if task.get_coro().__qualname__.endswith("handle_connection_init_timeout")
        ]
        assert timers == []


async def test_an_open_connection_holds_no_handshake(live: Live) -> None:
    async with ws_session(live) as client:
        [connection] = alive(LeanWebSocketProtocol)
        assert not hasattr(connection, "request")
        assert not hasattr(connection, "response")
        served = [request for request in alive(Request) if request is not client.ws.request]
        assert [len(request.headers) for request in served] == [0]
        # The app still has the request headers, in its ASGI scope.
        assert (b"upgrade", b"websocket") in connection.scope["headers"]


async def test_an_idle_connection_still_answers_keepalive_pings(rt: Runtime) -> None:
    async with serve(create_app(runtime=rt), ws_ping_interval=0.05) as live, ws_session(live):
        [connection] = alive(LeanWebSocketProtocol)
        for _ in range(100):
            if connection.last_ping_rtt:
                break
            await asyncio.sleep(0.02)
        assert connection.last_ping_rtt > 0  # a ping went out and its pong came back
