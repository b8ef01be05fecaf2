"""How two records compare, field by field, as Fellegi-Sunter agreement levels.

Each comparison puts a pair of records on one of a few ordered levels (best first:
exact, then kinds of near agreement, then "different"), or on none when either side
lacks the field: a missing field is no evidence either way. The match model gives each
level a weight learnt from the data (cdp/identity/match_model.py); this module only says
which level a pair is on, so the levels mean the same to training and to scoring.

The near levels are the typing errors tills make: a nickname or a one-letter slip in a
name (Damerau-Levenshtein 1 catches short names that Jaro-Winkler scores low), one or
two digits of a birth date mistyped or two swapped, day and month swapped, two digits of
a postal code swapped. A birth date typed as no calendar date (1990-13-01) still counts
where it is one or two digits from the other record's date. First and last names are
compared straight and swapped, and the better of the two counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

import jellyfish
from rapidfuzz.distance import OSA, JaroWinkler
from rapidfuzz.fuzz import token_sort_ratio

from cdp.identity.nicknames import same_given_name
from cdp.identity.record import MatchRecord, street_anchor

DIFFERENT = "different"
CLOSE_NAME = 0.92
SIMILAR_NAME = 0.8
SAME_STREET = 85  # token_sort_ratio, after street words are made uniform


@dataclass(frozen=True, slots=True)
class Comparison:
    """One comparison: its levels, best first, and the fields (as the contract's
    `matchedOn` names them) that agree on each level that counts as agreeing."""

    name: str
    levels: tuple[str, ...]
    agreeing: dict[str, tuple[str, ...]]


def _agree(field: str, *levels: str) -> dict[str, tuple[str, ...]]:
    return dict.fromkeys(levels, (field,))


FIRST_NAME = Comparison(
    "first_name",
    ("exact", "nickname", "close", "similar", DIFFERENT),
    _agree("firstName", "exact", "nickname", "close", "similar"),
)
LAST_NAME = Comparison(
    "last_name",
    ("exact", "close", "similar", DIFFERENT),
    _agree("lastName", "exact", "close", "similar"),
)
BIRTH_DATE = Comparison(
    "birth_date", ("exact", "one_digit", "two_digits", DIFFERENT), _agree("birthDate", "exact")
)
# Postal code and street as one comparison: a move changes both and a household shares
# both, so counting them apart would count one fact twice.
ADDRESS = Comparison(
    "address",
    ("exact", "street", "postal", "postal_typo", DIFFERENT),
    {
        "exact": ("postalCode", "streetAddress"),
        "street": ("streetAddress",),
        "postal": ("postalCode",),
    },
)
EMAIL = Comparison("email", ("exact", DIFFERENT), _agree("email", "exact"))
PHONE = Comparison("phone", ("exact", DIFFERENT), _agree("phone", "exact"))
COMPARISONS = (FIRST_NAME, LAST_NAME, BIRTH_DATE, ADDRESS, EMAIL, PHONE)

T = TypeVar("T")
Levels = tuple[str | None, ...]  # one per comparison, in COMPARISONS order; None: missing


def _similar_names(x: str, y: str) -> str | None:
    """close / similar for two names that are not equal; None when they are unlike."""
    similarity = JaroWinkler.similarity(x, y)
    if similarity >= CLOSE_NAME:
        return "close"
    if (
        similarity >= SIMILAR_NAME
        or OSA.distance(x, y) <= 1
        or jellyfish.metaphone(x) == jellyfish.metaphone(y)
    ):
        return "similar"
    return None


def first_name_level(x: str, y: str) -> str:
    if x == y:
        return "exact"
    if same_given_name(x, y):
        return "nickname"
    return _similar_names(x, y) or DIFFERENT


def last_name_level(x: str, y: str) -> str:
    if x == y:
        return "exact"
    return _similar_names(x, y) or DIFFERENT


def _rank(comparison: Comparison, level: str | None) -> int:
    return len(comparison.levels) if level is None else comparison.levels.index(level)


def name_levels(a: MatchRecord, b: MatchRecord) -> tuple[str | None, str | None]:
    """First- and last-name levels, straight or swapped, whichever agrees better.

    Swapped, either name of a pair may be the one compared as a given name; both ways
    are tried, and ties go to the lower levels, so that a pair scores the same whichever
    of its records arrived first. Better means closer in sum: a family name equal and
    a given name different (a household) stays that, rather than becoming two names
    each vaguely like the other's.
    """
    straight = (
        first_name_level(a.first, b.first) if a.first and b.first else None,
        last_name_level(a.last, b.last) if a.last and b.last else None,
    )
    if not (a.first and a.last and b.first and b.last):
        return straight
    swapped = (
        (first_name_level(a.first, b.last), last_name_level(a.last, b.first)),
        (first_name_level(a.last, b.first), last_name_level(a.first, b.last)),
    )

    def badness(levels: tuple[str | None, str | None]) -> tuple[int, int, int, int]:
        ranks = (_rank(FIRST_NAME, levels[0]), _rank(LAST_NAME, levels[1]))
        return sum(ranks), max(ranks), *ranks

    return min((straight, *swapped), key=badness)


def _digit_slips(x: str, y: str) -> int | None:
    """How many digits differ between equal-length digit strings; 1 for two adjacent
    digits swapped; None when the lengths differ."""
    if len(x) != len(y):
        return None
    differ = [i for i in range(len(x)) if x[i] != y[i]]
    if len(differ) == 2 and differ[1] == differ[0] + 1:
        i, j = differ
        if x[i] == y[j] and x[j] == y[i]:
            return 1
    return len(differ)


def birth_level(x: date, y: date) -> str:
    if x == y:
        return "exact"
    slips = _digit_slips(x.strftime("%Y%m%d"), y.strftime("%Y%m%d"))
    if slips == 1:
        return "one_digit"
    if slips == 2 or (x.year, x.month, x.day) == (y.year, y.day, y.month):
        return "two_digits"
    return DIFFERENT


def typed_birth_level(typed: str, other: date) -> str | None:
    """A birth date typed as no calendar date (its digits) against a date: one or two
    digits off is a typo of it; further off says nothing (the text is garbled, and a
    date that cannot be read is no evidence of another person)."""
    slips = _digit_slips(typed, other.strftime("%Y%m%d"))
    return {1: "one_digit", 2: "two_digits"}.get(slips) if slips is not None else None


def _birth(a: MatchRecord, b: MatchRecord) -> str | None:
    if a.birth and b.birth:
        return birth_level(a.birth, b.birth)
    if a.birth_typed and b.birth:
        return typed_birth_level(a.birth_typed, b.birth)
    if b.birth_typed and a.birth:
        return typed_birth_level(b.birth_typed, a.birth)
    return None


def postal_level(x: str, y: str) -> str:
    if x == y:
        return "exact"
    return "typo" if _digit_slips(x, y) == 1 else DIFFERENT


def street_level(x: str, y: str) -> str:
    if x == y:
        return "exact"
    anchor = street_anchor(x)
    if (anchor is not None and anchor == street_anchor(y)) or token_sort_ratio(x, y) >= SAME_STREET:
        return "close"
    return DIFFERENT


def address_level(a: MatchRecord, b: MatchRecord) -> str | None:
    """exact: postal code and street; street: the street (postal code mistyped or
    missing); postal: the postal code only; postal_typo; different; None: nothing to
    compare."""
    postal = _compare(a.postal, b.postal, postal_level)
    street = _compare(a.street, b.street, street_level)
    street_agrees = street in ("exact", "close")
    if street_agrees:
        return "exact" if postal == "exact" else "street"
    if postal == "exact":
        return "postal"
    if postal == "typo":
        return "postal_typo"
    return DIFFERENT if postal or street else None


def _same(x: str, y: str) -> str:
    return "exact" if x == y else DIFFERENT


def _compare(x: T | None, y: T | None, level: Callable[[T, T], str]) -> str | None:
    return None if x is None or y is None else level(x, y)


def compare(a: MatchRecord, b: MatchRecord) -> Levels:
    """The level of each comparison (None where a side lacks the field)."""
    first, last = name_levels(a, b)
    return (
        first,
        last,
        _birth(a, b),
        address_level(a, b),
        _compare(a.email, b.email, _same),
        _compare(a.phone, b.phone, _same),
    )
