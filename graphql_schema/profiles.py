"""Profiles and identifiers as the contract shows them."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from cdp.identity import model
from graphql_schema.enums import ProfileStatus
from graphql_schema.identifiers import Identifier
from graphql_schema.identity import Enrollment
from graphql_schema.loyalty import LedgerConnection, LoyaltyAccount, RedemptionConnection, Reward
from resolvers import identity as identity_fields
from resolvers import loyalty as loyalty_fields


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
    enrollment: Enrollment | None = strawberry.field(resolver=identity_fields.enrollment_of)
    loyalty: LoyaltyAccount = strawberry.field(resolver=loyalty_fields.loyalty)
    available_rewards: list[Reward] = strawberry.field(resolver=loyalty_fields.available_rewards)
    history: LedgerConnection = strawberry.field(resolver=loyalty_fields.history)
    redemptions: RedemptionConnection = strawberry.field(resolver=loyalty_fields.redemptions)
    domain: strawberry.Private[model.Profile]

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
            domain=profile,
        )
