"""Loyalty: accrual, returns, redemption, adjustments, and the account on a profile."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry

from cdp.auth.model import Caller, Scope
from cdp.errors import Forbidden
from cdp.identity.service import RawIdentifier
from cdp.loyalty import queries
from cdp.loyalty.adjustments import adjust_points as adjust
from cdp.loyalty.model import LineItem
from cdp.loyalty.model import Receipt as DomainReceipt
from cdp.loyalty.purchases import Purchase, Return
from cdp.loyalty.purchases import record_purchase as purchase
from cdp.loyalty.purchases import record_return as give_back
from cdp.loyalty.redemptions import redeem_reward as redeem
from cdp.loyalty.redemptions import void_redemption as void
from cdp.loyalty.rewards import StockIssued, rewards_for
from graphql_schema.enums import Channel, LedgerEntryType
from graphql_schema.loyalty import (
    LedgerConnection,
    LedgerEntry,
    LineItemInput,
    LoyaltyAccount,
    PageInfo,
    PointsQuote,
    PointsQuoteInput,
    PurchaseInput,
    Receipt,
    RedeemInput,
    Redemption,
    RedemptionConnection,
    RedemptionEdge,
    ReturnInput,
    Reward,
    Tier,
)
from resolvers.context import Info
from resolvers.inputs import capped
from resolvers.permissions import authenticated, require

if TYPE_CHECKING:
    from graphql_schema.profiles import Profile


async def _issued(info: Info) -> StockIssued:
    return await info.context.stock_issued()


async def _reward(info: Info, reward_id: str) -> Reward:
    rt = info.context.runtime
    rule = rt.program.reward(reward_id)
    assert rule is not None, "redemptions name rewards of the program"
    return Reward.from_domain(rule, rt.program, await _issued(info), rt.clock.now())


async def _receipt(info: Info, receipt: DomainReceipt) -> Receipt:
    unlocked = [await _reward(info, rid) for rid in receipt.rewards_unlocked]
    return Receipt.from_domain(receipt, info.context.runtime.program, unlocked)


def _lines(lines: list[LineItemInput]) -> list[LineItem]:
    """The program's limits (checked by the service) bound how many lines a basket has."""
    return [line.to_domain() for line in lines]


# -- Profile fields -----------------------------------------------------------------------


async def loyalty(root: Profile, info: Info) -> LoyaltyAccount:
    rt = info.context.runtime
    view = await queries.account_view(rt.store, rt.program, root.domain, rt.clock.now())
    return LoyaltyAccount.from_domain(view)


async def available_rewards(root: Profile, info: Info) -> list[Reward]:
    rt = info.context.runtime
    issued = await _issued(info)
    now = rt.clock.now()
    return [
        Reward.from_domain(r, rt.program, issued, now)
        for r in rewards_for(rt.program, root.domain, issued, now)
    ]


async def history(
    root: Profile,
    info: Info,
    first: int | None = 20,
    after: str | None = None,
    types: list[LedgerEntryType] | None = None,
) -> LedgerConnection:
    capped("types", types or [])
    asked = queries.HistoryPage.asked(
        root.domain.history_ids, first=first, after=after, types=types
    )
    return LedgerConnection.from_domain(await info.context.loaders.history_page.load(asked))


async def redemptions(
    root: Profile, info: Info, first: int | None = 20, after: str | None = None
) -> RedemptionConnection:
    page = await queries.redemptions(
        info.context.runtime.store, root.domain.history_ids, first=first, after=after
    )
    edges = [
        RedemptionEdge(
            cursor=cursor, node=Redemption.from_domain(r, await _reward(info, r.reward_id))
        )
        for cursor, r in page.items
    ]
    return RedemptionConnection(
        edges=edges, page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor)
    )


# -- Query ---------------------------------------------------------------------------------


async def tiers(info: Info) -> list[Tier]:
    await require(info, Scope.LOYALTY_READ)
    return [Tier.from_domain(t) for t in info.context.runtime.program.tiers.levels]


