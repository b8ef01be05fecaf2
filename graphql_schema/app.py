"""The ASGI application: GraphQL over HTTP and WebSocket, plus the operations endpoints."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, cast

import strawberry
from cross_web import HTTPException  # what Strawberry raises for a refused request
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UNSET, UnsetType

from cdp.auth.service import authenticate
from cdp.bootstrap import build_rate_limits, build_runtime, start_runtime, stop_runtime
from cdp.errors import DomainError, RateLimited, Unauthenticated
from cdp.json_text import loads
from cdp.loyalty.jobs import job_loop
from cdp.ratelimit import RateLimits
from cdp.realtime.connections import ConnectionLimiter
from cdp.runtime import Runtime
from cdp.settings import Settings, load_settings
from cdp.webhooks.dispatcher import dispatch_loop
from graphql_schema.gate import RequestGate, client_address
from graphql_schema.graphiql import graphiql_assets, offline_graphiql_page
from graphql_schema.inbound import inbound_webhook
from graphql_schema.metrics import RequestMetrics
from graphql_schema.ops import health, metrics, ready
from graphql_schema.pages import demo_routes
from graphql_schema.refusals import refused
from graphql_schema.schema import build_schema
from graphql_schema.websocket import LegacyWSHandler, TransportWSHandler, encode_message
from graphql_schema.ws_auth import CredentialWatch
from resolvers.context import Context, build_context


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
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def __init__(
        self, schema: strawberry.Schema, runtime: Runtime, rate_limits: RateLimits
    ) -> None:
        settings = runtime.settings
        super().__init__(
            schema,
            graphql_ide=None if settings.production else "graphiql",
            max_subscriptions_per_connection=settings.ws_max_subscriptions_per_connection,
        )
        self.runtime = runtime
        self.rate_limits = rate_limits
        self.connections = ConnectionLimiter(settings.ws_max_connections_per_key)
        self.credentials = CredentialWatch(runtime)
        # Development only (production serves no IDE): the admin key fills its headers.
        admin = settings.admin_key
        self.graphiql_page = (
            ""
            if settings.production
            else offline_graphiql_page({"Authorization": f"Bearer {admin}"} if admin else None)
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self.graphiql_page)

    # Strawberry declares `run` as two overloads (HTTP, WebSocket) over one implementation
    # with this signature; mypy cannot match one override to both, hence the ignores.
    async def run(  # type: ignore[override]
        self,
        request: Request | WebSocket,
        context: Context | UnsetType = UNSET,
        root_value: UnsetType | None = UNSET,
    ) -> Response | WebSocket:
        try:
            return await super().run(request, context, root_value)  # type: ignore[arg-type]
        finally:
            if isinstance(request, WebSocket):
                self.connections.release(request)
                self.credentials.forget(request)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Strawberry's, with its refusals (malformed body, subscription over POST, ...) as
        coded JSON errors rather than plain text."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = cast(Response, await self.run(Request(scope, receive)))
        except HTTPException as exc:
            response = refused(exc.status_code, exc.reason)
        await response(scope, receive, send)

    def parse_json(self, data: str | bytes) -> Any:
        """The body (or a GET's variables): JSON, and an object, as GraphQL over HTTP asks."""
        parsed = super().parse_json(data)
        if not isinstance(parsed, dict):
            raise HTTPException(400, "expected a JSON object")
        return parsed

    def encode_json(self, data: object) -> str:
        return encode_message(data)

    def decode_json(self, data: str | bytes) -> object:
        return loads(data)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        context = build_context(self.runtime, request, response)
        if not isinstance(request, WebSocket):
            # The caller lookup the first resolver would start as a task, done here in
            # line: no task and no extra turns of the loop per request. Its outcome,
            # error included, is what every resolver that asks gets, as before.
            try:
                context.caller = await authenticate(self.runtime, context.bearer)
            except Exception as exc:
                await self._count_failure(request, context.bearer, exc)
                context.pending_caller = failed(exc)
        return context

    async def _count_failure(
        self, request: Request | WebSocket, credential: str | None, exc: Exception
    ) -> None:
        """A wrong credential counts against its address (a missing one is no guess)."""
        if credential and isinstance(exc, Unauthenticated):
            await self.rate_limits.failed_authentication(client_address(request.scope))

    async def on_ws_connect(self, context: Context) -> None:
        """Authenticate a WebSocket from its connection_init payload; it is then held to
        that credential for as long as it is open (graphql_schema/ws_auth.py)."""
        socket = context.request
        assert isinstance(socket, WebSocket)
        token = bearer_from_params(context.connection_params)
        try:
            try:
                caller = await authenticate(self.runtime, token)
            except Unauthenticated as exc:
                await self._count_failure(socket, token, exc)
                raise
            if not self.connections.acquire(socket, caller.key_id):
                cap = self.connections.cap
                raise RateLimited(f"this key already holds {cap} WebSocket connections")
        except DomainError as exc:
            raise ConnectionRejectionError({"code": exc.code, "message": exc.message}) from exc
        assert token is not None, "authenticate refuses a missing credential"
        context.caller = caller
        context.bearer = token  # what its operations count against
        self.credentials.watch(socket, token, caller)
        context.still_allowed = partial(self.credentials.still_allowed, socket)


def failed(exc: Exception) -> asyncio.Future[Any]:
    """A done future raising `exc` when awaited (and not reported if nobody does)."""
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    future.set_exception(exc)
    future.exception()  # marks it retrieved; awaiting the future still raises it
    return future


def freeze_startup_objects() -> None:
    """Keep what start-up built (modules, the schema, settings: ~100k objects that live
    as long as the process) out of the cyclic GC's full passes. Each pass walked all of
    it, tens of milliseconds every few hundred requests: most of a lookup's p99."""
    gc.collect()
    gc.freeze()


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
    rate_limits = build_rate_limits(settings)
    view = GraphQLView(build_schema(settings), rt, rate_limits)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if owns_runtime:
            await start_runtime(rt)
            freeze_startup_objects()
        tasks = background_tasks(rt)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await rate_limits.close()
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
            *([] if settings.production else [*demo_routes(), graphiql_assets()]),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(RequestGate, rate_limits=rate_limits, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(RequestMetrics)  # outermost: refusals are counted too
    app.state.runtime = rt
    return app
