"""Use cases on profiles and identifiers: create, link, look up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cdp.channel import Channel
from cdp.errors import Conflict, NotFound
from cdp.identity.model import (
    Identifier,
    IdentifierKey,
    IdentifierType,
    PersonalData,
    Profile,
    ProfileStatus,
    identifier_link_doc,
)
from cdp.identity.normalize import normalize_identifier
from cdp.ids import new_id
from cdp.runtime import Runtime
from cdp.store.catalogue import IDENTIFIERS, PROFILES
from cdp.store.port import Store, UniqueViolation
from cdp.store.unit_of_work import UnitOfWork
from cdp.updates import ProfileUpdate, UpdateKind

MAX_MERGE_HOPS = 16


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
            uow, now=rt.clock.now(), channel=channel, keys=keys, personal=personal, status=status
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


def stage_links(uow: UnitOfWork, profile_id: str, keys: Sequence[IdentifierKey]) -> None:
    """Point each key at the profile; the store's unique ids refuse a key held elsewhere."""
    for key in keys:
        uow.insert(IDENTIFIERS, identifier_link_doc(profile_id, key))


def stage_new_profile(
    uow: UnitOfWork,
    *,
    now: datetime,
    channel: Channel,
    keys: Sequence[IdentifierKey],
    personal: PersonalData | None = None,
    status: ProfileStatus = ProfileStatus.ALLOCATED,
) -> Profile:
    """Stage a new profile and its identifier links in `uow` (unique keys checked at commit)."""
    profile = new_profile(now=now, channel=channel, keys=keys, personal=personal, status=status)
    uow.insert(PROFILES, profile.to_doc())
    stage_links(uow, profile.id, keys)
    uow.record(ProfileUpdate(UpdateKind.PROFILE_CHANGED, profile, now))
    return profile


async def link_identifier(
    rt: Runtime,
    *,
    profile_id: str,
    identifier: RawIdentifier,
    verified: bool,
    channel: Channel,
) -> Profile:
    """Attach an identifier; relinking one the profile holds only updates `verified`."""
    key = normalize(rt, identifier)

    async def use_case(uow: UnitOfWork) -> Profile:
        profile = await live_profile(uow.store, profile_id)
        link = await uow.get(IDENTIFIERS, key.key)
        if link is not None and link["profile_id"] != profile.id:
            raise Conflict(f"this {key.type.value} is already linked to another profile")
        held = next((i for i in profile.identifiers if i.key == key.key), None)
        if held is not None and (held.verified or not verified):
            return profile
        now = rt.clock.now()
        linked = Identifier(key.type, key.value, verified, channel, now)
        updated = profile.with_identifier(linked if held is None else _verify(held), now)
        uow.replace(PROFILES, updated.to_doc(), profile.version)
        if link is None:
            uow.insert(IDENTIFIERS, identifier_link_doc(profile.id, key))
        uow.record(ProfileUpdate(UpdateKind.IDENTIFIER_LINKED, updated, now))
        return updated

    try:
        return await rt.transaction(use_case)
    except UniqueViolation as exc:
        raise Conflict(f"this {key.type.value} is already linked to another profile") from exc


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


async def get_profile(store: Store, profile_id: str) -> Profile | None:
    """The profile, or the survivor it was merged into."""
    return (await get_profiles(store, [profile_id]))[0]


async def get_profiles(store: Store, ids: Sequence[str]) -> list[Profile | None]:
    """One round trip for the batch (plus one per merge hop); results in key order."""
    docs = await store.get_many(PROFILES, ids)
    found = [Profile.from_doc(d) if d else None for d in docs]
    for _ in range(MAX_MERGE_HOPS):
        pending = {p.merged_into for p in found if p is not None and p.merged_into}
        if not pending:
            break
        survivors = dict(zip(pending, await store.get_many(PROFILES, list(pending)), strict=True))
        found = [
            Profile.from_doc(survivors[p.merged_into])  # type: ignore[arg-type]
            if p is not None and p.merged_into and survivors[p.merged_into]
            else p
            for p in found
        ]
    return found


async def find_profiles(store: Store, keys: Sequence[IdentifierKey]) -> list[Profile | None]:
    """Profiles holding each identifier, in key order; two round trips for the batch."""
    links = await store.get_many(IDENTIFIERS, [k.key for k in keys])
    owner_ids = [link["profile_id"] for link in links if link is not None]
    owners = dict(zip(owner_ids, await get_profiles(store, owner_ids), strict=True))
    return [owners.get(link["profile_id"]) if link else None for link in links]
