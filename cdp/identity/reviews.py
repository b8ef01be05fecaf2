"""The review queue: pairs that might be one person, for a human to decide.

Merge-first: a doubtful record is never rejected; it is kept as its own profile and the
pair goes here. One item per pair, however often the pair is seen again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from cdp.clock import from_iso, to_iso
from cdp.store.catalogue import REVIEWS
from cdp.store.port import Document
from cdp.store.unit_of_work import UnitOfWork


class ReviewStatus(StrEnum):
    OPEN = "OPEN"
    MERGED = "MERGED"
    DISMISSED = "DISMISSED"


class ReviewDecision(StrEnum):
    MERGE = "MERGE"
    KEEP_SEPARATE = "KEEP_SEPARATE"


@dataclass(frozen=True, slots=True)
class ReviewItem:
    id: str
    profile_ids: tuple[str, ...]
    score: float
    reasons: tuple[str, ...]
    status: ReviewStatus
    created_at: datetime
    resolved_at: datetime | None = None
    version: int = 0

    def resolved(self, status: ReviewStatus, at: datetime) -> ReviewItem:
        return replace(self, status=status, resolved_at=at, version=self.version + 1)

    @property
    def sort_key(self) -> str:
        return f"{to_iso(self.created_at)}|{self.id}"

    def to_doc(self) -> Document:
        return {
            "id": self.id,
            "sort_key": self.sort_key,
            "version": self.version,
            "profile_ids": list(self.profile_ids),
            "score": self.score,
            "reasons": list(self.reasons),
            "status": self.status.value,
            "created_at": to_iso(self.created_at),
            "resolved_at": to_iso(self.resolved_at) if self.resolved_at else None,
        }

    @classmethod
    def from_doc(cls, doc: Document) -> ReviewItem:
        resolved = doc.get("resolved_at")
        return cls(
            id=doc["id"],
            version=doc["version"],
            profile_ids=tuple(doc["profile_ids"]),
            score=doc["score"],
            reasons=tuple(doc["reasons"]),
            status=ReviewStatus(doc["status"]),
            created_at=from_iso(doc["created_at"]),
            resolved_at=from_iso(resolved) if resolved else None,
        )


def review_id(profile_ids: Sequence[str]) -> str:
    pair = "|".join(sorted(profile_ids))
    return "rv_" + hashlib.sha256(pair.encode()).hexdigest()[:20]


async def stage_review(
    uow: UnitOfWork,
    *,
    profile_ids: Sequence[str],
    score: float,
    reasons: Sequence[str],
    at: datetime,
) -> None:
    """Open an item for the pair unless one exists (open or already decided)."""
    item_id = review_id(profile_ids)
    if await uow.get(REVIEWS, item_id) is not None:
        return
    item = ReviewItem(
        item_id,
        tuple(sorted(profile_ids)),
        round(score, 4),
        tuple(reasons),
        ReviewStatus.OPEN,
        at,
    )
    uow.insert(REVIEWS, item.to_doc())


async def close_merged_pair(uow: UnitOfWork, profile_ids: Sequence[str], at: datetime) -> None:
    """A pair merged by any path (an admin, the audit, an event, a reviewer) is decided:
    its open item, if it has one, is closed as MERGED, so the queue holds only questions
    still open (an import's review item, merged later by the audit, went on asking)."""
    doc = await uow.get(REVIEWS, review_id(profile_ids))
    if doc is None:
        return
    item = ReviewItem.from_doc(doc)
    if item.status is ReviewStatus.OPEN:
        uow.replace(REVIEWS, item.resolved(ReviewStatus.MERGED, at).to_doc(), item.version)
