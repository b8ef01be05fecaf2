"""Purchases and returns: points for what was bought, taken back for what came back.

Idempotency (invariant 3): an order's id is "<channel>:<orderId>" and a return's is
"<channel>:<returnId>"; the store refuses a second insert, so of concurrent replays one
commits and the others run again, find the stored receipt, and return it unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from cdp.channel import Channel
from cdp.errors import BadInput, Conflict, NotFound
from cdp.identity.placeholders import is_placeholder
from cdp.identity.profile_changes import save_account, save_profile
from cdp.identity.service import (
    RawIdentifier,
    find_profiles,
    get_profile,
    new_profile,
    normalize,
)
from cdp.loyalty.accrual import check_lines, check_moment, quote
from cdp.loyalty.common import checked_key, fingerprint
from cdp.loyalty.lot_repository import load_order, load_spendable, open_posting
from cdp.loyalty.model import LedgerEntryType, LineItem, Receipt
from cdp.loyalty.order_repository import (
    Order,
    expired_points,
    get_order,
    get_return,
    stage_order,
    stage_order_lines,
    stage_return,
)
from cdp.loyalty.rewards import affordable, in_stock, stock_issued, unlocked
from cdp.loyalty.settle import downgrade_if_due, settle, upgrade_if_reached
from cdp.loyalty.tiers import month_key
from cdp.runtime import Runtime
from cdp.store.catalogue import IDENTIFIERS, ORDERS, RETURNS
from cdp.store.unit_of_work import UnitOfWork
from cdp.updates import UpdateKind

AMOUNT_TOLERANCE = Decimal("0.005")


@dataclass(frozen=True, slots=True)
class Purchase:
    channel: Channel
    order_id: str
    identifier: RawIdentifier
    lines: list[LineItem]
    store_id: str | None = None
    register_id: str | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Return:
    channel: Channel
    order_id: str
    return_id: str
    lines: list[LineItem]
    occurred_at: datetime | None = None


# A concurrent twin may claim the order, the return or a new identifier first.
RACED = frozenset({ORDERS, RETURNS, IDENTIFIERS})


async def record_purchase(rt: Runtime, purchase: Purchase) -> Receipt:
    """Accrue an order once; a replay returns the first receipt, other lines are CONFLICT.

    An identifier nobody holds yet gets an ALLOCATED profile that earns now and can
    redeem once enrolled.
    """
    program = rt.program
    order_id = checked_key("orderId", purchase.order_id)
    check_lines(program, purchase.lines)
    key = normalize(rt, purchase.identifier)
    if is_placeholder(key, rt.settings.denylist):
        raise BadInput(f"this {key.type.value} is a placeholder and cannot identify a member")
    order_key = f"{purchase.channel.value}:{order_id}"
    # Who and what: a replay naming another member is a different order, not a retry.
    request = fingerprint([key.key, *(line.to_doc() for line in purchase.lines)])

    async def use_case(uow: UnitOfWork) -> Receipt:
        now = rt.clock.now()
        earned_at = check_moment(program, purchase.occurred_at, now)
        stored = await get_order(uow.store, order_key)
        if stored is not None:
            return _replayed(stored.fingerprint, stored.receipt, request, f"order {order_id}")
        profile = (await find_profiles(uow.store, [key]))[0]
        created = profile is None
        if profile is None:
            profile = new_profile(now=now, channel=purchase.channel, keys=[key])
        before = affordable(program, profile, now)
        posting = await open_posting(uow.store, profile, program, now, purchase.channel)
        settle(posting)
        priced = quote(
            program,
            purchase.lines,
            channel=purchase.channel,
            tier=program.tier(posting.tier_id),
            at=earned_at,
        )
        for entry_type, points in (
            (LedgerEntryType.EARN, priced.base_points),
            (LedgerEntryType.BONUS, priced.bonus_points),
        ):
            posting.earn(
                entry_type,
                points,
                earned_at=earned_at,
                pending=True,
                qualifying=True,
                order_key=order_key,
                order_id=order_id,
            )
        tier_changed = upgrade_if_reached(posting)
        updated = save_profile(
            uow,
            before=None if created else profile,
            after=profile,
            posting=posting,
            kind=UpdateKind.POINTS_EARNED,
            new_keys=[key] if created else [],
            denylist=rt.settings.denylist,
            tier_changed=tier_changed,
        )
        after = affordable(program, updated, now)
        # Stock only matters for a limited reward within reach: read it only then.
        issued = await stock_issued(uow.store, program, [*before, *after])
        receipt = Receipt(
            order_id=order_id,
            channel=purchase.channel,
            store_id=purchase.store_id,
            register_id=purchase.register_id,
            profile_id=profile.id,
            points_earned=priced.points,
            bonus_points=priced.bonus_points,
            pending_points=updated.loyalty.pending,
            balance_after=updated.loyalty.balance,
            tier_id=updated.loyalty.tier_id,
            tier_changed=tier_changed,
            rewards_unlocked=unlocked(
                [r for r in before if in_stock(r, issued)],
                [r for r in after if in_stock(r, issued)],
            ),
            created_at=now,
        )
        stage_order(
            uow,
            order_key=order_key,
            profile_id=profile.id,
            fingerprint=request,
            month=month_key(earned_at),
            lines=priced.lines,
            receipt=receipt,
        )
        uow.record(receipt)
        return receipt

    return await rt.transaction(use_case, rerun_on=RACED)


def _replayed(stored_fingerprint: str, receipt: Receipt, request: str, what: str) -> Receipt:
    if stored_fingerprint != request:
        raise Conflict(f"{what} was already recorded with other lines")
    return receipt


async def record_return(rt: Runtime, returned: Return) -> Receipt:
    """Take back the points of returned lines, never more than the order earned in all."""
    program = rt.program
    order_id = checked_key("orderId", returned.order_id)
    return_id = checked_key("returnId", returned.return_id)
    check_lines(program, returned.lines)
    order_key = f"{returned.channel.value}:{order_id}"
    return_key = f"{returned.channel.value}:{return_id}"
    request = fingerprint([order_key, [line.to_doc() for line in returned.lines]])

    async def use_case(uow: UnitOfWork) -> Receipt:
        now = rt.clock.now()
        check_moment(program, returned.occurred_at, now)
        stored = await get_return(uow.store, return_key)
        if stored is not None:
            return _replayed(stored.fingerprint, stored.receipt, request, f"return {return_id}")
        order = await get_order(uow.store, order_key)
        if order is None:
            raise NotFound(f"order {order_id} not found on {returned.channel.value}")
        profile = await get_profile(uow.store, order.profile_id)
        if profile is None:
            raise NotFound(f"the member of order {order_id} no longer exists")
        lines, points = _reversal(order.lines, returned.lines)
        points = min(points, await _still_reversible(uow, order))
        posting = await open_posting(uow.store, profile, program, now, returned.channel)
        settle(posting)
        await load_order(uow.store, posting, order_key)
        await load_spendable(uow.store, posting, points)
        entry = posting.reverse(
            points,
            order_key=order_key,
            order_month=order.month,
            order_id=order_id,
            reason=f"return {return_id}",
        )
        tier_changed = downgrade_if_due(posting)
        updated = save_account(
            uow,
            profile,
            posting,
            UpdateKind.POINTS_REVERSED,
            entry=entry,
            tier_changed=tier_changed,
        )
        receipt = Receipt(
            order_id=order_id,
            channel=returned.channel,
            store_id=order.receipt.store_id,
            register_id=order.receipt.register_id,
            profile_id=profile.id,
            points_earned=entry.points if entry else 0,
            bonus_points=0,
            pending_points=updated.loyalty.pending,
            balance_after=updated.loyalty.balance,
            tier_id=updated.loyalty.tier_id,
            tier_changed=tier_changed,
            rewards_unlocked=(),
            created_at=now,
        )
        stage_order_lines(uow, order, lines)
        stage_return(
            uow, return_key=return_key, order_key=order_key, fingerprint=request, receipt=receipt
        )
        uow.record(receipt)
        return receipt

    return await rt.transaction(use_case, rerun_on=RACED)


async def _still_reversible(uow: UnitOfWork, order: Order) -> int:
    """What the order earned, less what earlier returns took back and what expired: points
    that expired cost the member already, so a return must not take them a second time."""
    earned = sum(int(line["points"]) for line in order.lines)
    reversed_before = sum(int(line["reversed"]) for line in order.lines)
    return max(0, earned - reversed_before - await expired_points(uow.store, order.key))


def _reversal(
    order_lines: list[dict[str, Any]], returned: list[LineItem]
) -> tuple[list[dict[str, Any]], int]:
    """The order's lines after this return, and the points it takes back.

    Each returned line matches an order line by sku (or, without a sku, by category) that
    still has something to return. A line's points come back in proportion to the amount
    returned, counted over all its returns, so rounding never takes back more than it gave.
    """
    lines = [dict(line) for line in order_lines]
    total = 0
    for number, item in enumerate(returned, start=1):
        amount = Decimal(repr(item.amount))
        target = next(
            (
                line
                for line in lines
                if _same_item(line, item)
                and Decimal(repr(line["amount"])) - Decimal(line["returned"]) + AMOUNT_TOLERANCE
                >= amount
            ),
            None,
        )
        if target is None:
            raise BadInput(f"line {number}: not in the order, or more than is left to return")
        bought = Decimal(repr(target["amount"]))
        returned_so_far = min(bought, Decimal(target["returned"]) + amount)
        owed = (
            int(
                (Decimal(target["points"]) * returned_so_far / bought).to_integral_value(
                    ROUND_FLOOR
                )
            )
            if bought
            else 0
        )
        total += owed - target["reversed"]
        target["returned"] = str(returned_so_far)
        target["reversed"] = owed
    return lines, total


def _same_item(line: dict[str, Any], item: LineItem) -> bool:
    if item.sku is not None:
        return bool(line["sku"] == item.sku)
    return item.category is not None and line["category"] == item.category
