"""Walking every profile in id order, a page at a time, for exports and audits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection

from cdp.identity.model import Profile, ProfileStatus
from cdp.identity.profile_repository import profile_of
from cdp.store.catalogue import PROFILES
from cdp.store.port import OneOf, Query, Range, Store

LIVE = frozenset({ProfileStatus.ENROLLED, ProfileStatus.ALLOCATED})
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
        page = [profile_of(d) for d in docs if d["status"] in statuses]
        if page:
            yield page


async def count_profiles(store: Store, statuses: Collection[ProfileStatus] = LIVE) -> int:
    return await store.count(PROFILES, {"status": OneOf(tuple(sorted(statuses)))})
