"""POST /webhooks/{source}: hands the raw request to the inbound service."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cdp.runtime import Runtime
from cdp.webhooks.inbound import receive


async def inbound_webhook(request: Request) -> Response:
    rt: Runtime = request.app.state.runtime
    limit = rt.settings.webhook_max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return JSONResponse({"error": f"body over {limit} bytes"}, 413)
    outcome = await receive(
        rt,
        source_name=request.path_params["source"],
        headers={k.lower(): v for k, v in request.headers.items()},
        body=await request.body(),
    )
    return JSONResponse(outcome.body, outcome.status)
