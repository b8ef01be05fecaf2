"""Answers for requests refused before any GraphQL runs (malformed body, too large, too
many): a GraphQL-shaped error with the contract's `extensions.code`, so a client reads
every refusal the same way, whichever layer made it."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import JSONResponse

from cdp.ratelimit import Refusal

# The contract's code for each HTTP status a refusal can carry.
CODE_OF_STATUS = {
    400: "BAD_USER_INPUT",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "BAD_USER_INPUT",
    413: "BAD_USER_INPUT",
    415: "BAD_USER_INPUT",
    429: "RATE_LIMITED",
}


def refusal_body(status: int, message: str) -> dict[str, object]:
    code = CODE_OF_STATUS.get(status, "BAD_USER_INPUT")
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def refused(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(refusal_body(status, message), status, headers)


def rate_limited(refusal: Refusal) -> JSONResponse:
    """429 with Retry-After: when the window lets the next request through."""
    return refused(429, refusal.message, {"Retry-After": str(refusal.retry_after)})
