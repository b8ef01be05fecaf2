"""The points account held on each profile, its lots, and the ledger entries that explain it.

Invariant 2: for every profile, `balance + pending` equals the sum of its ledger entries.
The account (totals, tier state, when its lots are next due) is stored inside the profile
document, so one versioned write changes the balance and, in the same commit, inserts the
entries that explain the change and writes the lots it touched. Lots live in a collection
of their own (`cdp.loyalty.lot_repository`): a member's profile costs the same to read and
write however long their history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from cdp.channel import Channel
from cdp.clock import from_iso, to_iso
from cdp.store.port import Document

FAR_FUTURE = "9999-12-31"


class LedgerEntryType(StrEnum):
    EARN = "EARN"
    BONUS = "BONUS"
    REDEEM = "REDEEM"
    REVERSAL = "REVERSAL"
    EXPIRE = "EXPIRE"
    ADJUST = "ADJUST"
    MERGE = "MERGE"
    UNMERGE = "UNMERGE"
    VOID = "VOID"


def _iso(moment: datetime | None) -> str | None:
    return to_iso(moment) if moment else None


def _dt(text: str | None) -> datetime | None:
    return from_iso(text) if text else None


@dataclass(frozen=True, slots=True)
class Lot:
    """Points earned together, spent oldest first, expiring together."""

    id: str
    points: int
    earned_at: datetime
    available_at: datetime | None = None  # set while pending
    expires_at: datetime | None = None
    order_key: str | None = None

    def pending_at(self, moment: datetime) -> bool:
        return self.available_at is not None and self.available_at > moment

    @property
    def due_at(self) -> datetime | None:
        """When a job next has something to do with this lot: release it, or expire it."""
        moments = [m for m in (self.available_at, self.expires_at) if m is not None]
        return min(moments) if moments else None

    @property
    def spend_key(self) -> str:
        """The order spending takes lots in: soonest expiry first, then oldest earned."""
        expires = to_iso(self.expires_at) if self.expires_at else FAR_FUTURE
        return f"{expires}|{to_iso(self.earned_at)}"


class SpentLot(NamedTuple):
    """Points taken from one lot, with what a void needs to put them back as they were."""

    lot_id: str
    points: int
    earned_at: datetime
    expires_at: datetime | None

    def to_doc(self) -> Document:
        return {
            "lot_id": self.lot_id,
            "points": self.points,
            "earned_at": to_iso(self.earned_at),
            "expires_at": _iso(self.expires_at),
        }

    @classmethod
    def from_doc(cls, doc: Document) -> SpentLot:
        return cls(doc["lot_id"], doc["points"], from_iso(doc["earned_at"]), _dt(doc["expires_at"]))


@dataclass(frozen=True, slots=True)
class Account:
    """Totals and tier state; the lots behind the totals are stored apart."""

    balance: int = 0
    pending: int = 0
    lifetime: int = 0
    tier_id: str = ""
    qualifying_by_month: dict[str, int] = field(default_factory=dict)
    ledger_seq: int = 0
    last_activity_at: datetime | None = None
    bonuses_granted: tuple[str, ...] = ()
    # No stored lot is due (to release or expire) before this moment; it may be earlier
    # than the first lot actually due (a settle then finds nothing and moves it on).
    lots_due_at: datetime | None = None

    @property
    def holds_points(self) -> bool:
        """Whether any lot is held: every point held, pending or not, is in one."""
        return self.balance > 0 or self.pending > 0

    def to_doc(self) -> Document:
        return {
            "balance": self.balance,
            "pending": self.pending,
            "lifetime": self.lifetime,
            "tier_id": self.tier_id,
            "qualifying_by_month": dict(self.qualifying_by_month),
            "ledger_seq": self.ledger_seq,
            "last_activity_at": _iso(self.last_activity_at),
            "bonuses_granted": list(self.bonuses_granted),
            "lots_due_at": _iso(self.lots_due_at),
        }

    @classmethod
    def from_doc(cls, doc: Document | None) -> Account:
        if not doc:
            return cls()
        return cls(
            balance=doc["balance"],
            pending=doc["pending"],
            lifetime=doc["lifetime"],
            tier_id=doc["tier_id"],
            qualifying_by_month=dict(doc["qualifying_by_month"]),
            ledger_seq=doc["ledger_seq"],
            last_activity_at=_dt(doc.get("last_activity_at")),
            bonuses_granted=tuple(doc.get("bonuses_granted") or ()),
            lots_due_at=_dt(doc.get("lots_due_at")),
        )


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    id: str
    profile_id: str
    type: LedgerEntryType
    points: int
    balance_after: int
    channel: Channel
    created_at: datetime
    reason: str | None = None
    order_id: str | None = None
    available_at: datetime | None = None
    expires_at: datetime | None = None

    @property
    def sort_key(self) -> str:
        """Time order across profiles (a survivor's history spans its merged profiles)."""
        return f"{to_iso(self.created_at)}|{self.id}"

    def to_doc(self) -> Document:
        return {
            "id": self.id,
            "sort_key": self.sort_key,
            "profile_id": self.profile_id,
            "type": self.type.value,
            "points": self.points,
            "balance_after": self.balance_after,
            "channel": self.channel.value,
            "created_at": to_iso(self.created_at),
            "reason": self.reason,
            "order_id": self.order_id,
            "available_at": _iso(self.available_at),
            "expires_at": _iso(self.expires_at),
        }

    @classmethod
    def from_doc(cls, doc: Document) -> LedgerEntry:
        return cls(
            id=doc["id"],
            profile_id=doc["profile_id"],
            type=LedgerEntryType(doc["type"]),
            points=doc["points"],
            balance_after=doc["balance_after"],
            channel=Channel(doc["channel"]),
            created_at=from_iso(doc["created_at"]),
            reason=doc.get("reason"),
            order_id=doc.get("order_id"),
            available_at=_dt(doc.get("available_at")),
            expires_at=_dt(doc.get("expires_at")),
        )


def ledger_entry_id(profile_id: str, seq: int) -> str:
    """Sorts in the order entries were written for one profile, across every store."""
    return f"{profile_id}.{seq:010d}"


class RedemptionStatus(StrEnum):
    ISSUED = "ISSUED"
    USED = "USED"
    VOIDED = "VOIDED"


@dataclass(frozen=True, slots=True)
class Redemption:
    id: str
    profile_id: str
    reward_id: str
    points: int
    code: str
    status: RedemptionStatus
    channel: Channel
    created_at: datetime
    idempotency_key: str
    spent_lots: tuple[SpentLot, ...] = ()  # given back on void
    # Who asked (an API key id, "customer:<sub>", OPERATOR): only they replay the key.
    requested_by: str | None = None
    voided_at: datetime | None = None
    void_reason: str | None = None
    version: int = 0
    sort_key: str = ""  # the paying ledger entry's: where it sits in the member's history

    def to_doc(self) -> Document:
        return {
            "id": self.id,
            "version": self.version,
            "sort_key": self.sort_key,
            "profile_id": self.profile_id,
            "reward_id": self.reward_id,
            "points": self.points,
            "code": self.code,
            "status": self.status.value,
            "channel": self.channel.value,
            "created_at": to_iso(self.created_at),
            "idempotency_key": self.idempotency_key,
            "spent_lots": [lot.to_doc() for lot in self.spent_lots],
            "requested_by": self.requested_by,
            "voided_at": _iso(self.voided_at),
            "void_reason": self.void_reason,
        }

    @classmethod
    def from_doc(cls, doc: Document) -> Redemption:
        return cls(
            id=doc["id"],
            version=doc["version"],
            profile_id=doc["profile_id"],
            reward_id=doc["reward_id"],
            points=doc["points"],
            code=doc["code"],
            status=RedemptionStatus(doc["status"]),
            channel=Channel(doc["channel"]),
            created_at=from_iso(doc["created_at"]),
            idempotency_key=doc["idempotency_key"],
            spent_lots=tuple(SpentLot.from_doc(lot) for lot in doc["spent_lots"]),
            requested_by=doc.get("requested_by"),
            voided_at=_dt(doc.get("voided_at")),
            void_reason=doc.get("void_reason"),
            sort_key=doc.get("sort_key") or "",
        )


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a purchase or a return did to one member's account, as a till prints it."""

    order_id: str
    channel: Channel
    store_id: str | None
    register_id: str | None
    profile_id: str
    points_earned: int
    bonus_points: int
    pending_points: int
    balance_after: int
    tier_id: str
    tier_changed: bool
    rewards_unlocked: tuple[str, ...]
    created_at: datetime

    def to_doc(self) -> Document:
        return {
            "order_id": self.order_id,
            "channel": self.channel.value,
            "store_id": self.store_id,
            "register_id": self.register_id,
            "profile_id": self.profile_id,
            "points_earned": self.points_earned,
            "bonus_points": self.bonus_points,
            "pending_points": self.pending_points,
            "balance_after": self.balance_after,
            "tier_id": self.tier_id,
            "tier_changed": self.tier_changed,
            "rewards_unlocked": list(self.rewards_unlocked),
            "created_at": to_iso(self.created_at),
        }

    @classmethod
    def from_doc(cls, doc: Document) -> Receipt:
        return cls(
            order_id=doc["order_id"],
            channel=Channel(doc["channel"]),
            store_id=doc.get("store_id"),
            register_id=doc.get("register_id"),
            profile_id=doc["profile_id"],
            points_earned=doc["points_earned"],
            bonus_points=doc["bonus_points"],
            pending_points=doc["pending_points"],
            balance_after=doc["balance_after"],
            tier_id=doc["tier_id"],
            tier_changed=doc["tier_changed"],
            rewards_unlocked=tuple(doc["rewards_unlocked"]),
            created_at=from_iso(doc["created_at"]),
        )


@dataclass(frozen=True, slots=True)
class LineItem:
    sku: str | None
    category: str | None
    quantity: int
    amount: float

    def to_doc(self) -> dict[str, Any]:
        return {
            "sku": self.sku,
            "category": self.category,
            "quantity": self.quantity,
            "amount": self.amount,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> LineItem:
        return cls(doc["sku"], doc["category"], doc["quantity"], doc["amount"])
