"""Enrollment, matching, merges, review, stitching events, privacy."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, cast

import strawberry
from strawberry.scalars import JSON

from cdp.auth.model import Scope
from cdp.enrollment import service as enrollment
from cdp.enrollment.completion import completion_fields, missing
from cdp.events.service import Event
from cdp.events.service import record_events as record
from cdp.identity import merge, privacy
from cdp.identity import review_queue as reviews
from cdp.identity.model import PersonalData
from cdp.identity.resolution import Match
from cdp.identity.search import search_profiles as search
from cdp.identity.service import RawIdentifier
from graphql_schema.enums import ReviewDecision, ReviewStatus
from graphql_schema.identifiers import IdentifierInput
from graphql_schema.identity import (
    AllocateCardInput,
    EnrollInput,
    Enrollment,
    EnrollPayload,
    EventBatchResult,
    EventInput,
    EventResult,
    ProfileInput,
    ProfileMatch,
    ReviewConnection,
    ReviewEdge,
    ReviewItem,
)
from graphql_schema.loyalty import PageInfo
from resolvers.context import Info
from resolvers.inputs import capped
from resolvers.permissions import require

if TYPE_CHECKING:
    from graphql_schema.profiles import Profile


def _profile(found: Any) -> Profile:
    from graphql_schema.profiles import Profile

    return Profile.from_domain(found)


def _raw(identifiers: list[IdentifierInput] | None) -> list[RawIdentifier]:
    capped("identifiers", identifiers or [])
    return [RawIdentifier(i.type, i.value) for i in identifiers or []]


def _match(match: Match | None) -> ProfileMatch | None:
    if match is None:
        return None
    return ProfileMatch(
        profile=_profile(match.profile),
        score=match.score,
        method=match.method,
        matched_on=list(match.matched_on),
    )


# -- Profile field -------------------------------------------------------------------------


async def enrollment_of(root: Profile, info: Info) -> Enrollment | None:
    profile = root.domain
    if profile.enrollment is None:
        return None
    gaps = missing(
        profile.personal, completion_fields(info.context.runtime.settings.required_fields)
    )
    return Enrollment(
        method=profile.enrollment.method,
        channel=profile.enrollment.channel,
        enrolled_at=profile.enrollment.enrolled_at,
        profile_complete=not gaps,
        missing_fields=gaps,
    )


# -- Query ---------------------------------------------------------------------------------


async def search_profiles(
    info: Info,
    email: str | None = None,
    phone: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    postal_code: str | None = None,
    birth_date: date | None = None,
    limit: int | None = 5,
) -> list[ProfileMatch]:
    await require(info, Scope.PROFILES_READ)
    details = PersonalData(
        first_name=first_name,
        last_name=last_name,
        email=email,
        phone=phone,
        postal_code=postal_code,
        birth_date=birth_date,
    )
    found = await search(info.context.runtime, details=details, limit=5 if limit is None else limit)
    return [m for m in map(_match, found) if m is not None]


async def review_queue(
    info: Info,
    status: ReviewStatus | None = ReviewStatus.OPEN,
    first: int | None = 20,
    after: str | None = None,
) -> ReviewConnection:
    await require(info, Scope.IDENTITY_ADMIN)
    page = await reviews.review_queue(
        info.context.runtime.store, status=status or ReviewStatus.OPEN, first=first, after=after
    )
    return ReviewConnection(
        edges=[ReviewEdge(cursor=c, node=ReviewItem.from_domain(i)) for c, i in page.items],
        page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
    )


async def export_profile(info: Info, id: strawberry.ID) -> JSON:
    await require(info, Scope.IDENTITY_ADMIN)
    exported = await privacy.export_profile(info.context.runtime, profile_id=str(id))
    return cast(JSON, exported)


# -- Mutation ------------------------------------------------------------------------------


async def enroll(info: Info, input: EnrollInput) -> EnrollPayload:
    caller = await require(info, Scope.PROFILES_WRITE)
    result = await enrollment.enroll(
        info.context.runtime,
        channel=input.channel,
        personal=input.profile.to_domain(),
        identifiers=_raw(input.identifiers),
        may_link_credentials=caller.allows(Scope.IDENTITY_ADMIN),
    )
    return EnrollPayload(
        profile=_profile(result.profile), created=result.created, match=_match(result.match)
    )


async def allocate_card(info: Info, input: AllocateCardInput) -> Profile:
    caller = await require(info, Scope.PROFILES_WRITE)
    profile = await enrollment.allocate_card(
        info.context.runtime,
        channel=input.channel,
        card_number=input.card_number,
        identifiers=_raw(input.identifiers),
        may_link_credentials=caller.allows(Scope.IDENTITY_ADMIN),
    )
    return _profile(profile)


async def update_profile(info: Info, id: strawberry.ID, input: ProfileInput) -> Profile:
    caller = await require(info, Scope.PROFILES_WRITE)
    profile = await enrollment.update_profile(
        info.context.runtime,
        profile_id=str(id),
        changes=input.to_domain(),
        given=input.given(),
        channel=caller.channel,
    )
    return _profile(profile)


async def record_events(info: Info, events: list[EventInput]) -> EventBatchResult:
    caller = await require(info, Scope.EVENTS_WRITE)
    capped("events", events)
    results = await record(
        info.context.runtime,
        [
            Event(
                event_id=e.event_id,
                type=e.type,
                channel=e.channel,
                identifiers=_raw(e.identifiers),
                occurred_at=e.occurred_at,
                properties=e.properties if isinstance(e.properties, dict) else None,
            )
            for e in events
        ],
        actor=caller.key_id,
        may_link_credentials=caller.allows(Scope.IDENTITY_ADMIN),
    )
    return EventBatchResult(results=[EventResult.from_domain(r) for r in results])


async def merge_profiles(
    info: Info, survivor_id: strawberry.ID, merged_id: strawberry.ID, reason: str | None = None
) -> Profile:
    caller = await require(info, Scope.IDENTITY_ADMIN)
    survivor = await merge.merge_profiles(
        info.context.runtime,
        survivor_id=str(survivor_id),
        merged_id=str(merged_id),
        reason=reason,
        actor=caller.key_id,
    )
    return _profile(survivor)


async def unmerge_profile(info: Info, merged_id: strawberry.ID, reason: str) -> Profile:
    caller = await require(info, Scope.IDENTITY_ADMIN)
    restored = await merge.unmerge_profile(
        info.context.runtime, merged_id=str(merged_id), reason=reason, actor=caller.key_id
    )
    return _profile(restored)


async def resolve_review(info: Info, id: strawberry.ID, decision: ReviewDecision) -> ReviewItem:
    caller = await require(info, Scope.IDENTITY_ADMIN)
    item = await reviews.resolve_review(
        info.context.runtime, review_id=str(id), decision=decision, actor=caller.key_id
    )
    return ReviewItem.from_domain(item)


async def forget_profile(info: Info, id: strawberry.ID) -> Profile:
    caller = await require(info, Scope.IDENTITY_ADMIN)
    forgotten = await privacy.forget_profile(
        info.context.runtime, profile_id=str(id), actor=caller.key_id
    )
    return _profile(forgotten)
