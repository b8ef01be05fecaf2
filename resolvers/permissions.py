"""The permission checks: the one every resolver makes before it does anything, and the
guard on every field that reaches a profile's personal data."""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.extensions.field_extension import AsyncExtensionResolver, SyncExtensionResolver

from cdp.auth.model import Caller, Scope
from cdp.auth.service import authenticate
from cdp.errors import Forbidden, Unauthenticated
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


def profile_visibility(caller: Caller) -> tuple[bool, str | None]:
    """What of profiles a caller may see: every one (profiles:read), or a customer's own.
    Callers with the same visibility get the same result from a field guarded by
    ProfileAccess, so executions shared between subscribers are keyed by it."""
    if caller.allows(Scope.PROFILES_READ):
        return True, None
    return False, caller.customer_profile_id if caller.is_customer else None


class ProfileAccess(FieldExtension):
    """The guard on every field that returns a Profile (or a list of them): personal data,
    wherever in the schema it is reached from (a receipt, a match, a pushed update).

    A caller needs profiles:read, checked before the field resolves (so a mutation
    returning a Profile changes nothing for a caller who may not see it); a customer
    token sees its own profile only, checked on what the field resolved to. Every path
    to Profile is walked by tests/api/test_profile_access.py.
    """

    def resolve(self, next_: SyncExtensionResolver, source: Any, info: Info, **kwargs: Any) -> Any:
        # Plain fields (ProfileUpdate.profile) resolve under subscriptions, whose
        # connection authenticated before any operation ran.
        caller = info.context.caller
        if caller is None:
            raise Unauthenticated("an API key is required (Authorization: Bearer <key>)")
        _check_scope(caller)
        return _own_only(caller, next_(source, info, **kwargs))

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Info, **kwargs: Any
    ) -> Any:
        caller = await authenticated(info)
        _check_scope(caller)
        return _own_only(caller, await next_(source, info, **kwargs))


def _check_scope(caller: Caller) -> None:
    if not caller.is_customer and not caller.allows(Scope.PROFILES_READ):
        raise Forbidden(f"this caller lacks the {Scope.PROFILES_READ.value} scope")


def _own_only(caller: Caller, found: Any) -> Any:
    if caller.allows(Scope.PROFILES_READ):
        return found
    for profile in found if isinstance(found, list) else [found]:
        if profile is not None and str(profile.id) != caller.customer_profile_id:
            raise Forbidden("a customer token reads its own profile only")
    return found


def profile_field(**options: Any) -> Any:
    """`strawberry.field(...)` for a field returning Profile, guarded by ProfileAccess."""
    return strawberry.field(**options, extensions=[ProfileAccess()])
