"""API key administration."""

from __future__ import annotations

import strawberry

from cdp.auth import service
from cdp.auth.model import Scope
from graphql_schema.auth import ApiKeyCreated
from resolvers.context import Info
from resolvers.inputs import capped
from resolvers.permissions import require


async def create_api_key(info: Info, name: str, scopes: list[str]) -> ApiKeyCreated:
    caller = await require(info, Scope.KEYS_ADMIN)
    capped("scopes", scopes)
    api_key, plain = await service.create_api_key(
        info.context.runtime, name=name, scopes=scopes, granted_by=caller
    )
    return ApiKeyCreated.from_domain(api_key, plain)


async def revoke_api_key(info: Info, id: strawberry.ID) -> bool:
    await require(info, Scope.KEYS_ADMIN)
    return await service.revoke_api_key(info.context.runtime, key_id=str(id))
