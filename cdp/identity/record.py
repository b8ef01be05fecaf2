"""The folded fields matching compares, one record at a time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from cdp.identity.model import IdentifierKey, IdentifierType, PersonalData
from cdp.identity.normalize import fold_name
from cdp.identity.placeholders import is_placeholder

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_TYPED_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")
# One spelling per street word, so "1 Main Street" and "1 Main St" compare as equal.
_STREET_WORDS = {
    "street": "st", "avenue": "ave", "av": "ave", "road": "rd", "drive": "dr",
    "boulevard": "blvd", "lane": "ln", "court": "ct", "place": "pl", "terrace": "ter",
    "highway": "hwy", "parkway": "pkwy", "square": "sq", "apartment": "apt", "suite": "ste",
    "north": "n", "south": "s", "east": "e", "west": "w",
}  # fmt: skip


@lru_cache(maxsize=65_536)
def _folded(value: str) -> str | None:
    """Case, accents and punctuation folded away. Cached: every resolution folds each
    candidate's names again, and names repeat."""
    return _NON_ALNUM.sub(" ", fold_name(value)).strip() or None


def _street(folded: str | None) -> str | None:
    return " ".join(_STREET_WORDS.get(w, w) for w in folded.split()) if folded else None


@dataclass(frozen=True, slots=True)
class MatchRecord:
    """The folded fields matching compares; None where unknown."""

    first: str | None
    last: str | None
    postal: str | None
    birth: date | None
    street: str | None
    email: str | None
    phone: str | None
    # The digits (YYYYMMDD) of a birth date typed as no calendar date, for this record's
    # resolution only: the profile does not keep it (cdp/identity/importer.py).
    birth_typed: str | None = None

    @classmethod
    def of(cls, personal: PersonalData, denylist: frozenset[str] = frozenset()) -> MatchRecord:
        """The record of `personal`; a placeholder email or phone counts as unknown, so a
        refused contact is no evidence of another person."""

        def contact(type_: IdentifierType, value: str | None) -> str | None:
            if value is None or is_placeholder(IdentifierKey(type_, value), denylist):
                return None
            return value

        postal = personal.postal_code
        return cls(
            first=_folded(personal.first_name) if personal.first_name else None,
            last=_folded(personal.last_name) if personal.last_name else None,
            postal=_NON_ALNUM.sub("", postal.casefold()) or None if postal else None,
            birth=personal.birth_date,
            street=_street(_folded(personal.street_address)) if personal.street_address else None,
            email=contact(IdentifierType.EMAIL, personal.email),
            phone=contact(IdentifierType.PHONE, personal.phone),
        )


def typed_birth_digits(text: str | None) -> str | None:
    """YYYYMMDD from a date typed as YYYY-MM-DD (or without dashes), calendar date or not;
    None for anything else."""
    found = _TYPED_DATE.fullmatch(text.strip()) if text else None
    return "".join(found.groups()) if found else None


def street_anchor(street: str | None) -> str | None:
    """House number and the street's first word ("12 oak st" -> "12 oak"), when numbered."""
    words = street.split() if street else []
    if len(words) < 2 or not any(c.isdigit() for c in words[0]):
        return None
    return f"{words[0]} {words[1]}"
