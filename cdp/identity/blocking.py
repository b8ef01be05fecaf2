"""Blocking: the few stored records a new one is compared with, never everyone.

Several rules, so that one field missing, mistyped or replaced still leaves another way
in (as Splink combines blocking rules):

- `b|` the birth date;
- `pi|` the postal code and the initial of either name (or of the full name a nickname
  stands for: Bob also gives R);
- `n|` the soundex codes of both names, in either order, with the birth year (a moved
  person whose birth date is mistyped in the day or month); the year keeps it selective,
  since names alone grow common as the store grows;
- `nn|` the same codes without the year, for a record with no birth date whose address
  is missing, mistyped or moved: only names uncommon enough to stay under
  MAX_PER_NAMES_KEY reach anyone this way, and those say who the person is;
- `sp|` house number and street word with the postal code (a name replaced or missing);
- `sn|` house number and street word with the soundex of either name (no postal code);
- `e|`, `t|` an email or phone that is not a placeholder.

A key shared by more than MAX_PER_KEY records says little (a placeholder birth date,
a building's address, the commonest names): resolution skips it rather than comparing
with all of them, so the cost of one resolution stays flat as the store grows. Names
alone say little sooner: a pair agreeing on names and nothing else reaches the review
band only when few share them, so an `nn|` key is skipped past MAX_PER_NAMES_KEY (it
would otherwise add up to MAX_PER_KEY candidates per name form to every resolution of
a large store, for pairs that score below review).
"""

from __future__ import annotations

import jellyfish

from cdp.identity.nicknames import name_forms
from cdp.identity.record import MatchRecord, street_anchor

MAX_PER_KEY = 40
MAX_PER_NAMES_KEY = 10
NAMES_ONLY = "nn|"


def key_limit(key: str) -> int:
    """How many profiles may share `key` before it is skipped (see the docstring)."""
    return MAX_PER_NAMES_KEY if key.startswith(NAMES_ONLY) else MAX_PER_KEY


def _forms(name: str | None) -> frozenset[str]:
    return name_forms(name) if name else frozenset()


def blocking_keys(record: MatchRecord) -> set[str]:
    """Every key of every rule `record` has the fields for."""
    firsts, lasts = _forms(record.first), _forms(record.last)
    keys: set[str] = set()
    if record.birth:
        keys.add(f"b|{record.birth.isoformat()}")
    if record.postal:
        keys.update(f"pi|{record.postal}|{name[0]}" for name in firsts | lasts)
    sounds_first = {jellyfish.soundex(n) for n in firsts}
    sounds_last = {jellyfish.soundex(n) for n in lasts}
    sounds = {"|".join(sorted((x, y))) for x in sounds_first for y in sounds_last}
    keys.update(f"{NAMES_ONLY}{pair}" for pair in sounds)
    if record.birth:
        keys.update(f"n|{pair}|{record.birth.year}" for pair in sounds)
    anchor = street_anchor(record.street)
    if anchor and record.postal:
        keys.add(f"sp|{anchor}|{record.postal}")
    if anchor:
        keys.update(f"sn|{anchor}|{sound}" for sound in sounds_first | sounds_last)
    if record.email:
        keys.add(f"e|{record.email}")
    if record.phone:
        keys.add(f"t|{record.phone}")
    return keys
