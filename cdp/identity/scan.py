"""Walking every profile in id order, a page at a time, for exports, audits and training."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection

from cdp.identity.model import Profile, ProfileStatus
from cdp.identity.record import MatchRecord
from cdp.store.catalogue import PROFILES
from cdp.store.port import OneOf, Query, Range, Store

LIVE = frozenset({ProfileStatus.ENROLLED, ProfileStatus.ALLOCATED})
# Merged profiles are records of their survivors and keep keys; forgotten ones hold nothing.
KEYED = frozenset(ProfileStatus) - {ProfileStatus.FORGOTTEN}
PAGE_SIZE = 500


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
        page = [Profile.from_doc(d) for d in docs if d["status"] in statuses]
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
