"""Rebuilding every profile's blocking keys, after the blocking rules changed.

Keys are kept in step with a profile's data as it changes (cdp/identity/match_keys.py),
so profiles stored under older rules keep their old keys until `cdp identity rekey`
walks them all. Each page is one transaction: the keys its profiles should have are
inserted, the ones they should not are deleted, so running it again changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable

from cdp.identity.match_keys import stored_keys
from cdp.identity.model import Profile
from cdp.identity.profile_repository import KEYED, profile_pages
from cdp.runtime import Runtime
from cdp.store.catalogue import MATCH_KEYS
from cdp.store.port import OneOf, Query
from cdp.store.unit_of_work import UnitOfWork


async def rekey_profiles(rt: Runtime, *, on_page: Callable[[int], None] = lambda n: None) -> int:
    """Bring every profile's keys in line with the current rules; returns keys changed."""
    changed = 0
    async for page in profile_pages(rt.store, KEYED):
        changed += await rt.transaction(_rekey_page(page), rerun_on={MATCH_KEYS})
        on_page(len(page))
    return changed


def _rekey_page(page: list[Profile]) -> Callable[[UnitOfWork], Awaitable[int]]:
    async def use_case(uow: UnitOfWork) -> int:
        ids = tuple(p.id for p in page)
        held: dict[str, set[str]] = defaultdict(set)
        for row in await uow.find(Query(MATCH_KEYS, {"profile_id": OneOf(ids)})):
            held[row["profile_id"]].add(row["key"])
        changes = 0
        for profile in page:
            wanted = stored_keys(profile)
            for key in sorted(held[profile.id] - wanted):
                uow.delete(MATCH_KEYS, f"{key}#{profile.id}")
            for key in sorted(wanted - held[profile.id]):
                uow.insert(
                    MATCH_KEYS, {"id": f"{key}#{profile.id}", "key": key, "profile_id": profile.id}
                )
            changes += len(held[profile.id] ^ wanted)
        return changes

    return use_case
