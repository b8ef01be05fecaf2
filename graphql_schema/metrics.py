"""Request metrics for Prometheus: count and latency per route, GraphQL errors per code.

A plain ASGI middleware (no per-request Request object or task), labelled by the
route's template, never by the raw path: a path can hold ids, and ids would make one
series per customer.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter(
    "cdp_http_requests_total",
    "HTTP requests by route, method and status",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "cdp_http_request_seconds",
    "HTTP request latency by route",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
GRAPHQL_ERRORS = Counter("cdp_graphql_errors_total", "GraphQL errors by extensions.code", ["code"])
WEBSOCKETS = Counter("cdp_websocket_connections_total", "WebSocket connections opened", ["route"])


def route_of(path: str) -> str:
    """The route template a path belongs to; anything unknown is one `other` series."""
    if path.startswith("/webhooks/"):
        return "/webhooks/{source}"
    if path.startswith("/demo/"):
        return "/demo/{page}"
    if path in ("/graphql", "/healthz", "/readyz", "/metrics"):
        return path
    return "other"


class RequestMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            WEBSOCKETS.labels(route_of(scope["path"])).inc()
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: list[Any] = [500]  # what the count says if the app fails before answering

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = route_of(scope["path"])
            LATENCY.labels(route).observe(time.perf_counter() - started)
            REQUESTS.labels(route, scope["method"], str(status[0])).inc()
