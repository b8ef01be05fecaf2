"""Profiles and identifiers as the contract shows them."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from cdp.identity import model
from graphql_schema.enums import Channel, IdentifierType, ProfileStatus


@strawberry.type
class Identifier:
    type: IdentifierType
    value: str
    verified: bool
    source: Channel
    linked_at: datetime

    @classmethod
    def from_domain(cls, identifier: model.Identifier) -> Identifier:
        return cls(
            type=identifier.type,
            value=identifier.value,
            verified=identifier.verified,
            source=identifier.source,
            linked_at=identifier.linked_at,
        )


@strawberry.type
class Profile:
    id: strawberry.ID
    status: ProfileStatus
    version: int
    merged_into: strawberry.ID | None
    merged_from: list[strawberry.ID]
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    postal_code: str | None
    birth_date: date | None
    identifiers: list[Identifier]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, profile: model.Profile) -> Profile:
        personal = profile.personal
        return cls(
            id=strawberry.ID(profile.id),
            status=profile.status,
            version=profile.version,
            merged_into=strawberry.ID(profile.merged_into) if profile.merged_into else None,
            merged_from=[strawberry.ID(i) for i in profile.merged_from],
            first_name=personal.first_name,
            last_name=personal.last_name,
            email=personal.email,
            phone=personal.phone,
            postal_code=personal.postal_code,
            birth_date=personal.birth_date,
            identifiers=[Identifier.from_domain(i) for i in profile.identifiers],
            created_at=profile.created_at,
            updated_at=profile.updated_at,
        )


@strawberry.input
class IdentifierInput:
    type: IdentifierType
    value: str
