"""Redeeming rewards and voiding redemptions.

Invariant 4: the balance check and the debit happen in one versioned write of the
profile, so of N concurrent redemptions only those that fit commit; the others re-read
the balance and fail with INSUFFICIENT_POINTS. Invariant 3: a redemption's id is derived
from its idempotency key, so a replay finds it instead of issuing a second one.

A key is unique across the service, so two requests can never race to two redemptions
on one key; it answers only the member, reward and caller it was first used for.
Anything else is CONFLICT, saying nothing of the redemption behind it (its member, its
code): a key is not a way to read another member's reward.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace

from cdp.channel import Channel
from cdp.errors import Conflict, Forbidden, InsufficientPoints, NotFound, NotRedeemable
from cdp.identity.model import ProfileStatus
from cdp.identity.profile_changes import save_account
from cdp.identity.service import get_profile, get_profiles, live_profile
from cdp.loyalty.common import OPERATOR, checked_key, replay_allowed
from cdp.loyalty.lot_repository import load_lots, load_spendable, open_posting
from cdp.loyalty.model import LedgerEntryType, Redemption, RedemptionStatus
from cdp.loyalty.program import Reward
from cdp.loyalty.redemption_repository import (
    get_redemption,
    insert_redemption,
    issued_count,
    replace_redemption,
    stage_issued_count,
)
from cdp.loyalty.rewards import in_catalogue, stock_issued, tier_allows
from cdp.loyalty.settle import settle
from cdp.runtime import Runtime
from cdp.store.catalogue import REDEMPTIONS, REWARD_STOCK
from cdp.store.unit_of_work import UnitOfWork
from cdp.updates import UpdateKind

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a till
CODE_LENGTH = 10


def redemption_id(idempotency_key: str) -> str:
    return "rdm_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


async def redeem_reward(
    rt: Runtime,
    *,
    profile_id: str,
    reward_id: str,
    channel: Channel,
    idempotency_key: str,
    on_behalf_of: str | None = None,
    requested_by: str = OPERATOR,
) -> Redemption:
    """Spend points on a reward and issue its code.

    `on_behalf_of` is the profile id of a customer token: such a caller may redeem for
    that profile only. `requested_by` names the caller, the only one a replay answers.
    """
    key = checked_key("idempotencyKey", idempotency_key)
    reward = rt.program.reward(reward_id)
    if reward is None:
        raise NotFound(f"reward {reward_id} not found")
    rid = redemption_id(key)

    async def use_case(uow: UnitOfWork) -> Redemption:
        stored = await get_redemption(uow.store, rid)
        if stored is not None:
            return await _replayed(uow, stored, profile_id, reward_id, requested_by)
        profile = await live_profile(uow.store, profile_id)
        if on_behalf_of is not None and profile.id != on_behalf_of:
            raise Forbidden("a customer may redeem for their own profile only")
        now = rt.clock.now()
        posting = await open_posting(uow.store, profile, rt.program, now, channel)
        settle(posting)
        await _check_redeemable(uow, rt, reward, profile.status, posting.tier_id)
        if posting.balance < reward.cost:
            raise InsufficientPoints(
                f"{reward.name} costs {reward.cost} points; {posting.balance} are available"
            )
        await load_spendable(uow.store, posting, reward.cost)
        entry, spent = posting.spend(LedgerEntryType.REDEEM, reward.cost, reason=reward.name)
        redemption = Redemption(
            id=rid,
            profile_id=profile.id,
            reward_id=reward.id,
            points=reward.cost,
            code=new_code(),
            status=RedemptionStatus.ISSUED,
            channel=channel,
            created_at=now,
            idempotency_key=key,
            spent_lots=tuple(spent),
            requested_by=requested_by,
            sort_key=entry.sort_key,
        )
        insert_redemption(uow, redemption)
        await _count_stock(uow, reward, +1)
        save_account(uow, profile, posting, UpdateKind.POINTS_REDEEMED, entry=entry)
        return redemption

    # A collision is a concurrent replay of the same key (found on the next run), a
    # concurrent first redemption of a limited reward creating its stock count (counted
    # on the next run), or, rarely, a code already issued (a fresh one is drawn).
    return await rt.transaction(use_case, rerun_on={REDEMPTIONS, REWARD_STOCK})


async def _replayed(
    uow: UnitOfWork, stored: Redemption, profile_id: str, reward_id: str, requested_by: str
) -> Redemption:
    """The stored redemption, if the replay asks what the first request asked."""
    same = (
        stored.reward_id == reward_id
        and replay_allowed(stored.requested_by, requested_by)
        and await _same_member(uow, stored.profile_id, profile_id)
    )
    if not same:
        raise Conflict("idempotencyKey was already used for another request")
    return stored


async def _same_member(uow: UnitOfWork, stored_id: str, asked_id: str) -> bool:
    """Whether `asked_id` names the member redeemed for: the same id, or (after a merge)
    an id resolving to the same survivor."""
    if stored_id == asked_id:
        return True
    stored, asked = await get_profiles(uow.store, [stored_id, asked_id])
    return stored is not None and asked is not None and stored.id == asked.id


async def _check_redeemable(
    uow: UnitOfWork, rt: Runtime, reward: Reward, status: ProfileStatus, tier_id: str
) -> None:
    if status is not ProfileStatus.ENROLLED:
        raise NotRedeemable("only enrolled members can redeem; enroll this profile first")
    now = rt.clock.now()
    issued = await stock_issued(uow.store, rt.program, [reward])
    if not in_catalogue(reward, issued, now):
        raise NotRedeemable(f"{reward.name} is not available now")
    if not tier_allows(rt.program, reward, tier_id):
        raise NotRedeemable(f"{reward.name} needs a higher tier")


async def _count_stock(uow: UnitOfWork, reward: Reward, delta: int) -> None:
    """Issued count of a limited reward, changed under the same version check.

    The stock is checked again here, on the count this write is versioned against: the
    catalogue check read it earlier, and a concurrent redemption may have taken the last
    one since.
    """
    if reward.stock is None:
        return
    issued, read = await issued_count(uow.store, reward.id)
    if delta > 0 and issued + delta > reward.stock:
        raise NotRedeemable(f"{reward.name} is not available now")
    stage_issued_count(uow, reward.id, max(0, issued + delta), read)


async def void_redemption(
    rt: Runtime, *, redemption_id: str, reason: str | None, channel: Channel
) -> Redemption:
    """Cancel an issued redemption and give its points back, once."""

    async def use_case(uow: UnitOfWork) -> Redemption:
        redemption = await get_redemption(uow.store, redemption_id)
        if redemption is None:
            raise NotFound(f"redemption {redemption_id} not found")
        if redemption.status is RedemptionStatus.VOIDED:
            return redemption
        if redemption.status is not RedemptionStatus.ISSUED:
            raise Conflict(f"redemption {redemption_id} is {redemption.status.value}")
        profile = await get_profile(uow.store, redemption.profile_id)
        if profile is None:
            raise NotFound(f"the member of redemption {redemption_id} no longer exists")
        now = rt.clock.now()
        posting = await open_posting(uow.store, profile, rt.program, now, channel)
        settle(posting)
        await load_lots(uow.store, posting, [piece.lot_id for piece in redemption.spent_lots])
        entry = posting.restore(
            LedgerEntryType.VOID, list(redemption.spent_lots), reason=reason or "voided"
        )
        voided = replace(
            redemption,
            status=RedemptionStatus.VOIDED,
            voided_at=now,
            void_reason=reason,
            version=redemption.version + 1,
        )
        replace_redemption(uow, voided, redemption.version)
        reward = rt.program.reward(redemption.reward_id)
        if reward is not None:
            await _count_stock(uow, reward, -1)
        save_account(uow, profile, posting, UpdateKind.POINTS_ADJUSTED, entry=entry)
        return voided

    return await rt.transaction(use_case)
