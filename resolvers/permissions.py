"""The one permission check every resolver makes before it does anything."""

from __future__ import annotations

import asyncio

from cdp.auth.model import Caller, Scope
from cdp.auth.service import authenticate
from cdp.errors import Forbidden
from resolvers.context import Info


async def authenticated(info: Info) -> Caller:
    """Whoever is calling (API key or customer token); UNAUTHENTICATED when nobody valid."""
    context = info.context
    if context.caller is None:
        # Root fields resolve concurrently: one shared lookup lets them all resume in the
        # same turn, so their DataLoader calls still land in one batch.
        if context.pending_caller is None:
            context.pending_caller = asyncio.ensure_future(
                authenticate(context.runtime, context.bearer)
            )
        context.caller = await context.pending_caller
    return context.caller


async def require(info: Info, scope: Scope) -> Caller:
    """The caller, if it holds `scope`; UNAUTHENTICATED or FORBIDDEN otherwise."""
    caller = await authenticated(info)
    if not caller.allows(scope):
        raise Forbidden(f"this caller lacks the {scope.value} scope")
    return caller
