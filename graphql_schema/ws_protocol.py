"""The WebSocket protocol uvicorn runs for each connection: its own sans-I/O one, made to
hold less while the connection idles, which a push server's connections mostly do.

`cdp serve` runs it with WS_OPTIONS; so do the benches and tests that serve the app.
"""

from __future__ import annotations

from typing import Any

from uvicorn._types import ASGISendEvent
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

from cdp.mailbox import Mailbox


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's protocol with a lighter inbox, letting the handshake go once it is done."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # uvicorn uses put_nowait, get and empty of its inbox, and only the app reads it.
        self.queue = Mailbox()  # type: ignore[assignment]

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        # The ASGI scope holds its own copy of the headers. websockets' parser keeps the
        # request (a local of its generator) for the connection's life: emptied, its
        # headers no longer cost about 2.5 KB per connection.
        event.headers.clear()
        del self.request

    async def send(self, message: ASGISendEvent) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept" and self.handshake_complete:
            del self.response  # read only until the handshake is sent (about 1 KB)


WS_OPTIONS: dict[str, Any] = {
    "ws": LeanWebSocketProtocol,
    "ws_ping_interval": 20.0,
    "ws_ping_timeout": 20.0,
}
