"""Profiles as stored: reads that follow merges to the survivor, pages of every profile
(exports, audits), and the writes.

Every write of a profile document goes through here. A change a member can see goes
through `cdp.identity.profile_changes.save_profile`, which writes it with everything
that explains it; the two writes that are not such a change (a job moving the due date
on, erasing a merged profile's data) use `replace_profile` directly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection, Sequence

from cdp.identity.link_repository import owners
from cdp.identity.model import IdentifierKey, Profile, ProfileStatus
from cdp.identity.record import MatchRecord
from cdp.store.catalogue import PROFILES
from cdp.store.port import Document, OneOf, Query, Range, Store
from cdp.store.schema import SCHEMA_VERSION, OutdatedDocument, schema_of
from cdp.store.unit_of_work import UnitOfWork

MAX_MERGE_HOPS = 16
LIVE = frozenset({ProfileStatus.ENROLLED, ProfileStatus.ALLOCATED})
# Merged profiles are records of their survivors and keep keys; forgotten ones hold nothing.
KEYED = frozenset(ProfileStatus) - {ProfileStatus.FORGOTTEN}
PAGE_SIZE = 500


def profile_of(doc: Document) -> Profile:
    """The profile a stored document holds; `OutdatedDocument` if an earlier version wrote
    it and `cdp migrate` has not run since."""
    schema = schema_of(doc)
    if schema != SCHEMA_VERSION:
        raise OutdatedDocument(PROFILES, doc["id"], schema)
    return Profile.from_doc(doc)


async def get_profile(store: Store, profile_id: str) -> Profile | None:
    """The profile, or the survivor it was merged into."""
    return (await get_profiles(store, [profile_id]))[0]


async def get_stored_profile(store: Store, profile_id: str) -> Profile | None:
    """The profile itself, merged or not (an unmerge reads both sides as they are)."""
    doc = await store.get(PROFILES, profile_id)
    return profile_of(doc) if doc else None


async def get_profiles(store: Store, ids: Sequence[str]) -> list[Profile | None]:
    """One round trip for the batch (plus one per merge hop); results in key order."""
    docs = await store.get_many(PROFILES, ids)
    found = [profile_of(d) if d else None for d in docs]
    for _ in range(MAX_MERGE_HOPS):
        pending = {p.merged_into for p in found if p is not None and p.merged_into}
        if not pending:
            break
        survivors = dict(zip(pending, await store.get_many(PROFILES, list(pending)), strict=True))
        found = [
            profile_of(survivors[p.merged_into])  # type: ignore[arg-type]
            if p is not None and p.merged_into and survivors[p.merged_into]
            else p
            for p in found
        ]
    return found


async def stored_profiles(store: Store, ids: Sequence[str]) -> list[Profile | None]:
    """The profiles themselves, merged or not, in key order."""
    return [profile_of(d) if d else None for d in await store.get_many(PROFILES, ids)]


async def find_profiles(store: Store, keys: Sequence[IdentifierKey]) -> list[Profile | None]:
    """Profiles holding each identifier, in key order; two round trips for the batch."""
    held_by = await owners(store, keys)
    owner_ids = [profile_id for profile_id in held_by if profile_id is not None]
    found = dict(zip(owner_ids, await get_profiles(store, owner_ids), strict=True))
    return [found.get(profile_id) if profile_id else None for profile_id in held_by]


def insert_profile(uow: UnitOfWork, profile: Profile) -> None:
    uow.insert(PROFILES, profile.to_doc())


def replace_profile(uow: UnitOfWork, profile: Profile, expected_version: int) -> None:
    """Write `profile` over the version read (`StaleVersion` at commit if it moved on)."""
    uow.replace(PROFILES, profile.to_doc(), expected_version)


async def due_profiles(
    store: Store, *, until: str, from_due: str, limit: int
) -> list[tuple[str, str]]:
    """(id, due at) of profiles due by `until`, from `from_due` on, soonest first."""
    where = {"due_at": Range(lte=until, gte=from_due)}
    docs = await store.find(Query(PROFILES, where, "due_at", limit=limit))
    return [(doc["id"], doc["due_at"]) for doc in docs]


async def profile_pages(
    store: Store, statuses: Collection[ProfileStatus] = LIVE, page_size: int = PAGE_SIZE
) -> AsyncIterator[list[Profile]]:
    """Profiles with one of `statuses`, as stored (a merged one is not followed)."""
    after = ""
    while True:
        docs = await store.find(Query(PROFILES, {"id": Range(gt=after)}, limit=page_size))
        if not docs:
            return
        after = docs[-1]["id"]
        page = [profile_of(d) for d in docs if d["status"] in statuses]
        if page:
            yield page


async def count_profiles(store: Store, statuses: Collection[ProfileStatus] = LIVE) -> int:
    return await store.count(PROFILES, {"status": OneOf(tuple(sorted(statuses)))})


async def stored_records(
    store: Store, denylist: frozenset[str], *, on_page: Callable[[int], None] = lambda n: None
) -> list[MatchRecord]:
    """The record of every profile that holds data (merged ones too: a merge is a
    duplicate found), for training the match model."""
    records: list[MatchRecord] = []
    async for page in profile_pages(store, KEYED):
        records.extend(MatchRecord.of(p.personal, denylist) for p in page)
        on_page(len(page))
    return records
