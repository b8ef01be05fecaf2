"""The frozen Fellegi-Sunter match model: m and u per agreement level, and a prior.

m is how often a level occurs when two records are one person, u how often when they
are two; a level's weight is log2(m / u), and a pair's match weight is the prior's
log-odds plus the weights of its levels (a missing field adds nothing). The score users
see is that weight as a probability, 0..1, so CDP_MATCH_AUTO_THRESHOLD and
CDP_MATCH_REVIEW_THRESHOLD keep their meaning.

Independence, which Fellegi-Sunter assumes, fails where people share a home: family
members share a surname and an address (twins a birth date too, a junior his father's
names), so their agreement counts several times over. Two caps keep such pairs out of
the auto band whatever the weights say:

- `contradiction_cap` (below the review threshold): the birth dates differ outright,
  or the given names differ and the birth dates do not agree. That is another member
  of the household, not a typo.
- `unconfirmed_cap` (in the review band): the given names differ but the birth date
  agrees (twins, or one name replaced by another), or the pair rests on the address
  with a name missing or unlike and nothing else (no birth date, no email or phone to
  compare).

Names are weighed by how common they are (Splink's term-frequency adjustment): two
records agreeing exactly on a given name or surname that 1 in 5,000 records hold say more
than two agreeing on one that 1 in 10 hold. `term_frequencies` gives each name's share
of the records the model was trained on, as a given name and as a surname, and an exact
agreement on it weighs log2(m / share) instead of log2(m / u), its share being the larger
of the two (a surname typed as a given name is no rare given name). A name the model
never saw (or a model trained without the table) is weighed as an average name: unseen
is not the same as rare when a model meets another store's data.

A pair that rests on both names and the address alone (no birth date, email or phone
agreeing) is `names_and_address_only`: its weight decides, except where the store knows
the address as a household (resolution caps it then, cdp/identity/resolution.py), since
a father and his junior differ only in the birth date this pair lacks.

The caps and that hold are household guards, and a store without households pays for
them with nothing but lost merges: a record whose given name or birth date was replaced
at the till looks like a sibling or a junior. `household_share` is the share of the
training records with another member of their household in the store (same surname and
address, another given name and another birth date: no typo makes both). Where it is
under HOUSEHOLDS_FROM the store holds next to no families, so their look-alikes (twins
and juniors are a few in a hundred households) are rarer still, and the weights decide
alone. A model that does not say (None: trained before this was measured) guards.

The prior is two records picked at random being one person, so it depends on how many
records there are: each person's duplicates do not grow with the store, the pairs do.
A model scores at the size of the store it meets (`at_size`): past the records it was
trained on, its prior falls in proportion (below, it stays: a small store is no reason
to merge on less). Without it, the packaged model (26k records) met a store of 133k with
odds five times too high: 99.43% auto precision where 20k scored 99.67%.

The model is a versioned JSON file: `cdp identity train` writes one from the store's
own profiles (cdp/identity/training.py); CDP_MATCH_MODEL_FILE names the one in use, and
the package ships a default (default_match_model.json).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from cdp.identity.comparisons import (
    ADDRESS,
    BIRTH_DATE,
    COMPARISONS,
    DIFFERENT,
    EMAIL,
    FIRST_NAME,
    LAST_NAME,
    PHONE,
    Levels,
    compare,
)
from cdp.identity.record import MatchRecord
from cdp.settings import Settings

FORMAT = "cdp-match-model/1"
DEFAULT_MODEL = Path(__file__).with_name("default_match_model.json")
# The order `matchedOn` lists agreeing fields in.
MATCHED_ON = ("firstName", "lastName", "postalCode", "birthDate", "streetAddress", "email", "phone")
_FIRST, _LAST = COMPARISONS.index(FIRST_NAME), COMPARISONS.index(LAST_NAME)
_BIRTH, _ADDRESS = COMPARISONS.index(BIRTH_DATE), COMPARISONS.index(ADDRESS)
_CONTACTS = (COMPARISONS.index(EMAIL), COMPARISONS.index(PHONE))
Names = tuple[str | None, str | None]  # a record's folded given name and surname
# Below this share of records with a household member stored, the household guards are off.
HOUSEHOLDS_FROM = 0.01


class Scored(NamedTuple):
    """A pair's score (0..1, as users see it), its match weight (what ranks candidates:
    capped scores tie, weights do not), the fields that agreed (`matchedOn`), whether
    it rests on names and address alone, and whether the other record is a member of
    the first one's household (same surname and address, another given name)."""

    probability: float
    weight: float
    matched_on: tuple[str, ...]
    names_and_address_only: bool
    household_member: bool


