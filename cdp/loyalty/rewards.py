"""Which rewards exist right now, and which of them one member can have."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from cdp.identity.model import Profile, ProfileStatus
from cdp.loyalty.program import Program, Reward
from cdp.loyalty.tiers import tier_rank
from cdp.store.catalogue import REWARD_STOCK
from cdp.store.port import Store

StockIssued = dict[str, int]


async def stock_issued(
    store: Store, program: Program, rewards: Iterable[Reward] | None = None
) -> StockIssued:
    """How many of each limited reward (of `rewards`, else of the program) have been
    issued: one round trip, none when no limited reward is asked about."""
    asked = program.rewards if rewards is None else rewards
    limited = list(dict.fromkeys(r.id for r in asked if r.stock is not None))
    if not limited:
        return {}
    docs = await store.get_many(REWARD_STOCK, limited)
    return {rid: (doc["issued"] if doc else 0) for rid, doc in zip(limited, docs, strict=True)}


def in_stock(reward: Reward, issued: StockIssued) -> bool:
    return reward.stock is None or issued.get(reward.id, 0) < reward.stock


def in_catalogue(reward: Reward, issued: StockIssued, now: datetime) -> bool:
    """Active and in stock: what `Reward.available` reports."""
    return reward.active(now) and in_stock(reward, issued)


def tier_allows(program: Program, reward: Reward, tier_id: str) -> bool:
    return reward.min_tier is None or tier_rank(program, tier_id) >= tier_rank(
        program, reward.min_tier
    )


def rewards_for(
    program: Program, profile: Profile, issued: StockIssued, now: datetime
) -> list[Reward]:
    """Eligible by tier, affordable now, and redeemable by this member."""
    return [r for r in affordable(program, profile, now) if in_stock(r, issued)]


def affordable(program: Program, profile: Profile, now: datetime) -> list[Reward]:
    """What `rewards_for` answers, stock aside: active, eligible by tier, affordable now,
    and redeemable by this member."""
    account = profile.loyalty
    return affordable_with(program, profile.status, account.tier_id, account.balance, now)


def affordable_with(
    program: Program, status: ProfileStatus, tier_id: str, balance: int, now: datetime
) -> list[Reward]:
    """`affordable` for a member known only by status, tier and available balance (what a
    pushed update carries)."""
    if status is not ProfileStatus.ENROLLED:
        return []
    return [
        r
        for r in program.rewards
        if r.cost <= balance and r.active(now) and tier_allows(program, r, tier_id)
    ]


def unlocked(before: Sequence[Reward], after: Sequence[Reward]) -> tuple[str, ...]:
    had = {r.id for r in before}
    return tuple(r.id for r in after if r.id not in had)
