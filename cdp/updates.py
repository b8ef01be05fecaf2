"""What a committed change announces to subscribers (and, later, to webhooks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from cdp.identity.model import Profile


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
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> int:
        return self.profile.version