class MatchModelError(ValueError):
    """The model file is unreadable or does not describe the comparisons this code makes."""


@dataclass(frozen=True, slots=True)
class MatchModel:
    version: str
    prior: float  # probability that two records picked at random are one person
    m: dict[str, dict[str, float]]  # comparison -> level -> P(level | match)
    u: dict[str, dict[str, float]]  # comparison -> level -> P(level | non-match)
    contradiction_cap: float
    unconfirmed_cap: float
    trained: dict[str, Any]  # what it was estimated from (for people, not for scoring)
    # comparison (first_name, last_name) -> folded name -> share of records holding it
    term_frequencies: dict[str, dict[str, float]] = field(default_factory=dict)
    # share of records with a household member in the store; None: not measured
    household_share: float | None = None
    _weights: list[dict[str, float]] = field(init=False, repr=False, compare=False)
    _name_adjustments: tuple[dict[str, float], dict[str, float]] = field(
        init=False, repr=False, compare=False
    )
    _sized: dict[int, MatchModel] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 0 < self.prior < 1 or not 0 < self.contradiction_cap <= self.unconfirmed_cap < 1:
            raise MatchModelError(
                "prior and the caps must be between 0 and 1, contradiction_cap the lower"
            )
        for comparison in COMPARISONS:
            for table in (self.m, self.u):
                levels = table.get(comparison.name, {})
                if set(levels) != set(comparison.levels):
                    raise MatchModelError(
                        f"{comparison.name} needs levels {', '.join(comparison.levels)}"
                    )
                if not all(0 < p <= 1 for p in levels.values()):
                    raise MatchModelError(f"{comparison.name}: probabilities must be in (0, 1]")
        weights = [
            {level: math.log2(self.m[c.name][level] / self.u[c.name][level]) for level in c.levels}
            for c in COMPARISONS
        ]
        object.__setattr__(self, "_weights", weights)
        if self.household_share is not None and not 0 <= self.household_share <= 1:
            raise MatchModelError("household_share must be between 0 and 1")
        unknown = set(self.term_frequencies) - {FIRST_NAME.name, LAST_NAME.name}
        if unknown:
            raise MatchModelError(f"term frequencies for names only, not {', '.join(unknown)}")
        for name, shares in self.term_frequencies.items():
            if not all(0 < share <= 1 for share in shares.values()):
                raise MatchModelError(f"{name}: term frequencies must be in (0, 1]")
        # A name is as common as it is in either field: names given the wrong way round
        # compare a surname as a given name, and "Williams" is no rare given name then.
        tables = self.term_frequencies.values()
        share = {name: max(t.get(name, 0.0) for t in tables) for t in tables for name in t}
        adjustments = [
            {name: math.log2(self.u[c.name]["exact"] / s) for name, s in share.items()}
            for c in (FIRST_NAME, LAST_NAME)
        ]
        object.__setattr__(self, "_name_adjustments", tuple(adjustments))
        object.__setattr__(self, "_sized", {})

    def at_size(self, records: int) -> MatchModel:
        """This model for a store of `records` records (see the module docstring). Sizes
        are taken to two significant digits, so a growing store reuses a few models
        instead of building one per resolution."""
        trained = self.trained.get("records")
        size = _two_digits(records)
        if not isinstance(trained, int) or size <= trained:
            return self
        if size not in self._sized:
            # prior x records is what holds; the derived model says which size it is for
            self._sized[size] = replace(
                self, prior=self.prior * trained / size, trained={**self.trained, "records": size}
            )
        return self._sized[size]

    def weight(self, levels: Levels, names: Names = (None, None)) -> float:
        """The pair's match weight (log2 odds): prior plus each present level's weight,
        an exact name's weighed by how common `names` (the first record's given name and
        surname) are."""
        total = math.log2(self.prior / (1 - self.prior))
        for index, level in enumerate(levels):
            if level is not None:
                total += self._weights[index][level]
        for index, name, adjustments in zip(
            (_FIRST, _LAST), names, self._name_adjustments, strict=True
        ):
            if levels[index] == "exact" and name is not None:
                total += adjustments.get(name, 0.0)
        return total

    @property
    def guards_households(self) -> bool:
        """Whether household look-alikes are held out of the auto band (see the module
        docstring): unless the store was measured to hold next to no households."""
        return self.household_share is None or self.household_share >= HOUSEHOLDS_FROM

    def cap(self, levels: Levels) -> float:
        if not self.guards_households:
            return 1.0
        first, birth = levels[_FIRST], levels[_BIRTH]
        if birth == DIFFERENT or (first == DIFFERENT and birth != "exact"):
            return self.contradiction_cap
        if first == DIFFERENT or (_unconfirmed(levels) and not _names_agree(levels)):
            return self.unconfirmed_cap
        return 1.0

    def score(self, a: MatchRecord, b: MatchRecord) -> Scored:
        """The pair's probability, weight, and the fields that agreed."""
        levels = compare(a, b)
        # An exact level holds a's name either way round (names swapped compare a.first
        # with b.last), so a's names are the ones to weigh.
        names = (a.first, a.last)
        weight = self.weight(levels, names)
        agreeing = {
            field
            for c, level in zip(COMPARISONS, levels, strict=True)
            if level is not None
            for field in c.agreeing.get(level, ())
        }
        return Scored(
            round(min(_probability(weight), self.cap(levels)), 4),
            weight,
            tuple(f for f in MATCHED_ON if f in agreeing),
            self.guards_households and _unconfirmed(levels) and _names_agree(levels),
            levels[_FIRST] == DIFFERENT
            and _agrees(levels[_LAST])
            and levels[_ADDRESS] in ("exact", "street"),
        )

    def for_review(self, scored: Scored) -> Scored:
        """`scored` held below the auto band: resolution and the audit use it for a pair
        resting on names and address alone, which the pair's levels cannot settle."""
        return scored._replace(probability=min(scored.probability, self.unconfirmed_cap))

    def to_doc(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": self.version,
            "prior": self.prior,
            "contradiction_cap": self.contradiction_cap,
            "unconfirmed_cap": self.unconfirmed_cap,
            "comparisons": {
                c.name: {
                    level: {"m": self.m[c.name][level], "u": self.u[c.name][level]}
                    for level in c.levels
                }
                for c in COMPARISONS
            },
            "trained": self.trained,
            "term_frequencies": self.term_frequencies,
            "household_share": self.household_share,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> MatchModel:
        if doc.get("format") != FORMAT:
            raise MatchModelError(f"not a match model (format must be {FORMAT!r})")
        try:
            comparisons = doc["comparisons"]
            return cls(
                version=str(doc["version"]),
                prior=float(doc["prior"]),
                m={c: {lv: float(p["m"]) for lv, p in ls.items()} for c, ls in comparisons.items()},
                u={c: {lv: float(p["u"]) for lv, p in ls.items()} for c, ls in comparisons.items()},
                contradiction_cap=float(doc["contradiction_cap"]),
                unconfirmed_cap=float(doc["unconfirmed_cap"]),
                trained=dict(doc.get("trained") or {}),
                term_frequencies={
                    c: {name: float(share) for name, share in shares.items()}
                    for c, shares in (doc.get("term_frequencies") or {}).items()
                },
                household_share=_optional_float(doc.get("household_share")),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, MatchModelError):
                raise
            raise MatchModelError(f"malformed match model ({exc})") from None


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _probability(weight: float) -> float:
    """A match weight (log2 odds) as a probability; capped by `MatchModel.cap` for
    household look-alikes (see the module docstring)."""
    return 1.0 if weight > 60 else 1 - 1 / (1 + 2**weight)


def _unconfirmed(levels: Levels) -> bool:
    """No birth date compared and no email or phone agreeing: names and address are all."""
    return levels[_BIRTH] is None and "exact" not in (levels[i] for i in _CONTACTS)


def _agrees(level: str | None) -> bool:
    return level not in (None, DIFFERENT)


def _names_agree(levels: Levels) -> bool:
    return _agrees(levels[_FIRST]) and _agrees(levels[_LAST])


def save_model(model: MatchModel, path: Path) -> None:
    """Write atomically: a scorer reading the file never sees half of it."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(model.to_doc(), indent=2, sort_keys=True) + "\n")
    partial.replace(path)


@cache
def load_model(path: Path | None = None) -> MatchModel:
    """The model in `path` (the packaged default when None), read once per process."""
    source = path or DEFAULT_MODEL
    try:
        doc = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise MatchModelError(f"cannot read match model {source}: {exc}") from None
    if not isinstance(doc, dict):
        raise MatchModelError(f"{source} is not a match model")
    return MatchModel.from_doc(doc)


def _two_digits(n: int) -> int:
    """`n` rounded down to two significant digits: 133,198 -> 130,000."""
    scale = int(10 ** max(len(str(n)) - 2, 0))
    return n // scale * scale


def model_of(settings: Settings) -> MatchModel:
    """The model CDP_MATCH_MODEL_FILE names, or the packaged default."""
    return load_model(settings.match_model_file)
