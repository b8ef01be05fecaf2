"""Profile lookups and identifier links."""

from __future__ import annotations

import strawberry

from cdp.auth.model import Scope
from cdp.errors import BadInput
from cdp.identity import service
from cdp.identity.service import RawIdentifier
from graphql_schema.identifiers import IdentifierInput
from graphql_schema.profiles import Profile
from resolvers.context import Info
from resolvers.inputs import capped
from resolvers.permissions import require


def raw_identifier(identifier: IdentifierInput) -> RawIdentifier:
    return RawIdentifier(identifier.type, identifier.value)


async def profile(
    info: Info,
    id: strawberry.ID | None = None,
    identifier: IdentifierInput | None = None,
) -> Profile | None:
    await require(info, Scope.PROFILES_READ)
    loaders = info.context.loaders
    if (id is None) == (identifier is None):
        raise BadInput("give exactly one of id or identifier")
    if id is not None:
        found = await loaders.profile_by_id.load(str(id))
    else:
        assert identifier is not None
        key = service.normalize(info.context.runtime, raw_identifier(identifier))
        found = await loaders.profile_by_identifier.load(key)
    return Profile.from_domain(found) if found else None


async def profiles(info: Info, ids: list[strawberry.ID]) -> list[Profile | None]:
    await require(info, Scope.PROFILES_READ)
    capped("ids", ids)
    found = await info.context.loaders.profile_by_id.load_many([str(i) for i in ids])
    return [Profile.from_domain(p) if p else None for p in found]


async def link_identifier(
    info: Info,
    profile_id: strawberry.ID,
    identifier: IdentifierInput,
    verified: bool | None = False,
) -> Profile:
    caller = await require(info, Scope.PROFILES_WRITE)
    linked = await service.link_identifier(
        info.context.runtime,
        profile_id=str(profile_id),
        identifier=raw_identifier(identifier),
        verified=bool(verified),
        channel=caller.channel,
        may_link_credentials=caller.allows(Scope.IDENTITY_ADMIN),
    )
    return Profile.from_domain(linked)
