"""Operations endpoints: liveness, readiness, metrics."""

from __future__ import annotations

import hmac

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cdp.broker.port import BrokerUnavailable
from cdp.runtime import Runtime
from cdp.store.port import StoreUnavailable
from graphql_schema.gate import bearer_of
from graphql_schema.refusals import refused


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def ready(request: Request) -> Response:
    """200 when the store answers; the broker being down degrades pushes, not readiness."""
    rt: Runtime = request.app.state.runtime
    checks: dict[str, str] = {}
    try:
        await rt.store.ping()
        checks["store"] = "ok"
    except StoreUnavailable:
        checks["store"] = "unavailable"
    try:
        await rt.broker.ping()
        checks["broker"] = "ok"
    except BrokerUnavailable:
        checks["broker"] = "degraded"
    status = 200 if checks["store"] == "ok" else 503
    return JSONResponse({"status": "ready" if status == 200 else "unavailable", **checks}, status)


async def metrics(request: Request) -> Response:
    """Prometheus text, for the bearer of CDP_METRICS_TOKEN when one is set. Production
    without a token refuses everyone: the figures say how the service is used."""
    settings = request.app.state.runtime.settings
    token: str | None = settings.metrics_token
    if token is None and settings.production:
        return refused(403, "/metrics needs CDP_METRICS_TOKEN in production")
    if token is not None:
        given = (bearer_of(request.scope) or "").encode()
        if not hmac.compare_digest(given, token.encode()):
            return refused(401, "/metrics needs the metrics token", {"WWW-Authenticate": "Bearer"})
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
