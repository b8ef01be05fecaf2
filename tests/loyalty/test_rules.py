"""Focused unit tests of the rules the API tests lean on: money as Decimal, rounding
modes, calendar arithmetic, the tier window, the lots a posting spends and gives back,
and a program file that contradicts itself. No store: pure functions and one Posting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cdp.channel import Channel
from cdp.loyalty.accrual import quote
from cdp.loyalty.model import Account, LedgerEntryType, LineItem, Lot
from cdp.loyalty.posting import Posting, add_months
from cdp.loyalty.program import Program, ProgramError, load_program
from cdp.loyalty.tiers import qualifying_points, standing, window_months

from .support import START, program_with

DEMO = program_with()


def points(program: Program, amount: float, channel: Channel = Channel.POS) -> int:
    item = LineItem(sku=None, category="general", quantity=1, amount=amount)
    return quote(program, [item], channel=channel, tier=program.tiers.levels[0], at=START).points


@pytest.mark.parametrize(
    ("rounding", "expected"),
    [("floor", [2, 24]), ("nearest", [3, 25]), ("ceil", [3, 25])],
)
def test_each_rounding_mode_applies_to_a_lines_points(rounding: str, expected: list[int]) -> None:
    # 2.50 on POS earns 2.5; 19.99 online earns 19.99 x 1.25 = 24.9875.
    program = program_with(rounding=rounding)

    assert [points(program, 2.50), points(program, 19.99, Channel.ECOMMERCE)] == expected


def test_money_is_counted_in_decimal_not_binary_floats() -> None:
    # 0.29 x 100 is 28.999999999999996 in floats; a customer expects 29 points.
    assert points(program_with(points_per_unit=100), 0.29) == 29


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (datetime(2027, 1, 31, tzinfo=UTC), 1, datetime(2027, 2, 28, tzinfo=UTC)),
        (datetime(2028, 1, 31, tzinfo=UTC), 1, datetime(2028, 2, 29, tzinfo=UTC)),
        (datetime(2026, 12, 15, tzinfo=UTC), 1, datetime(2027, 1, 15, tzinfo=UTC)),
        (datetime(2026, 6, 15, tzinfo=UTC), 12, datetime(2027, 6, 15, tzinfo=UTC)),
    ],
)
def test_months_are_added_on_the_calendar(start: datetime, months: int, expected: datetime) -> None:
    assert add_months(start, months) == expected


def test_the_tier_window_is_twelve_calendar_months_ending_with_this_one() -> None:
    account = Account(qualifying_by_month={"2026-05": 700, "2026-06": 300, "2027-05": 250})
    may = datetime(2027, 5, 31, tzinfo=UTC)

    assert window_months(may, 12)[-1] == "2026-06"
    assert qualifying_points(DEMO, account, may) == 550
    assert standing(DEMO, account, may).points_to_next == 0  # 550 >= silver's 500


def lot(lot_id: str, points: int, expires_in_days: int) -> Lot:
    return Lot(lot_id, points, START, None, START + timedelta(days=expires_in_days))


def posting(*lots: Lot, pending: int = 0) -> Posting:
    available = sum(lot.points for lot in lots if lot.available_at is None)
    account = Account(balance=available, pending=pending, tier_id="member")
    return Posting("p_1", account, DEMO, START, Channel.POS, [(held, 0) for held in lots])


def test_spending_takes_the_soonest_expiring_lot_first_and_a_void_restores_it() -> None:
    books = posting(lot("later", 100, 300), lot("sooner", 100, 30))

    _, spent = books.spend(LedgerEntryType.REDEEM, 150)
    after_spend = {held.id: held.points for held in books.lots}
    books.restore(LedgerEntryType.VOID, spent)

    assert [(s.lot_id, s.points) for s in spent] == [("sooner", 100), ("later", 50)]
    assert after_spend == {"later": 50}
    assert sorted((held.id, held.points, held.expires_at) for held in books.lots) == [
        ("later", 100, START + timedelta(days=300)),
        ("sooner", 100, START + timedelta(days=30)),
    ]
    assert books.balance == 200


def test_a_lot_past_both_its_release_and_its_expiry_leaves_pending_when_it_expires() -> None:
    # The expire job can reach a lot the release job has not: it was counted as pending,
    # so expiring it must take it from pending, never from the balance.
    due = Lot("old", 80, START - timedelta(days=400), START - timedelta(days=386), START)
    books = posting(due, pending=80)

    entry = books.expire_due()

    assert entry is not None
    assert entry.points == -80
    assert (books.balance, books.pending, books.lots) == (0, 0, [])


def earn_for(books: Posting, order_key: str, base: int, bonus: int) -> None:
    """What a purchase posts: its base points, then its bonus, for one order."""
    for kind, amount in ((LedgerEntryType.EARN, base), (LedgerEntryType.BONUS, bonus)):
        books.earn(
            kind, amount, earned_at=START, pending=True, qualifying=True, order_key=order_key
        )


@pytest.mark.parametrize("pending_days", [14, 0], ids=["pending", "available-at-once"])
def test_an_orders_base_and_bonus_points_are_held_as_one_lot(pending_days: int) -> None:
    program = program_with(pending_days=pending_days)
    books = Posting("p_1", Account(tier_id="member"), program, START, Channel.POS)

    earn_for(books, "POS:o-1", 100, 40)
    earn_for(books, "POS:o-2", 30, 5)

    assert [(held.order_key, held.points) for held in books.lots] == [
        ("POS:o-1", 140),
        ("POS:o-2", 35),
    ]
    assert [entry.points for entry in books.entries] == [100, 40, 30, 5]  # the ledger keeps both
    assert books.pending + books.balance == 175


def test_a_return_takes_back_an_orders_coalesced_lot_before_any_other() -> None:
    books = Posting("p_1", Account(tier_id="member"), program_with(), START, Channel.POS)
    earn_for(books, "POS:o-1", 100, 40)
    earn_for(books, "POS:o-2", 30, 5)

    books.reverse(120, order_key="POS:o-1", order_month="2026-01", order_id="o-1", reason=None)

    assert [(held.order_key, held.points) for held in books.lots] == [
        ("POS:o-1", 20),
        ("POS:o-2", 35),
    ]


TIERS = '[tiers]\n[[tiers.levels]]\nid = "a"\nname = "A"\nthreshold = {threshold}\n'
PROGRAM = 'name = "X"\ncurrency = "USD"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            PROGRAM + TIERS.format(threshold=5),
            "program.toml: tiers: the first tier must have threshold 0",
        ),
        (
            PROGRAM
            + '[[category_bonuses]]\ncategory = "tea"\nmultiplier = 2.0\npoints_per_unit = 5\n'
            + TIERS.format(threshold=0),
            "program.toml: category_bonuses.0: give exactly one of multiplier or points_per_unit",
        ),
    ],
    ids=["tiers", "category-bonus"],
)
def test_a_program_that_contradicts_itself_names_the_file_and_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    program_file = tmp_path / "program.toml"
    program_file.write_text(text)

    with pytest.raises(ProgramError) as refused:
        load_program(program_file)

    assert str(refused.value) == message
