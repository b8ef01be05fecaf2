"""GraphQL over WebSocket: Strawberry's protocol handlers with a coded operation cap,
and message encoding that serializes a pushed event's data once.

An acknowledged graphql-transport-ws connection lets its connection_init timer go: the
handler would otherwise hold the cancelled task, and with it the timer's frames, for
as long as the connection lives.

Strawberry refuses an operation over the per-connection cap with a bare message; ours
carries the contract's RATE_LIMITED code, on both protocols. Every operation also
counts against its credential's and address's rate limits, as an HTTP request does,
and its variables must be plain text (graphql_schema/input_guard.py).

Before a new operation starts, the connection's credential is checked again: a revoked
key or an expired customer token closes the socket instead (graphql_schema/ws_auth.py).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Protocol, cast

from graphql import GraphQLFormattedError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    Operation as TransportOperation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ErrorMessage as TransportError,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import SubscribeMessage
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import ErrorMessage as LegacyError
from strawberry.subscriptions.protocols.graphql_ws.types import StartMessage

from cdp.errors import BadInput
from cdp.json_text import dumps
from cdp.ratelimit import RateLimits
from graphql_schema.gate import client_address
from graphql_schema.input_guard import require_plain_variables
from graphql_schema.multiplex import Operation, current_operation
from resolvers.context import Context


def _rate_limited(message: str) -> GraphQLFormattedError:
    return {"message": message, "extensions": {"code": "RATE_LIMITED"}}


class RateLimitedView(Protocol):
    rate_limits: RateLimits


async def _refusal(
    view: object, context: Context, cap: int | None, running: int, variables: object
) -> GraphQLFormattedError | None:
    """Why an operation may not start: the connection's cap, variables that are not plain
    text, or a rate limit."""
    if cap is not None and running >= cap:
        return _rate_limited(f"at most {cap} operations may run at once on one connection")
    if isinstance(variables, dict):
        try:
            require_plain_variables(variables)
        except BadInput as refused:
            return {"message": refused.message, "extensions": {"code": refused.code}}
    limits = cast(RateLimitedView, view).rate_limits
    address = client_address(context.request.scope)
    refusal = await limits.admit(address=address, credential=context.bearer)
    return _rate_limited(refusal.message) if refusal is not None else None


async def _still_allowed(context: Context) -> bool:
    check = context.still_allowed
    return check is None or await check()


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    def on_request_accepted(self) -> None:
        super().on_request_accepted()
        assert self.connection_init_timeout_task is not None
        self.connection_init_timeout_task.add_done_callback(self._forget_init_timeout)

    def _forget_init_timeout(self, task: asyncio.Task[None]) -> None:
        # Cancelled (connection_init came in time), the task keeps its CancelledError,
        # whose traceback holds the timer's frames: about 1.5 KB per idle connection.
        if self.connection_init_timeout_task is task:
            self.connection_init_timeout_task = None

    async def run_operation(self, operation: TransportOperation[Context, None]) -> None:
        # Each operation runs in its own task: the variable is this operation's only.
        current_operation.set(
            Operation(
                operation.id,
                operation.query,
                operation.variables,
                operation.operation_name,
                legacy=False,
            )
        )
        await super().run_operation(operation)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not await _still_allowed(self.context):
            return
        if self.connection_acknowledged and message["id"] not in self.operations:
            cap, running = self.max_subscriptions_per_connection, len(self.operations)
            variables = message["payload"].get("variables")
            refusal = await _refusal(self.view, self.context, cap, running, variables)
            if refusal is not None:
                payload = [refusal]
                await self.send_message(
                    TransportError(id=message["id"], type="error", payload=payload)
                )
                return
        await super().handle_subscribe(message)


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        current_operation.set(Operation(operation_id, query, variables, operation_name, True))
        await super().handle_async_results(operation_id, query, operation_name, variables)

    async def handle_start(self, message: StartMessage) -> None:
        if not await _still_allowed(self.context):
            return
        if self.connection_acknowledged and message["id"] not in self.tasks:
            cap, running = self.max_subscriptions_per_connection, len(self.tasks)
            variables = message["payload"].get("variables")
            refusal = await _refusal(self.view, self.context, cap, running, variables)
            if refusal is not None:
                payload = refusal
                await self.send_message(
                    LegacyError(type="error", id=message["id"], payload=payload)
                )
                return
        await super().handle_start(message)


_serialized: OrderedDict[int, tuple[object, str]] = OrderedDict()
SERIALIZED_KEPT = 256


def encode_message(message: object) -> str:
    """JSON for an outgoing message; a pushed result's data is serialized once per event.

    Subscribers sharing an event's execution (graphql_schema/shared_events.py) share its
    `data` object too: its JSON is kept by identity and spliced into each subscriber's
    message, so a thousand subscribers cost one encoding of the data, not a thousand.
    """
    if not isinstance(message, dict) or message.get("type") not in ("next", "data"):
        return dumps(message)
    payload = message.get("payload")
    if not isinstance(payload, dict) or payload.keys() != {"data"} or len(message) != 3:
        return dumps(message)  # errors or extensions, or another shape: no shortcut
    data = payload["data"]
    cached = _serialized.get(id(data))
    if cached is None or cached[0] is not data:
        cached = (data, dumps(data))  # holding `data` keeps its id from being reused
        _serialized[id(data)] = cached
        if len(_serialized) > SERIALIZED_KEPT:
            _serialized.popitem(last=False)
    head = f'{{"id":{dumps(message["id"])},"type":"{message["type"]}"'
    return f'{head},"payload":{{"data":{cached[1]}}}}}'
