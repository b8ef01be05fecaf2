"""The blocking keys each live profile is findable by, kept in step with its data."""

from __future__ import annotations

from cdp.identity.matching import MatchRecord, blocking_keys
from cdp.identity.model import Profile, ProfileStatus
from cdp.store.catalogue import MATCH_KEYS
from cdp.store.unit_of_work import UnitOfWork


def _stored_keys(profile: Profile | None) -> set[str]:
    """The keys a profile in this state has in the store: none once merged or forgotten."""
    if profile is None or profile.status in (ProfileStatus.MERGED, ProfileStatus.FORGOTTEN):
        return set()
    return blocking_keys(MatchRecord.of(profile.personal))


def stage_match_keys(uow: UnitOfWork, before: Profile | None, after: Profile) -> None:
    """Keep the profile's blocking keys in step with its personal data (and an unmerged
    profile findable again)."""
    if before is not None and (before.personal, before.status) == (after.personal, after.status):
        return  # the keys depend on nothing else (most loyalty changes)
    old = _stored_keys(before)
    new = _stored_keys(after)
    for key in sorted(old - new):
        uow.delete(MATCH_KEYS, f"{key}#{after.id}")
    for key in sorted(new - old):
        uow.insert(MATCH_KEYS, {"id": f"{key}#{after.id}", "key": key, "profile_id": after.id})
