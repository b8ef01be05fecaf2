"""The blocking keys each profile is findable by, kept in step with its data.

A merged profile keeps its keys: its data is one of the records its survivor is
compared through (resolution follows it to the survivor), and an unmerge finds it
findable as it was. Only forgetting (or erasing a merged profile's data) removes them.
"""

from __future__ import annotations

from cdp.identity.blocking import blocking_keys
from cdp.identity.model import Profile, ProfileStatus
from cdp.identity.record import MatchRecord
from cdp.store.catalogue import MATCH_KEYS
from cdp.store.unit_of_work import UnitOfWork


def stored_keys(profile: Profile | None) -> set[str]:
    """The keys a profile in this state has in the store: none once forgotten."""
    if profile is None or profile.status is ProfileStatus.FORGOTTEN:
        return set()
    return blocking_keys(MatchRecord.of(profile.personal))


def stage_match_keys(uow: UnitOfWork, before: Profile | None, after: Profile) -> None:
    """Keep the profile's blocking keys in step with its personal data."""
    if before is not None and (before.personal, before.status) == (after.personal, after.status):
        return  # the keys depend on nothing else (most loyalty changes)
    old = stored_keys(before)
    new = stored_keys(after)
    for key in sorted(old - new):
        uow.delete(MATCH_KEYS, f"{key}#{after.id}")
    for key in sorted(new - old):
        uow.insert(MATCH_KEYS, {"id": f"{key}#{after.id}", "key": key, "profile_id": after.id})
