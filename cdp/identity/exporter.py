"""`cdp export`: one JSON line per profile, with its status, identifiers and balance."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from typing import Any

from cdp.clock import to_iso
from cdp.identity.model import Profile, ProfileStatus
from cdp.identity.profile_repository import LIVE, profile_pages
from cdp.store.port import Store


def export_line(profile: Profile) -> dict[str, Any]:
    """What one line of the export holds (the loyalty lots and history stay behind)."""
    account = profile.loyalty
    return {
        "id": profile.id,
        "status": profile.status.value,
        "version": profile.version,
        "merged_into": profile.merged_into,
        "merged_from": list(profile.merged_from),
        "enrollment": profile.enrollment.to_doc() if profile.enrollment else None,
        "personal": profile.personal.to_doc(),
        "identifiers": [i.to_doc() for i in profile.identifiers],
        "balance": account.balance,
        "pending": account.pending,
        "lifetime": account.lifetime,
        "tier": account.tier_id or None,
        "created_at": to_iso(profile.created_at),
        "updated_at": to_iso(profile.updated_at),
    }


async def export_profiles(
    store: Store,
    write: Callable[[str], object],
    *,
    statuses: Collection[ProfileStatus] = LIVE,
    on_profile: Callable[[], None] = lambda: None,
) -> int:
    """Write each profile with one of `statuses` as a JSON line, in id order; how many."""
    written = 0
    async for page in profile_pages(store, statuses):
        for profile in page:
            write(json.dumps(export_line(profile), ensure_ascii=False) + "\n")
            written += 1
            on_profile()
    return written
