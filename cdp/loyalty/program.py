"""The loyalty program's rules, read from a TOML file and validated before start-up.

A bad file names the file, the key and the problem (`program.toml: tiers.levels.1.threshold:
Input should be greater than or equal to 0`), and the service does not start.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cdp.channel import Channel

DEMO_PROGRAM = Path(__file__).resolve().parent / "demo_program.toml"

Multiplier = Annotated[float, Field(ge=0, le=100)]
Points = Annotated[int, Field(ge=0, le=10_000_000)]


class Rounding(StrEnum):
    FLOOR = "floor"
    NEAREST = "nearest"
    CEIL = "ceil"


class ExpiryPolicy(StrEnum):
    NONE = "none"
    LOT = "lot"  # each earned lot expires N months after it was earned
    INACTIVITY = "inactivity"  # everything expires after N months without activity


class DowngradePolicy(StrEnum):
    NEVER = "never"
    WINDOW = "window"  # re-evaluated on the qualifying points inside the tier window


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CategoryBonus(Rule):
    category: str = Field(min_length=1)
    multiplier: Multiplier | None = None
    points_per_unit: Points | None = None  # fixed points per item sold

    @model_validator(mode="after")
    def _one_kind(self) -> CategoryBonus:
        if (self.multiplier is None) == (self.points_per_unit is None):
            raise ValueError("give exactly one of multiplier or points_per_unit")
        return self


class Promotion(Rule):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    starts_at: datetime
    ends_at: datetime
    multiplier: Multiplier
    channels: tuple[Channel, ...] = ()  # empty: every channel
    categories: tuple[str, ...] = ()  # empty: every category

    @model_validator(mode="after")
    def _window(self) -> Promotion:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("starts_at and ends_at need a UTC offset")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self

    def running(self, at: datetime, channel: Channel) -> bool:
        return self.starts_at <= at < self.ends_at and (
            not self.channels or channel in self.channels
        )

    def covers(self, category: str | None) -> bool:
        return not self.categories or category in self.categories


class TierLevel(Rule):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    threshold: Points
    multiplier: Multiplier = 1.0
    benefits: tuple[str, ...] = ()


class Tiers(Rule):
    window_months: int = Field(default=12, ge=1, le=120)
    downgrade: DowngradePolicy = DowngradePolicy.WINDOW
    levels: tuple[TierLevel, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Tiers:
        thresholds = [level.threshold for level in self.levels]
        if thresholds[0] != 0:
            raise ValueError("the first tier must have threshold 0")
        if thresholds != sorted(set(thresholds)):
            raise ValueError("tier thresholds must be strictly increasing")
        if len({level.id for level in self.levels}) != len(self.levels):
            raise ValueError("tier ids must be unique")
        return self

    @cached_property
    def ranks(self) -> dict[str, int]:
        """Tier id -> its place, lowest first (asked a dozen times per purchase; the
        rules are frozen, so worked out once)."""
        return {level.id: rank for rank, level in enumerate(self.levels)}


class Reward(Rule):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    description: str | None = None
    cost: Annotated[int, Field(ge=1, le=10_000_000)]
    min_tier: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    stock: Annotated[int, Field(ge=0)] | None = None  # None: unlimited

    def active(self, at: datetime) -> bool:
        return (self.starts_at is None or self.starts_at <= at) and (
            self.ends_at is None or at < self.ends_at
        )


class Expiry(Rule):
    policy: ExpiryPolicy = ExpiryPolicy.NONE
    months: int = Field(default=12, ge=1, le=240)


class Limits(Rule):
    """Bounds that turn absurd input into a clear error instead of absurd points."""

    max_lines: int = Field(default=500, ge=1, le=10_000)
    max_quantity: int = Field(default=10_000, ge=1)
    max_line_amount: float = Field(default=1_000_000, gt=0)
    future_tolerance_minutes: int = Field(default=10, ge=0)
    # How late a till may send a sale: a week offline is common, a year is a mistake.
    max_backdate_days: int = Field(default=90, ge=1, le=3650)


class Program(Rule):
    name: str = Field(min_length=1)
    currency: str = Field(min_length=3, max_length=3)
    rounding: Rounding = Rounding.FLOOR
    points_per_unit: Annotated[float, Field(gt=0, le=1000)] = 1.0
    pending_days: int = Field(default=0, ge=0, le=365)
    allow_negative_balance: bool = False
    enrollment_bonus: Points = 0
    profile_completion_bonus: Points = 0
    channel_multipliers: dict[Channel, Multiplier] = Field(default_factory=dict)
    category_bonuses: tuple[CategoryBonus, ...] = ()
    promotions: tuple[Promotion, ...] = ()
    tiers: Tiers
    rewards: tuple[Reward, ...] = ()
    expiry: Expiry = Expiry()
    limits: Limits = Limits()

    @model_validator(mode="after")
    def _references(self) -> Program:
        tier_ids = {level.id for level in self.tiers.levels}
        for reward in self.rewards:
            if reward.min_tier is not None and reward.min_tier not in tier_ids:
                raise ValueError(f"reward {reward.id!r} names unknown tier {reward.min_tier!r}")
        if len({r.id for r in self.rewards}) != len(self.rewards):
            raise ValueError("reward ids must be unique")
        if len({c.category for c in self.category_bonuses}) != len(self.category_bonuses):
            raise ValueError("each category may have one bonus rule")
        return self

    def tier(self, tier_id: str) -> TierLevel:
        return self.tiers.levels[self.tiers.ranks.get(tier_id, 0)]

    def reward(self, reward_id: str) -> Reward | None:
        return next((r for r in self.rewards if r.id == reward_id), None)

    def category_bonus(self, category: str | None) -> CategoryBonus | None:
        return self._bonus_by_category.get(category) if category is not None else None

    @cached_property
    def _bonus_by_category(self) -> dict[str, CategoryBonus]:
        """Looked up for every line of every basket; the rules are frozen."""
        return {bonus.category: bonus for bonus in self.category_bonuses}


class ProgramError(Exception):
    """One line: file, key and problem."""


def load_program(path: Path) -> Program:
    try:
        raw = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ProgramError(f"{path}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProgramError(f"{path}: not valid TOML: {exc}") from None
    try:
        return Program.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(top level)"
        message = first["msg"].removeprefix("Value error, ")
        raise ProgramError(f"{path.name}: {key}: {message}") from None
