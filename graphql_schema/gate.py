"""In front of /graphql, before any GraphQL runs: the rate limits (HTTP requests and
WebSocket connection attempts), then the body size limit.

The body is read as it streams and refused (413) as soon as it passes the limit, or at
once when its declared length does; a body within the limit is handed on as it came.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cdp.ratelimit import RateLimits, Refusal
from graphql_schema.refusals import rate_limited, refused

GUARDED_PATH = "/graphql"


def client_address(scope: Scope) -> str:
    """The peer address (uvicorn puts the proxy's client there when it trusts the proxy)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def bearer_of(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else None
    return None


class RequestGate:
    def __init__(self, app: ASGIApp, rate_limits: RateLimits, max_body_bytes: int) -> None:
        self.app = app
        self.rate_limits = rate_limits
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] != GUARDED_PATH:
            await self.app(scope, receive, send)
            return
        address = client_address(scope)
        if scope["type"] == "websocket":
            # Operations on an open socket count against its key (graphql_schema/websocket.py).
            refusal = await self.rate_limits.admit(address=address, credential=None)
            if refusal is not None:
                await refuse_handshake(scope, receive, send, refusal)
                return
            await self.app(scope, receive, send)
            return
        refusal = await self.rate_limits.admit(address=address, credential=bearer_of(scope))
        if refusal is not None:
            await rate_limited(refusal)(scope, receive, send)
            return
        body = await self._body_within_limit(scope, receive)
        if body is None:
            await refused(413, f"the request body is over {self.max_body_bytes} bytes")(
                scope, receive, send
            )
            return
        await self.app(scope, replay(body, receive), send)

    async def _body_within_limit(self, scope: Scope, receive: Receive) -> list[Message] | None:
        """The body's messages, or None as soon as it is known to pass the limit."""
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_body_bytes:
                return None
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages  # the client went away: the app sees it as it would
            size += len(message.get("body", b""))
            if size > self.max_body_bytes:
                return None
            if not message.get("more_body", False):
                return messages


def replay(messages: list[Message], receive: Receive) -> Receive:
    """`receive` that hands out the messages already read, then the live ones."""
    pending = list(messages)

    async def receiving() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return receiving


async def refuse_handshake(scope: Scope, receive: Receive, send: Send, refusal: Refusal) -> None:
    """429 with Retry-After where the server can answer a handshake with a response
    (the ASGI denial-response extension, which uvicorn has), else a close (HTTP 403)."""
    await receive()  # websocket.connect
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008, "reason": refusal.message[:120]})
        return
    response = rate_limited(refusal)
    await send(
        {
            "type": "websocket.http.response.start",
            "status": 429,
            "headers": response.raw_headers,
        }
    )
    await send({"type": "websocket.http.response.body", "body": response.body})
