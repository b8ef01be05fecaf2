"""Orders, returns and what expired of an order's points, as stored.

An order's id is "<channel>:<orderId>" and a return's "<channel>:<returnId>": the store
refuses a second insert, which is how a purchase or a return is recorded once
(invariant 3). An order keeps its lines with the points each earned and what returns
took back of them (`returned` as a decimal string, `reversed` in points).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cdp.clock import to_iso
from cdp.loyalty.accrual import QuotedLine
from cdp.loyalty.model import Receipt
from cdp.loyalty.posting import Posting
from cdp.store.catalogue import ORDER_EXPIRIES, ORDERS, RETURNS
from cdp.store.port import Document, Query, Store
from cdp.store.unit_of_work import UnitOfWork

OrderLine = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Order:
    key: str
    version: int
    profile_id: str
    fingerprint: str
    month: str  # the qualifying-points bucket the order counted in
    lines: list[OrderLine]
    receipt: Receipt
    stored: Document  # as read, so a rewrite keeps what this version does not know

    @classmethod
    def from_doc(cls, doc: Document) -> Order:
        return cls(
            key=doc["id"],
            version=doc["version"],
            profile_id=doc["profile_id"],
            fingerprint=doc["fingerprint"],
            month=doc["month"],
            lines=[dict(line) for line in doc["lines"]],
            receipt=Receipt.from_doc(doc["receipt"]),
            stored=doc,
        )


@dataclass(frozen=True, slots=True)
class RecordedReturn:
    key: str
    fingerprint: str
    receipt: Receipt


async def get_order(store: Store, order_key: str) -> Order | None:
    doc = await store.get(ORDERS, order_key)
    return Order.from_doc(doc) if doc else None


def stage_order(
    uow: UnitOfWork,
    *,
    order_key: str,
    profile_id: str,
    fingerprint: str,
    month: str,
    lines: Sequence[QuotedLine],
    receipt: Receipt,
) -> None:
    """Insert a new order (a concurrent twin's insert makes this commit fail)."""
    uow.insert(
        ORDERS,
        {
            "id": order_key,
            "profile_id": profile_id,
            "fingerprint": fingerprint,
            "month": month,
            "lines": [
                {**q.line.to_doc(), "points": q.points, "returned": "0", "reversed": 0}
                for q in lines
            ],
            "receipt": receipt.to_doc(),
        },
    )


def stage_order_lines(uow: UnitOfWork, order: Order, lines: list[OrderLine]) -> None:
    """The order's lines after a return, under a version check."""
    rewritten = {**order.stored, "lines": lines, "version": order.version + 1}
    uow.replace(ORDERS, rewritten, order.version)


async def get_return(store: Store, return_key: str) -> RecordedReturn | None:
    doc = await store.get(RETURNS, return_key)
    if doc is None:
        return None
    return RecordedReturn(doc["id"], doc["fingerprint"], Receipt.from_doc(doc["receipt"]))


def stage_return(
    uow: UnitOfWork, *, return_key: str, order_key: str, fingerprint: str, receipt: Receipt
) -> None:
    uow.insert(
        RETURNS,
        {
            "id": return_key,
            "order_key": order_key,
            "fingerprint": fingerprint,
            "receipt": receipt.to_doc(),
        },
    )


def stage_expiries(uow: UnitOfWork, posting: Posting) -> None:
    """What of each order's points the posting wrote off, for later returns to leave be."""
    for lot in posting.expired:
        if lot.order_key is not None:
            # A lot can expire twice: a void may give spent points back into an old lot.
            record = {"order_key": lot.order_key, "points": lot.points}
            uow.insert(ORDER_EXPIRIES, {"id": f"{lot.id}|{to_iso(posting.now)}", **record})


async def expired_points(store: Store, order_key: str) -> int:
    """Points of the order that expired (they cost the member once already)."""
    expiries = await store.find(Query(ORDER_EXPIRIES, {"order_key": order_key}))
    return sum(int(e["points"]) for e in expiries)
