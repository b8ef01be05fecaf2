"""What a basket earns: base points, channel, category and promotion bonuses, tier multiplier.

Pure functions of the program, the lines and the moment, so a quote on a product page and
the points written at the till are the same computation. Money is handled as Decimal, so
19.99 earns 19 points and never 19.989999.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from cdp.channel import Channel
from cdp.errors import BadInput
from cdp.loyalty.model import LineItem
from cdp.loyalty.program import Program, Rounding, TierLevel

MAX_TEXT = 100
_ROUNDING = {
    Rounding.FLOOR: ROUND_FLOOR,
    Rounding.NEAREST: ROUND_HALF_UP,
    Rounding.CEIL: ROUND_CEILING,
}


@dataclass(frozen=True, slots=True)
class QuotedLine:
    line: LineItem
    base_points: int
    points: int


@dataclass(frozen=True, slots=True)
class Quote:
    points: int
    base_points: int
    bonus_points: int
    tier_multiplier: float
    lines: tuple[QuotedLine, ...]


def check_lines(program: Program, lines: list[LineItem], *, allow_empty: bool = False) -> None:
    """BAD_USER_INPUT for a basket no till could have produced."""
    limits = program.limits
    if not lines and not allow_empty:
        raise BadInput("lines must not be empty")
    if len(lines) > limits.max_lines:
        raise BadInput(f"at most {limits.max_lines} lines")
    for number, line in enumerate(lines, start=1):
        if not math.isfinite(line.amount) or line.amount < 0:
            raise BadInput(f"line {number}: amount must be a number >= 0")
        if line.amount > limits.max_line_amount:
            raise BadInput(f"line {number}: amount is above {limits.max_line_amount:g}")
        if not 1 <= line.quantity <= limits.max_quantity:
            raise BadInput(f"line {number}: quantity must be 1 to {limits.max_quantity}")
        for name, text in (("sku", line.sku), ("category", line.category)):
            if text is not None and not 0 < len(text) <= MAX_TEXT:
                raise BadInput(f"line {number}: {name} must be 1 to {MAX_TEXT} characters")


def check_moment(program: Program, occurred_at: datetime | None, now: datetime) -> datetime:
    """When it happened: `now` when omitted; BAD_USER_INPUT in the future or too long ago."""
    if occurred_at is None:
        return now
    if occurred_at.tzinfo is None:
        raise BadInput("occurredAt needs a UTC offset")
    tolerance = timedelta(minutes=program.limits.future_tolerance_minutes)
    if occurred_at > now + tolerance:
        raise BadInput("occurredAt is in the future")
    if occurred_at < now - timedelta(days=program.limits.max_backdate_days):
        raise BadInput(f"occurredAt is more than {program.limits.max_backdate_days} days ago")
    return occurred_at


def _decimal(value: float) -> Decimal:
    return Decimal(repr(value))


def quote(
    program: Program, lines: list[LineItem], *, channel: Channel, tier: TierLevel, at: datetime
) -> Quote:
    rounding = _ROUNDING[program.rounding]
    tier_multiplier = _decimal(tier.multiplier)
    channel_multiplier = _decimal(program.channel_multipliers.get(channel, 1.0))
    per_unit = _decimal(program.points_per_unit)
    running = [(p, _decimal(p.multiplier)) for p in program.promotions if p.running(at, channel)]
    quoted: list[QuotedLine] = []
    for line in lines:
        raw_base = _decimal(line.amount) * per_unit
        multiplier = channel_multiplier
        fixed = Decimal(0)
        bonus_rule = program.category_bonus(line.category)
        if bonus_rule is not None and bonus_rule.multiplier is not None:
            multiplier *= _decimal(bonus_rule.multiplier)
        elif bonus_rule is not None and bonus_rule.points_per_unit is not None:
            fixed = Decimal(bonus_rule.points_per_unit * line.quantity)
        for promotion, promotion_multiplier in running:
            if promotion.covers(line.category):
                multiplier *= promotion_multiplier
        points = int(
            ((raw_base * multiplier + fixed) * tier_multiplier).to_integral_value(rounding)
        )
        base = min(int(raw_base.to_integral_value(rounding)), points)
        quoted.append(QuotedLine(line, base, points))
    total = sum(q.points for q in quoted)
    base_total = sum(q.base_points for q in quoted)
    return Quote(total, base_total, total - base_total, tier.multiplier, tuple(quoted))
