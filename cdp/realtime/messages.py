"""Broker topics and the messages on them: what a push carries, so no store read is needed.

A profile message holds the profile document as committed, so a subscriber renders
the pushed state without reading the store. Decoding is cached per message text: every
local subscriber of a topic receives the same string, so it is decoded once per process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

from cdp.clock import from_iso, to_iso
from cdp.identity.model import Profile
from cdp.loyalty.model import LedgerEntry, Receipt
from cdp.updates import ProfileUpdate, UpdateKind

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


def encode_update(update: ProfileUpdate) -> str:
    return json.dumps(
        {
            "kind": update.kind.value,
            "version": update.version,
            "profile": update.profile.to_doc(),
            "at": to_iso(update.at),
            "entry": update.entry.to_doc() if update.entry else None,
            "tier_changed": update.tier_changed,
            "rewards_unlocked": list(update.rewards_unlocked),
        }
    )


@lru_cache(maxsize=DECODED_CACHE)
def decode_update(message: str) -> ProfileUpdate:
    doc = json.loads(message)
    return ProfileUpdate(
        kind=UpdateKind(doc["kind"]),
        profile=Profile.from_doc(doc["profile"]),
        at=from_iso(doc["at"]),
        entry=LedgerEntry.from_doc(doc["entry"]) if doc["entry"] else None,
        tier_changed=doc["tier_changed"],
        rewards_unlocked=tuple(doc["rewards_unlocked"]),
    )


@dataclass(frozen=True, slots=True)
class PushedReceipt:
    """A receipt and its member as committed with it (None if the member was not saved)."""

    receipt: Receipt
    profile: Profile | None


def encode_receipt(receipt: Receipt, profile: Profile | None) -> str:
    return json.dumps(
        {"receipt": receipt.to_doc(), "profile": profile.to_doc() if profile else None}
    )


@lru_cache(maxsize=DECODED_CACHE)
def decode_receipt(message: str) -> PushedReceipt:
    doc = json.loads(message)
    profile = Profile.from_doc(doc["profile"]) if doc["profile"] else None
    return PushedReceipt(Receipt.from_doc(doc["receipt"]), profile)
