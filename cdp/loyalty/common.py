"""Pieces every loyalty use case shares: fingerprints, keys, saving a posted account."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

from cdp.clock import to_iso
from cdp.errors import BadInput
from cdp.identity.model import Profile
from cdp.loyalty.lot_repository import stage_lot_writes
from cdp.loyalty.model import LedgerEntry
from cdp.loyalty.posting import Posting
from cdp.loyalty.settle import with_account
from cdp.store.catalogue import LEDGER, ORDER_EXPIRIES, PROFILES
from cdp.store.unit_of_work import UnitOfWork
from cdp.updates import ProfileUpdate, UpdateKind

MAX_KEY_LENGTH = 200


def fingerprint(payload: Any) -> str:
    """A stable digest of a request, to tell a replay from a different request on one key."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def checked_key(name: str, value: str) -> str:
    """An idempotency or external id: trimmed, 1 to 200 characters."""
    key = value.strip()
    if not 0 < len(key) <= MAX_KEY_LENGTH:
        raise BadInput(f"{name} must be 1 to {MAX_KEY_LENGTH} characters")
    return key


def save_posting(
    uow: UnitOfWork,
    profile: Profile,
    posting: Posting,
    kind: UpdateKind,
    *,
    new: bool = False,
    entry: LedgerEntry | None = None,
    tier_changed: bool = False,
    rewards_unlocked: tuple[str, ...] = (),
) -> Profile:
    """Stage the profile's next version, the entries that explain it and the lots it
    changed; announce it.

    A `new` profile (first seen in this unit of work) is inserted as its first version.
    """
    updated = with_account(profile, posting)
    if new:
        updated = replace(updated, version=profile.version)
        uow.insert(PROFILES, updated.to_doc())
    else:
        uow.replace(PROFILES, updated.to_doc(), profile.version)
    for ledger_entry in posting.entries:
        uow.insert(LEDGER, ledger_entry.to_doc())
    stage_lot_writes(uow, posting)
    for lot in posting.expired:
        if lot.order_key is not None:
            # A lot can expire twice: a void may give spent points back into an old lot.
            record = {"order_key": lot.order_key, "points": lot.points}
            uow.insert(ORDER_EXPIRIES, {"id": f"{lot.id}|{to_iso(posting.now)}", **record})
    uow.record(
        ProfileUpdate(
            kind,
            updated,
            posting.now,
            entry=entry or (posting.entries[-1] if posting.entries else None),
            tier_changed=tier_changed,
            rewards_unlocked=rewards_unlocked,
        )
    )
    return updated
