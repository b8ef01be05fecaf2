"""The domain's enums, registered as GraphQL enums under the contract's names.

`strawberry.enum` marks the class itself, so the schema and the domain share one type.
"""

from __future__ import annotations

import strawberry

from cdp.channel import Channel
from cdp.identity.model import EnrollmentMethod, IdentifierType, ProfileStatus
from cdp.identity.resolution import MatchMethod
from cdp.identity.reviews import ReviewDecision, ReviewStatus
from cdp.loyalty.model import LedgerEntryType, RedemptionStatus

for _enum in (
    Channel,
    IdentifierType,
    ProfileStatus,
    EnrollmentMethod,
    MatchMethod,
    ReviewStatus,
    ReviewDecision,
    LedgerEntryType,
    RedemptionStatus,
):
    strawberry.enum(_enum)

__all__ = [
    "Channel",
    "EnrollmentMethod",
    "IdentifierType",
    "LedgerEntryType",
    "MatchMethod",
    "ProfileStatus",
    "RedemptionStatus",
    "ReviewDecision",
    "ReviewStatus",
]
