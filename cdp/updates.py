"""What a committed change announces to subscribers (and, later, to webhooks)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cdp.identity.model import Profile
from cdp.loyalty.model import LedgerEntry


class UpdateKind(StrEnum):
    ENROLLED = "ENROLLED"
    UNMERGED = "UNMERGED"
    PROFILE_CHANGED = "PROFILE_CHANGED"
    IDENTIFIER_LINKED = "IDENTIFIER_LINKED"
    POINTS_EARNED = "POINTS_EARNED"
    POINTS_REDEEMED = "POINTS_REDEEMED"
    POINTS_REVERSED = "POINTS_REVERSED"
    POINTS_EXPIRED = "POINTS_EXPIRED"
    POINTS_ADJUSTED = "POINTS_ADJUSTED"
    TIER_CHANGED = "TIER_CHANGED"
    MERGED = "MERGED"
    FORGOTTEN = "FORGOTTEN"


@dataclass(frozen=True, slots=True)
class ProfileUpdate:
    kind: UpdateKind
    profile: Profile
    at: datetime
    entry: LedgerEntry | None = None
    tier_changed: bool = False
    rewards_unlocked: tuple[str, ...] = ()  # reward ids

    @property
    def version(self) -> int:
        return self.profile.version
