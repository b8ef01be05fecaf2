"""The WebSocket protocol uvicorn runs for each connection: its own sans-I/O one, made to
hold less while the connection idles, which a push server's connections mostly do.

`cdp serve` runs it with WS_OPTIONS; so do the benches and tests that serve the app.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn._types import ASGISendEvent
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

from cdp.mailbox import Mailbox


class Writable:
    """What uvicorn asks of the asyncio.Event that holds its senders back while the socket's
    buffer is full (set, clear, wait), without the deque of waiters an Event keeps (about
    800 bytes): senders wait, only while it is clear, on one shared future."""

    __slots__ = ("_resumed",)

    def __init__(self) -> None:
        self._resumed: asyncio.Future[None] | None = None  # None while writable

    def set(self) -> None:
        resumed, self._resumed = self._resumed, None
        if resumed is not None and not resumed.done():
            resumed.set_result(None)

    def clear(self) -> None:
        if self._resumed is None:
            self._resumed = asyncio.get_running_loop().create_future()

    async def wait(self) -> bool:
        if self._resumed is not None:
            # Shielded: one sender given up must not cancel the others' wait.
            await asyncio.shield(self._resumed)
        return True


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's protocol with a lighter inbox and send gate, letting the handshake go
    once it is done."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # uvicorn uses put_nowait, get and empty of its inbox, and only the app reads it.
        self.queue = Mailbox()  # type: ignore[assignment]
        self.writable = Writable()  # type: ignore[assignment]

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        # The ASGI scope holds its own copy of the headers. websockets' parser keeps the
        # request (a local of its generator) for the connection's life: emptied, its
        # headers no longer cost about 2.5 KB per connection.
        event.headers.clear()
        del self.request

    def shutdown(self) -> None:
        """The server is stopping: close with 1001 (going away; uvicorn says 1012, service
        restart, which asks the client to come straight back), and drop the connection
        outright if the client has not taken the close frame within CLOSE_GRACE_SECONDS
        (a client that stopped reading would hold the socket, and the shutdown, open)."""
        if self.handshake_complete and self.initial_response is None and not self.close_sent:
            self.stop_keepalive()
            self.queue.put_nowait({"type": "websocket.disconnect", "code": 1001})
            self.conn.send_close(1001, "server shutting down")
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.transport.close()
        else:
            super().shutdown()
        asyncio.get_running_loop().call_later(CLOSE_GRACE_SECONDS, self.transport.abort)

    async def send(self, message: ASGISendEvent) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept" and self.handshake_complete:
            del self.response  # read only until the handshake is sent (about 1 KB)


CLOSE_GRACE_SECONDS = 1.0

WS_OPTIONS: dict[str, Any] = {
    "ws": LeanWebSocketProtocol,
    "ws_ping_interval": 20.0,
    "ws_ping_timeout": 20.0,
}
