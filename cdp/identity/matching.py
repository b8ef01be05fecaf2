"""Probabilistic matching: who else might this person be, and how sure are we.

Blocking keeps the cost flat as profiles grow: a record is compared only with profiles
that share a blocking key (postal code, birth date or house number and street, with a
phonetic code of a name or of the full name a nickname stands for), never with everyone.
Scoring adds evidence (names, postal code, birth date, street) and subtracts
contradictions (another birth date, another email), and needs similar first AND last
names before anything else counts, so a family at one address never merges.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import jellyfish
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.fuzz import token_sort_ratio

from cdp.identity.model import IdentifierKey, IdentifierType, PersonalData
from cdp.identity.nicknames import name_forms, same_given_name
from cdp.identity.normalize import fold_name
from cdp.identity.placeholders import is_placeholder

STRONG_NAME = 0.92
WEAK_NAME = 0.85
# People keep several emails (home, work): another one is weak evidence of another person.
OTHER_EMAIL = 0.1
OTHER_PHONE = 0.1
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
# One spelling per street word, so "1 Main Street" and "1 Main St" compare as equal.
_STREET_WORDS = {
    "street": "st", "avenue": "ave", "av": "ave", "road": "rd", "drive": "dr",
    "boulevard": "blvd", "lane": "ln", "court": "ct", "place": "pl", "terrace": "ter",
    "highway": "hwy", "parkway": "pkwy", "square": "sq", "apartment": "apt", "suite": "ste",
    "north": "n", "south": "s", "east": "e", "west": "w",
}  # fmt: skip


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

    @classmethod
    def of(cls, personal: PersonalData, denylist: frozenset[str] = frozenset()) -> MatchRecord:
        """The record of `personal`; a placeholder email or phone counts as unknown, so a
        refused contact is no evidence of another person."""

        def folded(value: str | None) -> str | None:
            return _NON_ALNUM.sub(" ", fold_name(value)).strip() or None if value else None

        def contact(type_: IdentifierType, value: str | None) -> str | None:
            if value is None or is_placeholder(IdentifierKey(type_, value), denylist):
                return None
            return value

        postal = personal.postal_code
        return cls(
            first=folded(personal.first_name),
            last=folded(personal.last_name),
            postal=_NON_ALNUM.sub("", postal.casefold()) or None if postal else None,
            birth=personal.birth_date,
            street=_street(folded(personal.street_address)),
            email=contact(IdentifierType.EMAIL, personal.email),
            phone=contact(IdentifierType.PHONE, personal.phone),
        )

    @property
    def matchable(self) -> bool:
        return bool(self.first and self.last and (self.postal or self.birth))


def _sounds(name: str) -> set[str]:
    return {jellyfish.soundex(form) for form in name_forms(name)}


def _street_anchor(street: str | None) -> str | None:
    """House number and the street's first word ("12 oak st" -> "12 oak"), when numbered."""
    words = street.split() if street else []
    if len(words) < 2 or not any(c.isdigit() for c in words[0]):
        return None
    return f"{words[0]} {words[1]}"


def blocking_keys(record: MatchRecord) -> set[str]:
    """Keys a duplicate would most likely share despite typos, swaps and a move."""
    if not (record.first and record.last):
        return set()
    names = _sounds(record.first) | _sounds(record.last)
    street = _street_anchor(record.street)
    keys: set[str] = set()
    for anchor in (
        f"p|{record.postal}" if record.postal else None,
        f"b|{record.birth.isoformat()}" if record.birth else None,
        f"s|{street}" if street else None,
    ):
        if anchor:
            keys.update(f"{anchor}|{sound}" for sound in names)
    return keys


def _given(x: str, y: str) -> float:
    return 1.0 if same_given_name(x, y) else float(JaroWinkler.similarity(x, y))


def _name_similarity(first_a: str, last_a: str, first_b: str, last_b: str) -> tuple[float, float]:
    """Similarity of given and family names, allowing them to have been swapped."""
    straight = (_given(first_a, first_b), float(JaroWinkler.similarity(last_a, last_b)))
    swapped = (_given(first_a, last_b), float(JaroWinkler.similarity(last_a, first_b)))
    return swapped if min(swapped) > min(straight) else straight


def score(a: MatchRecord, b: MatchRecord) -> tuple[float, list[str]]:
    """0..1 and the fields that agreed (as the contract's `matchedOn` names them)."""
    if not (a.first and a.last and b.first and b.last):
        return 0.0, []
    first, last = _name_similarity(a.first, a.last, b.first, b.last)
    if min(first, last) < WEAK_NAME:
        return 0.0, []
    total = 0.45 if min(first, last) >= STRONG_NAME else 0.35
    matched = ["firstName", "lastName"]
    if a.postal and b.postal:
        if a.postal == b.postal:
            total += 0.25
            matched.append("postalCode")
        else:
            total -= 0.05
    if a.birth and b.birth:
        if a.birth == b.birth:
            total += 0.3
            matched.append("birthDate")
        elif (a.birth.year, a.birth.month, a.birth.day) == (
            b.birth.year,
            b.birth.day,
            b.birth.month,
        ):
            total += 0.1  # day and month swapped on entry
        else:
            total -= 0.5
    if a.street and b.street and token_sort_ratio(a.street, b.street) >= 85:
        total += 0.15
        matched.append("streetAddress")
    if a.email and b.email and a.email != b.email:
        total -= OTHER_EMAIL
    if a.phone and b.phone and a.phone != b.phone:
        total -= OTHER_PHONE
    return max(0.0, min(1.0, round(total, 4))), matched
