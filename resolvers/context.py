"""The typed per-request (or per-WebSocket) context every resolver receives."""

from __future__ import annotations

import asyncio
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
class Context:
    runtime: Runtime
    request: Request | WebSocket
    response: Response | WebSocket | None
    loaders: Loaders
    bearer: str | None = None
    caller: Caller | None = field(default=None)
    # The lookup behind `caller` while it runs, shared by root fields that ask at once.
    pending_caller: asyncio.Future[Caller] | None = None
    # Set by Strawberry from a WebSocket's connection_init payload.
    connection_params: dict[str, object] | None = None
    _stock: StockIssued | None = None

    def forget_cached(self) -> None:
        """Drop what this context cached: a WebSocket's context outlives each pushed event."""
        self.loaders = build_loaders(self.runtime.store)
        self._stock = None

    async def stock_issued(self) -> StockIssued:
        """Issued counts of limited rewards, read once per request."""
        if self._stock is None:
            self._stock = await stock_issued(self.runtime.store, self.runtime.program)
        return self._stock


def build_context(
    runtime: Runtime, request: Request | WebSocket, response: Response | WebSocket | None
) -> Context:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    bearer = token.strip() if scheme.lower() == "bearer" else None
    return Context(runtime, request, response, build_loaders(runtime.store), bearer)


Info = StrawberryInfo[Context, None]
