"""The ASGI application: GraphQL over HTTP and WebSocket, plus the operations endpoints."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError

from cdp.auth.service import authenticate
from cdp.bootstrap import build_runtime, start_runtime, stop_runtime
from cdp.errors import DomainError
from cdp.loyalty.jobs import job_loop
from cdp.runtime import Runtime
from cdp.settings import Settings, load_settings
from cdp.webhooks.dispatcher import dispatch_loop
from graphql_schema.inbound import inbound_webhook
from graphql_schema.ops import health, metrics, ready
from graphql_schema.schema import build_schema
from resolvers.context import Context, build_context

MAX_SUBSCRIPTIONS_PER_CONNECTION = 20


def bearer_from_params(params: dict[str, object] | None) -> str | None:
    """The key from connection_init: {"Authorization": "Bearer <key>"} (or apiKey / token)."""
    if not params:
        return None
    for name in ("Authorization", "authorization"):
        value = params.get(name)
        if isinstance(value, str):
            scheme, _, token = value.partition(" ")
            return token.strip() if scheme.lower() == "bearer" else value.strip()
    for name in ("apiKey", "token"):
        value = params.get(name)
        if isinstance(value, str):
            return value.strip()
    return None


class GraphQLView(GraphQL[Context, None]):
    def __init__(self, schema: strawberry.Schema, runtime: Runtime) -> None:
        super().__init__(
            schema,
            graphql_ide=None if runtime.settings.production else "graphiql",
            max_subscriptions_per_connection=MAX_SUBSCRIPTIONS_PER_CONNECTION,
        )
        self.runtime = runtime

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return build_context(self.runtime, request, response)

    async def on_ws_connect(self, context: Context) -> None:
        """Authenticate once per WebSocket, from the connection_init payload."""
        try:
            context.caller = await authenticate(
                self.runtime, bearer_from_params(context.connection_params)
            )
        except DomainError as exc:
            raise ConnectionRejectionError({"code": exc.code, "message": exc.message}) from exc


def background_tasks(rt: Runtime) -> list[asyncio.Task[None]]:
    """The loyalty jobs and the webhook dispatcher, each unless its interval is 0."""
    settings = rt.settings
    tasks = []
    if settings.jobs_interval_seconds:
        tasks.append(asyncio.create_task(job_loop(rt, settings.jobs_interval_seconds)))
    if settings.dispatch_interval_seconds:
        tasks.append(asyncio.create_task(dispatch_loop(rt, settings.dispatch_interval_seconds)))
    return tasks


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Starlette:
    """The app; `runtime` lets tests share one with their own fixtures."""
    settings = settings or (runtime.settings if runtime else load_settings())
    rt = runtime or build_runtime(settings)
    owns_runtime = runtime is None
    view = GraphQLView(build_schema(settings), rt)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if owns_runtime:
            await start_runtime(rt)
        tasks = background_tasks(rt)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if owns_runtime:
                await stop_runtime(rt)

    app = Starlette(
        routes=[
            Route("/graphql", view, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", view),
            Route("/healthz", health),
            Route("/readyz", ready),
            Route("/metrics", metrics),
            Route("/webhooks/{source}", inbound_webhook, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
    app.state.runtime = rt
    return app
