"""Points, tiers, rewards, ledger, redemptions and receipts as the contract shows them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from cdp.loyalty import model, queries
from cdp.loyalty.accrual import Quote
from cdp.loyalty.program import Program, TierLevel
from cdp.loyalty.program import Reward as RewardRule
from cdp.loyalty.queries import AccountView, Page
from cdp.loyalty.rewards import StockIssued, in_catalogue
from cdp.realtime.messages import PushedUpdate
from graphql_schema.enums import Channel, LedgerEntryType, RedemptionStatus
from graphql_schema.identifiers import IdentifierInput
from resolvers.permissions import profile_field
from resolvers.pushed import pushed_profile

if TYPE_CHECKING:
    from graphql_schema.profiles import Profile


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Tier:
    id: strawberry.ID
    name: str
    threshold: int
    multiplier: float
    benefits: list[str]

    @classmethod
    def from_domain(cls, tier: TierLevel) -> Tier:
        return cls(
            id=strawberry.ID(tier.id),
            name=tier.name,
            threshold=tier.threshold,
            multiplier=tier.multiplier,
            benefits=list(tier.benefits),
        )


@strawberry.type
class ExpiringPoints:
    points: int
    expires_at: datetime


async def _expiring_points(root: LoyaltyAccount, info: strawberry.Info) -> list[ExpiringPoints]:
    """Read from the member's lots only when asked for."""
    found = await queries.expiring(info.context.runtime.store, root.profile_id)
    return [ExpiringPoints(points=points, expires_at=at) for points, at in found]


@strawberry.type
class LoyaltyAccount:
    balance: int
    pending_points: int
    lifetime_points: int
    qualifying_points: int
    tier: Tier
    next_tier: Tier | None
    points_to_next_tier: int | None
    tier_progress: float
    expiring_points: list[ExpiringPoints] = strawberry.field(resolver=_expiring_points)
    can_redeem: bool
    profile_id: strawberry.Private[str]

    @classmethod
    def from_domain(cls, view: AccountView) -> LoyaltyAccount:
        standing = view.standing
        return cls(
            profile_id=view.profile_id,
            balance=view.balance,
            pending_points=view.pending,
            lifetime_points=view.lifetime,
            qualifying_points=standing.qualifying,
            tier=Tier.from_domain(standing.tier),
            next_tier=Tier.from_domain(standing.next_tier) if standing.next_tier else None,
            points_to_next_tier=standing.points_to_next,
            tier_progress=standing.progress,
            can_redeem=view.can_redeem,
        )


@strawberry.type
class Reward:
    id: strawberry.ID
    name: str
    description: str | None
    cost: int
    min_tier: Tier | None
    available: bool

    @classmethod
    def from_domain(
        cls, reward: RewardRule, program: Program, issued: StockIssued, now: datetime
    ) -> Reward:
        return cls(
            id=strawberry.ID(reward.id),
            name=reward.name,
            description=reward.description,
            cost=reward.cost,
            min_tier=Tier.from_domain(program.tier(reward.min_tier)) if reward.min_tier else None,
            available=in_catalogue(reward, issued, now),
        )


@strawberry.type
class LedgerEntry:
    id: strawberry.ID
    type: LedgerEntryType
    points: int
    balance_after: int
    channel: Channel
    reason: str | None
    order_id: str | None
    created_at: datetime
    available_at: datetime | None
    expires_at: datetime | None

    @classmethod
    def from_domain(cls, entry: model.LedgerEntry) -> LedgerEntry:
        return cls(
            id=strawberry.ID(entry.id),
            type=entry.type,
            points=entry.points,
            balance_after=entry.balance_after,
            channel=entry.channel,
            reason=entry.reason,
            order_id=entry.order_id,
            created_at=entry.created_at,
            available_at=entry.available_at,
            expires_at=entry.expires_at,
        )


@strawberry.type
class LedgerEdge:
    cursor: str
    node: LedgerEntry


@strawberry.type
class LedgerConnection:
    edges: list[LedgerEdge]
    page_info: PageInfo

    @classmethod
    def from_domain(cls, page: Page[model.LedgerEntry]) -> LedgerConnection:
        return cls(
            edges=[LedgerEdge(cursor=c, node=LedgerEntry.from_domain(e)) for c, e in page.items],
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
        )


