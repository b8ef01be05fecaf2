"""Broker topics and the messages on them: a slim, versioned account of each change.

A profile message says what changed (kind, version, the ledger entry if any) and the
member's balances, tier and status after it, never the stored profile: its size does not
grow with the member's history. A subscriber that wants more of the profile reads it
(resolvers/realtime.py). A message of another version than ours (a process of another
release) decodes to None, which a watcher treats as a gap: it reads the current state.

Decoding is cached per message text: every local subscriber of a topic receives the same
string, so it is decoded once per process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from cdp.clock import from_iso, to_iso
from cdp.identity.model import Profile, ProfileStatus
from cdp.json_text import dumps, loads
from cdp.loyalty.model import LedgerEntry, Receipt
from cdp.updates import ProfileUpdate, UpdateKind

MESSAGE_VERSION = 1
DECODED_CACHE = 256


def profile_topic(profile_id: str) -> str:
    return f"profile:{profile_id}"


@lru_cache(maxsize=4096)  # a few stores and registers, asked on every purchase
def receipts_topic(store_id: str, register_id: str | None = None) -> str:
    """Every receipt of a store, or of one register in it (ids quoted: ':' is ours)."""
    store = quote(store_id, safe="")
    return (
        f"receipts:{store}"
        if register_id is None
        else f"receipts:{store}:{quote(register_id, safe='')}"
    )


def receipt_topics(receipt: Receipt) -> list[str]:
    if receipt.store_id is None:
        return []
    topics = [receipts_topic(receipt.store_id)]
    if receipt.register_id is not None:
        topics.append(receipts_topic(receipt.store_id, receipt.register_id))
    return topics


@dataclass(frozen=True, slots=True)
class PushedUpdate:
    """One committed change of a profile as subscribers receive it.

    `balance` and `pending` are the account's as committed: every loyalty write settles
    the account first (points whose return window closed are released), so they are exact
    for it; a profile-only change of a member with points due shows them pending until
    the jobs loop releases them, which pushes an update of its own. `profile`
    is the whole state when the watcher has just read it from the store (the opening
    snapshot, a refetch after a gap); it is never sent.
    """

    kind: UpdateKind
    profile_id: str
    version: int
    status: ProfileStatus
    merged_into: str | None
    at: datetime
    balance: int
    pending: int
    lifetime: int
    tier_id: str
    entry: LedgerEntry | None = None
    tier_changed: bool = False
    rewards_unlocked: tuple[str, ...] = ()  # reward ids
    profile: Profile | None = field(default=None, compare=False)

    @classmethod
    def of(cls, update: ProfileUpdate, *, with_profile: bool = False) -> PushedUpdate:
        profile = update.profile
        account = profile.loyalty
        balance, pending = account.balance, account.pending
        return cls(
            kind=update.kind,
            profile_id=profile.id,
            version=profile.version,
            status=profile.status,
            merged_into=profile.merged_into,
            at=update.at,
            balance=balance,
            pending=pending,
            lifetime=account.lifetime,
            tier_id=account.tier_id,
            entry=update.entry,
            tier_changed=update.tier_changed,
            rewards_unlocked=update.rewards_unlocked,
            profile=profile if with_profile else None,
        )

    @classmethod
    def snapshot(cls, kind: UpdateKind, profile: Profile) -> PushedUpdate:
        """The state just read from the store, as an update of `kind`."""
        return cls.of(ProfileUpdate(kind, profile, profile.updated_at), with_profile=True)

    def to_doc(self) -> dict[str, Any]:
        return {
            "v": MESSAGE_VERSION,
            "kind": self.kind.value,
            "id": self.profile_id,
            "version": self.version,
            "status": self.status.value,
            "merged_into": self.merged_into,
            "at": to_iso(self.at),
            "balance": self.balance,
            "pending": self.pending,
            "lifetime": self.lifetime,
            "tier": self.tier_id,
            "entry": self.entry.to_doc() if self.entry else None,
            "tier_changed": self.tier_changed,
            "rewards_unlocked": list(self.rewards_unlocked),
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> PushedUpdate | None:
        """None for a message of another version (treated as a gap)."""
        if doc.get("v") != MESSAGE_VERSION:
            return None
        return cls(
            kind=UpdateKind(doc["kind"]),
            profile_id=doc["id"],
            version=doc["version"],
            status=ProfileStatus(doc["status"]),
            merged_into=doc["merged_into"],
            at=from_iso(doc["at"]),
            balance=doc["balance"],
            pending=doc["pending"],
            lifetime=doc["lifetime"],
            tier_id=doc["tier"],
            entry=LedgerEntry.from_doc(doc["entry"]) if doc["entry"] else None,
            tier_changed=doc["tier_changed"],
            rewards_unlocked=tuple(doc["rewards_unlocked"]),
        )


def encode_update(update: ProfileUpdate) -> str:
    return dumps(PushedUpdate.of(update).to_doc())


@lru_cache(maxsize=DECODED_CACHE)
def decode_update(message: str) -> PushedUpdate | None:
    return PushedUpdate.from_doc(loads(message))


@dataclass(frozen=True, slots=True)
class PushedReceipt:
    """A receipt and its member's change committed with it (None if none was saved)."""

    receipt: Receipt
    member: PushedUpdate | None


def encode_receipt(receipt: Receipt, member: ProfileUpdate | None) -> str:
    pushed = PushedUpdate.of(member).to_doc() if member else None
    return dumps({"v": MESSAGE_VERSION, "receipt": receipt.to_doc(), "member": pushed})


@lru_cache(maxsize=DECODED_CACHE)
def decode_receipt(message: str) -> PushedReceipt | None:
    """None for a message of another version."""
    doc = loads(message)
    if doc.get("v") != MESSAGE_VERSION:
        return None
    member = PushedUpdate.from_doc(doc["member"]) if doc["member"] else None
    return PushedReceipt(Receipt.from_doc(doc["receipt"]), member)
