"""recordEvents: each event once (idempotent per channel and eventId), its identifiers
stitched to one profile.

Identifiers seen together in one event (a cookie and an email at login, a device and an
app user id) belong to one person: unknown ones are linked to the known profile; two
known profiles are merged. Merge protection holds for both: a merge it forbids sends the
pair to review, and unknown identifiers it forbids linking start a profile of their own,
paired with the known one in a review item. Every event is accepted or refused on its
own: one bad event does not sink the batch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cdp.channel import Channel
from cdp.clock import to_iso
from cdp.enrollment.service import with_identifiers
from cdp.errors import BadInput, DomainError
from cdp.identity.limits import (
    MergeBlocked,
    check_credential_link,
    check_credential_merge,
    check_limits,
)
from cdp.identity.link_repository import owners
from cdp.identity.merge import stage_merge
from cdp.identity.model import IdentifierKey, Profile
from cdp.identity.resolution import deterministic, match_keys_of
from cdp.identity.reviews import stage_review
from cdp.identity.service import RawIdentifier, normalize, save_change, stage_new_profile
from cdp.loyalty.accrual import check_moment
from cdp.loyalty.common import checked_key, fingerprint, replay_allowed
from cdp.runtime import Runtime
from cdp.store.catalogue import EVENTS, IDENTIFIERS, MERGES, REVIEWS
from cdp.store.unit_of_work import UnitOfWork
from cdp.text import require_plain_value
from cdp.updates import UpdateKind

MAX_EVENTS = 100
MAX_IDENTIFIERS = 20
MAX_PROPERTIES_BYTES = 16_384
RACED = frozenset({EVENTS, IDENTIFIERS, REVIEWS, MERGES})
REUSED = "eventId was already used for another request"


@dataclass(frozen=True, slots=True)
class Event:
    event_id: str
    type: str
    channel: Channel
    identifiers: Sequence[RawIdentifier]
    occurred_at: datetime | None = None
    properties: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class EventResult:
    event_id: str
    accepted: bool
    duplicate: bool
    profile_id: str | None = None
    error: str | None = None


async def record_events(
    rt: Runtime, events: Sequence[Event], *, actor: str, may_link_credentials: bool = False
) -> list[EventResult]:
    """Without `may_link_credentials` (identity:admin), an event never brings a
    credential-grade identifier to a profile that did not hold it (cdp/identity/limits.py):
    such a link or merge goes to review."""
    if len(events) > MAX_EVENTS:
        raise BadInput(f"events takes at most {MAX_EVENTS} items")
    return [await _record_one(rt, event, actor, may_link_credentials) for event in events]


def _checked(rt: Runtime, event: Event) -> tuple[str, list[IdentifierKey]]:
    event_id = checked_key("eventId", event.event_id)
    if not 0 < len(event.type.strip()) <= 100:
        raise BadInput("type must be 1 to 100 characters")
    if not 0 < len(event.identifiers) <= MAX_IDENTIFIERS:
        raise BadInput(f"an event carries 1 to {MAX_IDENTIFIERS} identifiers")
    require_plain_value("properties", event.properties)
    if len(json.dumps(event.properties or {}, default=str)) > MAX_PROPERTIES_BYTES:
        raise BadInput(f"properties must be at most {MAX_PROPERTIES_BYTES} bytes of JSON")
    check_moment(rt.program, event.occurred_at, rt.clock.now())
    keys = list(dict.fromkeys(normalize(rt, raw) for raw in event.identifiers))
    return event_id, keys


async def _record_one(
    rt: Runtime, event: Event, actor: str, may_link_credentials: bool
) -> EventResult:
    try:
        event_id, keys = _checked(rt, event)
    except DomainError as exc:
        return EventResult(event.event_id, False, False, error=exc.message)
    event_key = f"{event.channel.value}:{event_id}"
    # Who and what: a replay naming other identifiers is another event, not a retry, and
    # must not learn which profile the first one reached.
    request = fingerprint([event.type.strip(), sorted(k.key for k in keys)])

    async def use_case(uow: UnitOfWork) -> EventResult:
        stored = await uow.get(EVENTS, event_key)
        if stored is not None:
            same = stored.get("fingerprint", request) == request
            if not same or not replay_allowed(stored.get("actor"), actor):
                return EventResult(event_id, False, False, error=REUSED)
            return EventResult(event_id, True, True, stored["profile_id"])
        now = rt.clock.now()
        profile = await _stitch(uow, rt, keys, event.channel, actor, now, may_link_credentials)
        uow.insert(
            EVENTS,
            {
                "id": event_key,
                "profile_id": profile.id if profile else None,
                "type": event.type.strip(),
                "channel": event.channel.value,
                "occurred_at": to_iso(event.occurred_at or now),
                "received_at": to_iso(now),
                "properties": event.properties or {},
                "fingerprint": request,
                "actor": actor,
            },
        )
        return EventResult(event_id, True, False, profile.id if profile else None)

    try:
        return await rt.transaction(use_case, rerun_on=RACED)
    except DomainError as exc:
        return EventResult(event_id, False, False, error=exc.message)


async def _stitch(
    uow: UnitOfWork,
    rt: Runtime,
    keys: list[IdentifierKey],
    channel: Channel,
    actor: str,
    now: datetime,
    may_link_credentials: bool,
) -> Profile | None:
    found = await deterministic(uow.store, keys, rt.settings.denylist)
    if not found and not match_keys_of(keys, rt.settings.denylist):
        return None  # only placeholders: they identify nobody
    if not found:
        return stage_new_profile(
            uow, now=now, channel=channel, keys=keys, denylist=rt.settings.denylist
        )
    owner = found[0].profile
    for other in found[1:]:
        try:
            if not may_link_credentials:
                check_credential_merge(owner, other.profile)
            owner = await stage_merge(
                uow,
                rt,
                survivor=owner,
                merged=other.profile,
                reason="identifiers seen together in one event",
                actor=actor,
                now=now,
            )
        except MergeBlocked as blocked:
            await stage_review(
                uow,
                profile_ids=[owner.id, other.profile.id],
                score=1.0,
                reasons=[f"seen together in one event; {blocked.message}"],
                at=now,
            )
    held_by = await owners(uow.store, keys)
    free = [k for k, profile_id in zip(keys, held_by, strict=True) if profile_id is None]
    after, fresh = with_identifiers(owner, free, channel, now)
    if not fresh:
        return owner
    try:
        check_limits(owner, after, rt.settings)
        if not may_link_credentials:
            check_credential_link(owner, after)
    except MergeBlocked as blocked:
        # Linking them would break the same limits a merge keeps: they start a profile of
        # their own, and the pair goes to review (merge-first, never reject).
        apart = stage_new_profile(
            uow, now=now, channel=channel, keys=fresh, denylist=rt.settings.denylist
        )
        await stage_review(
            uow,
            profile_ids=[owner.id, apart.id],
            score=1.0,
            reasons=[f"seen together in one event; {blocked.message}"],
            at=now,
        )
        return owner
    return save_change(
        uow,
        rt,
        before=owner,
        after=after,
        new_keys=fresh,
        channel=channel,
        kind=UpdateKind.IDENTIFIER_LINKED,
    )
