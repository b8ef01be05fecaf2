"""The typed per-request (or per-WebSocket) context every resolver receives."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from cdp.auth.model import Caller
from cdp.loyalty.rewards import StockIssued, stock_issued
from cdp.runtime import Runtime
from resolvers.loaders import Loaders, build_loaders


@dataclass(slots=True)
class Cached:
    """What one request, or one pushed event, reads once and reuses."""

    loaders: Loaders
    stock: StockIssued | None = None


# A WebSocket's operations share one Context, each running in its own task. What a pushed
# event caches lives in its operation's task, so two subscriptions on one socket never
# resolve a push with the other's fresher (or older) loaders.
_event_cached: ContextVar[tuple[Context, Cached] | None] = ContextVar("event_cached", default=None)


@dataclass(slots=True)
class Context:
    runtime: Runtime
    request: Request | WebSocket
    response: Response | WebSocket | None
    _cached: Cached
    bearer: str | None = None
    caller: Caller | None = field(default=None)
    # The lookup behind `caller` while it runs, shared by root fields that ask at once.
    pending_caller: asyncio.Future[Caller] | None = None
    # Set by Strawberry from a WebSocket's connection_init payload.
    connection_params: dict[str, object] | None = None
    # A WebSocket's check before each new operation: False once its credential no longer
    # holds (the socket is then closed; graphql_schema/ws_auth.py).
    still_allowed: Callable[[], Awaitable[bool]] | None = None

    @property
    def cached(self) -> Cached:
        held = _event_cached.get()
        return held[1] if held is not None and held[0] is self else self._cached

    @property
    def loaders(self) -> Loaders:
        return self.cached.loaders

    def forget_cached(self) -> None:
        """Start afresh for one pushed event, in this operation's task only: a WebSocket's
        context outlives every event, and its other operations run beside this one."""
        _event_cached.set((self, Cached(build_loaders(self.runtime.store))))

    async def stock_issued(self) -> StockIssued:
        """Issued counts of limited rewards, read once per request (or pushed event)."""
        cached = self.cached
        if cached.stock is None:
            cached.stock = await stock_issued(self.runtime.store, self.runtime.program)
        return cached.stock


def build_context(
    runtime: Runtime, request: Request | WebSocket, response: Response | WebSocket | None
) -> Context:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    bearer = token.strip() if scheme.lower() == "bearer" else None
    return Context(runtime, request, response, Cached(build_loaders(runtime.store)), bearer)


Info = StrawberryInfo[Context, None]
