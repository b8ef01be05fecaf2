"""The blocking keys each live profile is findable by, kept in step with its data."""

from __future__ import annotations

from cdp.identity.matching import MatchRecord, blocking_keys
from cdp.identity.model import Profile, ProfileStatus
from cdp.store.catalogue import MATCH_KEYS
from cdp.store.unit_of_work import UnitOfWork


def stage_match_keys(uow: UnitOfWork, before: Profile | None, after: Profile) -> None:
    """Keep the profile's blocking keys in step with its personal data."""
    live = after.status not in (ProfileStatus.MERGED, ProfileStatus.FORGOTTEN)
    old = blocking_keys(MatchRecord.of(before.personal)) if before else set()
    new = blocking_keys(MatchRecord.of(after.personal)) if live else set()
    for key in sorted(old - new):
        uow.delete(MATCH_KEYS, f"{key}#{after.id}")
    for key in sorted(new - old):
        uow.insert(MATCH_KEYS, {"id": f"{key}#{after.id}", "key": key, "profile_id": after.id})
