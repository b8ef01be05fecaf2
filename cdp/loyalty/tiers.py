"""Tier standing: qualifying points inside the window, and where they put a member."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from cdp.loyalty.model import Account
from cdp.loyalty.program import Program, TierLevel


def month_key(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def window_months(now: datetime, months: int) -> tuple[str, ...]:
    """The month keys inside a window of `months` calendar months ending with `now`'s."""
    return _window(now.year, now.month, months)


@cache
def _window(year: int, month: int, months: int) -> tuple[str, ...]:
    """Asked a few times per purchase, and the same answer all month."""
    keys = []
    for _ in range(months):
        keys.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return tuple(keys)


def qualifying_points(program: Program, account: Account, now: datetime) -> int:
    months = window_months(now, program.tiers.window_months)
    return sum(account.qualifying_by_month.get(key, 0) for key in months)


def tier_for(program: Program, qualifying: int) -> TierLevel:
    reached = [t for t in program.tiers.levels if t.threshold <= qualifying]
    return reached[-1]


def tier_rank(program: Program, tier_id: str) -> int:
    return program.tiers.ranks.get(tier_id, 0)


@dataclass(frozen=True, slots=True)
class Standing:
    tier: TierLevel
    next_tier: TierLevel | None
    qualifying: int
    points_to_next: int | None
    progress: float


def standing(program: Program, account: Account, now: datetime) -> Standing:
    tier = program.tier(account.tier_id)
    qualifying = qualifying_points(program, account, now)
    levels = program.tiers.levels
    rank = tier_rank(program, tier.id)
    if rank == len(levels) - 1:
        return Standing(tier, None, qualifying, None, 1.0)
    following = levels[rank + 1]
    span = following.threshold - tier.threshold
    progress = min(1.0, max(0.0, (qualifying - tier.threshold) / span))
    return Standing(tier, following, qualifying, max(0, following.threshold - qualifying), progress)


def pruned_months(program: Program, account: Account, now: datetime) -> dict[str, int]:
    """Qualifying buckets still inside the window; older ones can never count again."""
    kept = set(window_months(now, program.tiers.window_months))
    return {k: v for k, v in account.qualifying_by_month.items() if k in kept}
