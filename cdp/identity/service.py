"""Use cases on profiles and identifiers: create, link, look up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from cdp.channel import Channel
from cdp.enrollment.completion import apply_completion
from cdp.errors import Conflict, Forbidden, NotFound
from cdp.identity.limits import CREDENTIAL_SCOPE, CREDENTIAL_TYPES
from cdp.identity.link_repository import owner
from cdp.identity.model import (
    Identifier,
    IdentifierKey,
    IdentifierType,
    PersonalData,
    Profile,
    ProfileStatus,
)
from cdp.identity.normalize import normalize_identifier
from cdp.identity.profile_changes import save_profile

# Re-exported (where use cases and resolvers look profiles up): they live with the rest of
# the profile document's reads and writes.
from cdp.identity.profile_repository import find_profiles as find_profiles
from cdp.identity.profile_repository import get_profile as get_profile
from cdp.identity.profile_repository import get_profiles as get_profiles
from cdp.ids import new_id
from cdp.loyalty.posting import Posting
from cdp.runtime import Runtime
from cdp.store.port import Store, UniqueViolation
from cdp.store.unit_of_work import UnitOfWork
from cdp.updates import UpdateKind


@dataclass(frozen=True, slots=True)
class RawIdentifier:
    """An identifier as a caller sent it, before normalization."""

    type: IdentifierType
    value: str


def normalize(rt: Runtime, raw: RawIdentifier) -> IdentifierKey:
    return normalize_identifier(raw.type, raw.value, rt.settings.default_region)


async def create_profile(
    rt: Runtime,
    *,
    channel: Channel,
    personal: PersonalData | None = None,
    identifiers: Sequence[RawIdentifier] = (),
    status: ProfileStatus = ProfileStatus.ALLOCATED,
) -> Profile:
    """A new profile holding `identifiers`; CONFLICT (and nothing written) if one is taken."""
    keys = list(dict.fromkeys(normalize(rt, raw) for raw in identifiers))

    async def use_case(uow: UnitOfWork) -> Profile:
        return stage_new_profile(
            uow,
            now=rt.clock.now(),
            channel=channel,
            keys=keys,
            denylist=rt.settings.denylist,
            personal=personal,
            status=status,
        )

    try:
        return await rt.transaction(use_case)
    except UniqueViolation as exc:
        raise Conflict("an identifier is already linked to another profile") from exc


def new_profile(
    *,
    now: datetime,
    channel: Channel,
    keys: Sequence[IdentifierKey],
    personal: PersonalData | None = None,
    status: ProfileStatus = ProfileStatus.ALLOCATED,
) -> Profile:
    """The first version of a profile holding `keys`; nothing is staged yet."""
    return Profile(
        id=new_id("p"),
        version=1,
        status=status,
        personal=personal or PersonalData(),
        identifiers=tuple(Identifier(k.type, k.value, False, channel, now) for k in keys),
        created_at=now,
        updated_at=now,
    )


def stage_new_profile(
    uow: UnitOfWork,
    *,
    now: datetime,
    channel: Channel,
    keys: Sequence[IdentifierKey],
    denylist: frozenset[str],
    personal: PersonalData | None = None,
    status: ProfileStatus = ProfileStatus.ALLOCATED,
) -> Profile:
    """Stage a new profile and its identifier links in `uow` (unique keys checked at commit)."""
    profile = new_profile(now=now, channel=channel, keys=keys, personal=personal, status=status)
    return save_profile(
        uow,
        before=None,
        after=profile,
        posting=None,
        kind=UpdateKind.PROFILE_CHANGED,
        new_keys=keys,
        denylist=denylist,
    )


async def link_identifier(
    rt: Runtime,
    *,
    profile_id: str,
    identifier: RawIdentifier,
    verified: bool,
    channel: Channel,
    may_link_credentials: bool = False,
) -> Profile:
    """Attach an identifier; relinking one the profile holds only updates `verified`.

    A linked email or phone fills the profile's empty field, which may complete the
    required fields and enroll an ALLOCATED profile on the spot. Linking or verifying a
    credential-grade identifier (cdp/identity/limits.py) needs `may_link_credentials`.
    """
    key = normalize(rt, identifier)
    if key.type in CREDENTIAL_TYPES and not may_link_credentials:
        raise Forbidden(f"linking or verifying {key.type.value} needs the {CREDENTIAL_SCOPE} scope")

    async def use_case(uow: UnitOfWork) -> Profile:
        profile = await live_profile(uow.store, profile_id)
        held_by = await owner(uow.store, key)
        if held_by is not None and held_by != profile.id:
            raise Conflict(f"this {key.type.value} is already linked to another profile")
        held = next((i for i in profile.identifiers if i.key == key.key), None)
        if held is not None and (held.verified or not verified):
            return profile
        now = rt.clock.now()
        linked = Identifier(key.type, key.value, verified, channel, now)
        kept = tuple(i for i in profile.identifiers if i.key != key.key)
        after = replace(
            profile,
            identifiers=(*kept, linked if held is None else _verify(held)),
            personal=_with_contact(profile.personal, key),
        )
        return save_change(
            uow,
            rt,
            before=profile,
            after=after,
            new_keys=[key] if held_by is None else [],
            channel=channel,
            kind=UpdateKind.IDENTIFIER_LINKED,
        )

    try:
        return await rt.transaction(use_case)
    except UniqueViolation as exc:
        raise Conflict(f"this {key.type.value} is already linked to another profile") from exc


def _with_contact(personal: PersonalData, key: IdentifierKey) -> PersonalData:
    if key.type is IdentifierType.EMAIL and not personal.email:
        return replace(personal, email=key.value)
    if key.type is IdentifierType.PHONE and not personal.phone:
        return replace(personal, phone=key.value)
    return personal


def save_change(
    uow: UnitOfWork,
    rt: Runtime,
    *,
    before: Profile | None,
    after: Profile,
    new_keys: Sequence[IdentifierKey],
    channel: Channel,
    kind: UpdateKind,
    enrolling: bool = False,
) -> Profile:
    """Stage a change to a profile the one way every path does: completion applied, so a
    change that completes the required fields enrolls an ALLOCATED member and grants the
    bonuses that are due, whichever channel made it. A change that changes nothing saves
    nothing. `before` is None for a new profile; `enrolling` when the act is enrollment.
    """
    posting = Posting(after.id, after.loyalty, rt.program, rt.clock.now(), channel)
    after, newly_enrolled = apply_completion(
        after,
        posting,
        program=rt.program,
        required=rt.settings.required_fields,
        channel=channel,
        enrolling=enrolling,
    )
    if before is not None and after == before and not posting.entries:
        return before
    return save_profile(
        uow,
        before=before,
        after=after,
        posting=posting,
        kind=UpdateKind.ENROLLED if newly_enrolled else kind,
        new_keys=new_keys,
        denylist=rt.settings.denylist,
    )


def _verify(identifier: Identifier) -> Identifier:
    return Identifier(
        identifier.type, identifier.value, True, identifier.source, identifier.linked_at
    )


async def live_profile(store: Store, profile_id: str) -> Profile:
    """The profile (or its survivor) that can still change; NOT_FOUND otherwise."""
    profile = await get_profile(store, profile_id)
    if profile is None or profile.status is ProfileStatus.FORGOTTEN:
        raise NotFound(f"profile {profile_id} not found")
    return profile
