"""Redemptions and the issued counts of limited rewards, as stored.

A redemption's id derives from its idempotency key, so the store refuses a second one
for a replay (invariant 3). A limited reward's count is one versioned document: two
redemptions of the last one cannot both commit.
"""

from __future__ import annotations

from cdp.loyalty.model import Redemption
from cdp.store.catalogue import REDEMPTIONS, REWARD_STOCK
from cdp.store.port import Store
from cdp.store.unit_of_work import UnitOfWork


async def get_redemption(store: Store, redemption_id: str) -> Redemption | None:
    doc = await store.get(REDEMPTIONS, redemption_id)
    return Redemption.from_doc(doc) if doc else None


def insert_redemption(uow: UnitOfWork, redemption: Redemption) -> None:
    uow.insert(REDEMPTIONS, redemption.to_doc())


def replace_redemption(uow: UnitOfWork, redemption: Redemption, expected_version: int) -> None:
    uow.replace(REDEMPTIONS, redemption.to_doc(), expected_version)


async def issued_count(store: Store, reward_id: str) -> tuple[int, int | None]:
    """How many of a limited reward are issued, and the version of that count (None
    before the first is issued)."""
    doc = await store.get(REWARD_STOCK, reward_id)
    return (doc["issued"], doc["version"]) if doc else (0, None)


def stage_issued_count(uow: UnitOfWork, reward_id: str, issued: int, read: int | None) -> None:
    """The new count, under a version check on the one read (`read`)."""
    if read is None:
        uow.insert(REWARD_STOCK, {"id": reward_id, "version": 1, "issued": issued})
    else:
        doc = {"id": reward_id, "version": read + 1, "issued": issued}
        uow.replace(REWARD_STOCK, doc, read)
