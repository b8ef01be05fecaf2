"""Enrollment, matching, review and events as the contract shows them."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.scalars import JSON

from cdp.errors import BadInput
from cdp.events.service import EventResult as DomainEventResult
from cdp.identity.model import PersonalData
from cdp.identity.reviews import ReviewItem as DomainReviewItem
from graphql_schema.enums import Channel, EnrollmentMethod, MatchMethod, ReviewStatus
from graphql_schema.identifiers import IdentifierInput
from graphql_schema.loyalty import PageInfo
from resolvers.permissions import profile_field

if TYPE_CHECKING:
    from graphql_schema.profiles import Profile

LazyProfile = Annotated["Profile", strawberry.lazy("graphql_schema.profiles")]


@strawberry.type
class Enrollment:
    method: EnrollmentMethod
    channel: Channel
    enrolled_at: datetime | None
    profile_complete: bool
    missing_fields: list[str]


@strawberry.type
class ProfileMatch:
    profile: LazyProfile = profile_field()
    score: float
    method: MatchMethod
    matched_on: list[str]


@strawberry.type
class EnrollPayload:
    profile: LazyProfile = profile_field()
    created: bool
    match: ProfileMatch | None


async def _profiles_of(root: ReviewItem, info: strawberry.Info) -> list[Profile]:
    from graphql_schema.profiles import Profile

    found = await info.context.loaders.profile_by_id.load_many(list(root.profile_ids))
    return [Profile.from_domain(p) for p in found if p is not None]


@strawberry.type
class ReviewItem:
    id: strawberry.ID
    score: float
    reasons: list[str]
    status: ReviewStatus
    created_at: datetime
    resolved_at: datetime | None
    profile_ids: strawberry.Private[tuple[str, ...]]
    profiles: list[LazyProfile] = profile_field(resolver=_profiles_of)

    @classmethod
    def from_domain(cls, item: DomainReviewItem) -> ReviewItem:
        return cls(
            id=strawberry.ID(item.id),
            score=item.score,
            reasons=list(item.reasons),
            status=item.status,
            created_at=item.created_at,
            resolved_at=item.resolved_at,
            profile_ids=item.profile_ids,
        )


@strawberry.type
class ReviewEdge:
    cursor: str
    node: ReviewItem


@strawberry.type
class ReviewConnection:
    edges: list[ReviewEdge]
    page_info: PageInfo


@strawberry.type
class EventResult:
    event_id: str
    accepted: bool
    duplicate: bool
    profile_id: strawberry.ID | None
    error: str | None

    @classmethod
    def from_domain(cls, result: DomainEventResult) -> EventResult:
        return cls(
            event_id=result.event_id,
            accepted=result.accepted,
            duplicate=result.duplicate,
            profile_id=strawberry.ID(result.profile_id) if result.profile_id else None,
            error=result.error,
        )


@strawberry.type
class EventBatchResult:
    results: list[EventResult]


@strawberry.input
class ProfileInput:
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    postal_code: str | None = None
    birth_date: date | None = None
    attributes: JSON | None = None

    def to_domain(self) -> PersonalData:
        attributes: Any = self.attributes or {}
        if not isinstance(attributes, dict):
            raise BadInput("attributes must be a JSON object")
        return PersonalData(
            first_name=self.first_name,
            last_name=self.last_name,
            email=self.email,
            phone=self.phone,
            postal_code=self.postal_code,
            birth_date=self.birth_date,
            attributes=attributes,
        )

    def given(self) -> frozenset[str]:
        """The snake_case names of the fields the caller actually sent (not null)."""
        names = (
            "first_name",
            "last_name",
            "email",
            "phone",
            "postal_code",
            "birth_date",
            "attributes",
        )
        return frozenset(n for n in names if getattr(self, n) is not None)


@strawberry.input
class EnrollInput:
    channel: Channel
    profile: ProfileInput
    identifiers: list[IdentifierInput] | None = None


@strawberry.input
class AllocateCardInput:
    channel: Channel
    card_number: str | None = None
    identifiers: list[IdentifierInput] | None = None


@strawberry.input
class EventInput:
    event_id: str
    type: str
    channel: Channel
    identifiers: list[IdentifierInput]
    occurred_at: datetime | None = None
    properties: JSON | None = None