async def rewards(info: Info) -> list[Reward]:
    await require(info, Scope.LOYALTY_READ)
    rt = info.context.runtime
    issued = await _issued(info)
    now = rt.clock.now()
    return [Reward.from_domain(r, rt.program, issued, now) for r in rt.program.rewards]


async def points_quote(info: Info, input: PointsQuoteInput) -> PointsQuote:
    await require(info, Scope.LOYALTY_READ)
    quote = await queries.points_quote(
        info.context.runtime,
        channel=input.channel,
        lines=_lines(input.lines),
        identifier=RawIdentifier(input.identifier.type, input.identifier.value)
        if input.identifier
        else None,
    )
    return PointsQuote.from_domain(quote)


async def receipt(info: Info, channel: Channel, order_id: str) -> Receipt | None:
    await require(info, Scope.LOYALTY_READ)
    found = await queries.receipt(info.context.runtime.store, channel, order_id)
    return await _receipt(info, found) if found else None


async def me(info: Info) -> Profile | None:
    from graphql_schema.profiles import Profile

    caller = await authenticated(info)
    if not caller.is_customer:
        raise Forbidden("me needs a customer token")
    if caller.customer_profile_id is None:
        return None
    found = await info.context.loaders.profile_by_id.load(caller.customer_profile_id)
    return Profile.from_domain(found) if found else None


# -- Mutation ------------------------------------------------------------------------------


async def record_purchase(info: Info, input: PurchaseInput) -> Receipt:
    await require(info, Scope.LOYALTY_WRITE)
    result = await purchase(
        info.context.runtime,
        Purchase(
            channel=input.channel,
            order_id=input.order_id,
            identifier=RawIdentifier(input.identifier.type, input.identifier.value),
            lines=_lines(input.lines),
            store_id=input.store_id,
            register_id=input.register_id,
            occurred_at=input.occurred_at,
        ),
    )
    return await _receipt(info, result)


async def record_return(info: Info, input: ReturnInput) -> Receipt:
    await require(info, Scope.LOYALTY_WRITE)
    result = await give_back(
        info.context.runtime,
        Return(
            channel=input.channel,
            order_id=input.order_id,
            return_id=input.return_id,
            lines=_lines(input.lines),
            occurred_at=input.occurred_at,
        ),
    )
    return await _receipt(info, result)


def _redeemer(caller: Caller) -> str | None:
    """None for a key with loyalty:write; the member's own id for a customer token."""
    if caller.allows(Scope.LOYALTY_WRITE):
        return None
    if caller.is_customer and caller.customer_profile_id is not None:
        return caller.customer_profile_id
    raise Forbidden(f"this caller lacks the {Scope.LOYALTY_WRITE.value} scope")


async def redeem_reward(info: Info, input: RedeemInput) -> Redemption:
    caller = await authenticated(info)
    redemption = await redeem(
        info.context.runtime,
        profile_id=str(input.profile_id),
        reward_id=str(input.reward_id),
        channel=input.channel,
        idempotency_key=input.idempotency_key,
        on_behalf_of=_redeemer(caller),
        requested_by=caller.key_id,
    )
    return Redemption.from_domain(redemption, await _reward(info, redemption.reward_id))


async def void_redemption(info: Info, id: strawberry.ID, reason: str | None = None) -> Redemption:
    caller = await require(info, Scope.LOYALTY_WRITE)
    redemption = await void(
        info.context.runtime, redemption_id=str(id), reason=reason, channel=caller.channel
    )
    return Redemption.from_domain(redemption, await _reward(info, redemption.reward_id))


async def adjust_points(
    info: Info, profile_id: strawberry.ID, points: int, reason: str, idempotency_key: str
) -> LedgerEntry:
    caller = await require(info, Scope.LOYALTY_ADMIN)
    entry = await adjust(
        info.context.runtime,
        profile_id=str(profile_id),
        points=points,
        reason=reason,
        idempotency_key=idempotency_key,
        channel=caller.channel,
        requested_by=caller.key_id,
    )
    return LedgerEntry.from_domain(entry)
