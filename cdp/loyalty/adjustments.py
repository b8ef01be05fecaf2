"""Manual corrections by an administrator: always with a reason, always idempotent."""

from __future__ import annotations

from cdp.channel import Channel
from cdp.clock import to_iso
from cdp.errors import BadInput, Conflict, InsufficientPoints
from cdp.identity.profile_changes import save_account
from cdp.identity.service import live_profile
from cdp.loyalty.common import OPERATOR, checked_key, replay_allowed
from cdp.loyalty.ledger_repository import get_entry
from cdp.loyalty.lot_repository import load_spendable, open_posting
from cdp.loyalty.model import LedgerEntry, LedgerEntryType
from cdp.loyalty.settle import settle
from cdp.runtime import Runtime
from cdp.store.catalogue import IDEMPOTENCY
from cdp.store.unit_of_work import UnitOfWork
from cdp.updates import UpdateKind

MAX_ADJUSTMENT = 10_000_000
MAX_REASON = 500


async def adjust_points(
    rt: Runtime,
    *,
    profile_id: str,
    points: int,
    reason: str,
    idempotency_key: str,
    channel: Channel,
    requested_by: str = OPERATOR,
) -> LedgerEntry:
    """Credit or debit points; a debit never takes the balance below zero.

    A key answers only the member, points and caller (`requested_by`) it was first used
    for; anything else is CONFLICT, saying nothing of the entry behind it.
    """
    key = checked_key("idempotencyKey", idempotency_key)
    reason = reason.strip()
    if not 0 < len(reason) <= MAX_REASON:
        raise BadInput(f"reason must be 1 to {MAX_REASON} characters")
    if points == 0 or abs(points) > MAX_ADJUSTMENT:
        raise BadInput(f"points must be non-zero and at most {MAX_ADJUSTMENT} either way")
    marker_id = f"adjust:{key}"

    async def use_case(uow: UnitOfWork) -> LedgerEntry:
        marker = await uow.get(IDEMPOTENCY, marker_id)
        if marker is not None:
            asked = (marker["profile_id"], marker["points"]) == (profile_id, points)
            if not asked or not replay_allowed(marker.get("requested_by"), requested_by):
                raise Conflict("idempotencyKey was already used for another request")
            stored = await get_entry(uow.store, marker["entry_id"])
            assert stored is not None, "an adjustment marker always has its entry"
            return stored
        profile = await live_profile(uow.store, profile_id)
        now = rt.clock.now()
        posting = await open_posting(uow.store, profile, rt.program, now, channel)
        settle(posting)
        if points > 0:
            entry = posting.earn(
                LedgerEntryType.ADJUST,
                points,
                earned_at=now,
                pending=False,
                qualifying=False,
                reason=reason,
            )
            assert entry is not None
        else:
            if -points > posting.balance:
                raise InsufficientPoints(
                    f"cannot remove {-points} points; {posting.balance} are available"
                )
            await load_spendable(uow.store, posting, -points)
            entry = posting.adjust_down(-points, reason=reason)
        uow.insert(
            IDEMPOTENCY,
            {
                "id": marker_id,
                "profile_id": profile_id,
                "points": points,
                "entry_id": entry.id,
                "requested_by": requested_by,
                "at": to_iso(now),  # kept for CDP_RETENTION_IDEMPOTENCY_DAYS
            },
        )
        save_account(uow, profile, posting, UpdateKind.POINTS_ADJUSTED, entry=entry)
        return entry

    return await rt.transaction(use_case, rerun_on={IDEMPOTENCY})