@strawberry.type
class Redemption:
    id: strawberry.ID
    reward: Reward
    points: int
    code: str
    status: RedemptionStatus
    channel: Channel
    created_at: datetime

    @classmethod
    def from_domain(cls, redemption: model.Redemption, reward: Reward) -> Redemption:
        return cls(
            id=strawberry.ID(redemption.id),
            reward=reward,
            points=redemption.points,
            code=redemption.code,
            status=redemption.status,
            channel=redemption.channel,
            created_at=redemption.created_at,
        )


@strawberry.type
class RedemptionEdge:
    cursor: str
    node: Redemption


@strawberry.type
class RedemptionConnection:
    edges: list[RedemptionEdge]
    page_info: PageInfo


async def _member_of(root: Receipt, info: strawberry.Info) -> Profile | None:
    from graphql_schema.profiles import Profile

    if root.member is not None:
        return await pushed_profile(info, root.member)
    found = await info.context.loaders.profile_by_id.load(root.profile_id)
    return Profile.from_domain(found) if found else None


@strawberry.type
class Receipt:
    order_id: str
    channel: Channel
    store_id: str | None
    register_id: str | None
    points_earned: int
    bonus_points: int
    pending_points: int
    balance_after: int
    tier: Tier
    tier_changed: bool
    rewards_unlocked: list[Reward]
    created_at: datetime
    profile_id: strawberry.Private[str]
    # A pushed receipt's member as the message carries it (resolvers/pushed.py).
    member: strawberry.Private[PushedUpdate | None] = None
    profile: Annotated[Profile, strawberry.lazy("graphql_schema.profiles")] | None = profile_field(
        resolver=_member_of
    )

    @classmethod
    def from_domain(
        cls,
        receipt: model.Receipt,
        program: Program,
        rewards: list[Reward],
        member: PushedUpdate | None = None,
    ) -> Receipt:
        return cls(
            order_id=receipt.order_id,
            channel=receipt.channel,
            store_id=receipt.store_id,
            register_id=receipt.register_id,
            points_earned=receipt.points_earned,
            bonus_points=receipt.bonus_points,
            pending_points=receipt.pending_points,
            balance_after=receipt.balance_after,
            tier=Tier.from_domain(program.tier(receipt.tier_id)),
            tier_changed=receipt.tier_changed,
            rewards_unlocked=rewards,
            created_at=receipt.created_at,
            profile_id=receipt.profile_id,
            member=member,
        )


@strawberry.type
class PointsQuoteLine:
    sku: str | None
    category: str | None
    amount: float
    points: int


@strawberry.type
class PointsQuote:
    points: int
    base_points: int
    bonus_points: int
    tier_multiplier: float
    lines: list[PointsQuoteLine]

    @classmethod
    def from_domain(cls, quote: Quote) -> PointsQuote:
        return cls(
            points=quote.points,
            base_points=quote.base_points,
            bonus_points=quote.bonus_points,
            tier_multiplier=quote.tier_multiplier,
            lines=[
                PointsQuoteLine(
                    sku=q.line.sku, category=q.line.category, amount=q.line.amount, points=q.points
                )
                for q in quote.lines
            ],
        )


@strawberry.input
class LineItemInput:
    sku: str | None = None
    category: str | None = None
    quantity: int | None = 1
    amount: float

    def to_domain(self) -> model.LineItem:
        return model.LineItem(
            self.sku, self.category, 1 if self.quantity is None else self.quantity, self.amount
        )


@strawberry.input
class PurchaseInput:
    channel: Channel
    order_id: str
    identifier: IdentifierInput
    lines: list[LineItemInput]
    store_id: str | None = None
    register_id: str | None = None
    occurred_at: datetime | None = None


@strawberry.input
class ReturnInput:
    channel: Channel
    order_id: str
    return_id: str
    lines: list[LineItemInput]
    occurred_at: datetime | None = None


@strawberry.input
class RedeemInput:
    profile_id: strawberry.ID
    reward_id: strawberry.ID
    channel: Channel
    idempotency_key: str


@strawberry.input
class PointsQuoteInput:
    channel: Channel
    lines: list[LineItemInput]
    identifier: IdentifierInput | None = None
