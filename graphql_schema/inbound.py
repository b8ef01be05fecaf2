"""POST /webhooks/{source}: hands the raw request to the inbound service."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from cdp.runtime import Runtime
from cdp.webhooks.inbound import receive


async def _body_within(request: Request, limit: int) -> bytes | None:
    """The raw body, or None as soon as it grows past `limit` (never held in full)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def inbound_webhook(request: Request) -> Response:
    rt: Runtime = request.app.state.runtime
    outcome = await receive(
        rt,
        source_name=request.path_params["source"],
        headers={k.lower(): v for k, v in request.headers.items()},
        body=await _body_within(request, rt.settings.webhook_max_body_bytes),
    )
    return JSONResponse(outcome.body, outcome.status)
