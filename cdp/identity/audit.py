"""The audit trail of identity decisions: who merged, unmerged or erased what, and why."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cdp.clock import to_iso
from cdp.ids import new_id
from cdp.store.catalogue import AUDIT
from cdp.store.unit_of_work import UnitOfWork


def stage_audit(
    uow: UnitOfWork,
    *,
    action: str,
    actor: str,
    reason: str | None,
    at: datetime,
    profile_ids: Sequence[str],
    details: dict[str, Any],
) -> None:
    """One row per profile touched, so each profile's export shows its whole story."""
    action_id = new_id("act")
    for profile_id in dict.fromkeys(profile_ids):
        uow.insert(
            AUDIT,
            {
                "id": f"{action_id}:{profile_id}",
                "action": action,
                "actor": actor,
                "reason": reason,
                "at": to_iso(at),
                "profile_id": profile_id,
                "profiles": list(profile_ids),
                "details": details,
            },
        )
