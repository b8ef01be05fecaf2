"""Estimating the match model from records, the way Splink does it.

- u (how often a level occurs between two different people) from random pairs: nearly
  every random pair is two people, so their level frequencies are u.
- m (how often a level occurs between two records of one person) by expectation-
  maximisation over the pairs each blocking rule brings together, u held fixed. A rule
  decides what its own fields look like (pairs blocked on birth date all agree on it),
  so each rule's run leaves its own fields out, and a field's m is the mean of the runs
  that estimated it.
- the prior (two random records being one person) from the birth-date rule: the matches
  EM expects among its pairs, divided by the share of all matches that rule can catch
  (both records dated, and the dates equal: coverage squared times m of "exact"), over
  the number of pairs in the whole population. (The share EM expects among every
  blocked pair would count households and namesakes in and overstate it.)
- the household share: of the records with an address (street and postal code), those
  with another record there of the same surname, another given name and another birth
  date (both dates known): a family member, since no typo changes both. It tells the
  model whether the store holds households at all (cdp/identity/match_model.py).
- term frequencies: each given name's and surname's share of the records holding one,
  for names held at least MIN_TERM_COUNT times (a name seen once may be a typo, and
  the model weighs a name it does not list as an average one), the MAX_TERMS commonest.

Records that have been matching (a store's profiles: resolution merged the easy
duplicates as they arrived) leave EM only the pairs it could not decide, and m learnt
from those looks like no population's duplicates (`implausible`). Their u, names' shares
and households are still the store's own, so `train_model` keeps those and takes m and
the prior from the model in use (`keep_from`); without one it refuses.

Nothing here reads the store: `cdp identity train` hands in the records of an import
file before it is imported (cdp/identity/training_file.py), or the records of the
store's profiles (merged ones included, since a merge is a duplicate found).
"""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from cdp.identity.blocking import blocking_keys, key_limit
from cdp.identity.comparisons import (
    BIRTH_DATE,
    COMPARISONS,
    DIFFERENT,
    FIRST_NAME,
    LAST_NAME,
    Comparison,
    Levels,
    compare,
)
from cdp.identity.match_model import MatchModel
from cdp.identity.record import MatchRecord

# The blocking rules training runs EM on, with the comparisons each one fixes. Only
# rules on what a person has alone: pairs blocked on an address are mostly households,
# and EM would learn "one household" as the match class (same surname and street,
# different given names and birth dates). Names with the birth year (`n|`, not `nn|`):
# pairs of namesakes grow with the square of a store, its duplicates only with it, and
# the year keeps the rule's pairs mostly duplicates in a large store too (the price: a
# duplicate's birth date looks a little more alike than it is; docs/identity.md).
TRAINING_RULES: dict[str, tuple[Comparison, ...]] = {
    "b|": (BIRTH_DATE,),
    "n|": (FIRST_NAME, LAST_NAME),
}
PRIOR_RULE = "b|"
ADDRESS_RULE = "sp|"  # house number, street and postal code: who lives at one address
# Records with an address needed to measure the household share: a store with no
# household member among 1,000 has under 0.3% of them (95% confidence), well under
# HOUSEHOLDS_FROM; fewer records could not tell a small store from one without families.
MIN_HOUSED = 1_000
RANDOM_PAIRS = 200_000
MAX_ITERATIONS = 50
CONVERGED = 1e-5
CONTRADICTION_CAP = 0.05  # below the default review threshold (0.1)
UNCONFIRMED_CAP = 0.85  # between the default thresholds (0.1, 0.9)
IMPLAUSIBLY_DIFFERENT = 0.5  # see `implausible`
PSEUDO_COUNT = 0.5  # per level, so a level never seen has a small probability, not 0
MIN_TERM_COUNT = 2
MAX_TERMS = 50_000  # per name field: a few hundred kilobytes of model file at most

Table = dict[str, dict[str, float]]


class CannotTrain(ValueError):
    """The records give no usable model: too few of them, no blocked pairs, or
    duplicates that no longer look like duplicates (see `implausible`)."""


def estimate_u(records: Sequence[MatchRecord], rng: random.Random, pairs: int) -> Table:
    """Level frequencies among random pairs of distinct records."""
    counts: list[Counter[str]] = [Counter() for _ in COMPARISONS]
    for _ in range(pairs):
        i, j = rng.sample(range(len(records)), 2)
        for index, level in enumerate(compare(records[i], records[j])):
            if level is not None:
                counts[index][level] += 1
    return {c.name: _frequencies(c, counts[i]) for i, c in enumerate(COMPARISONS)}


def _frequencies(
    comparison: Comparison, counts: Counter[str] | dict[str, float]
) -> dict[str, float]:
    total = sum(counts.values()) + PSEUDO_COUNT * len(comparison.levels)
    return {level: (counts.get(level, 0) + PSEUDO_COUNT) / total for level in comparison.levels}


def term_frequencies(records: Sequence[MatchRecord]) -> dict[str, dict[str, float]]:
    """Each name's share of the records that hold that field (see the module docstring)."""
    tables: dict[str, dict[str, float]] = {}
    for comparison, names in (
        (FIRST_NAME, [r.first for r in records if r.first]),
        (LAST_NAME, [r.last for r in records if r.last]),
    ):
        counts = Counter(names).most_common(MAX_TERMS)
        tables[comparison.name] = {
            name: float(f"{count / len(names):.4g}")
            for name, count in counts
            if count >= MIN_TERM_COUNT
        }
    return tables


def household_share(records: Sequence[MatchRecord]) -> tuple[float | None, int]:
    """The share of records with an address that have a household member there (see
    the module docstring), and how many records have an address; the share is None under
    MIN_HOUSED of them (too few to tell a store without households from a small one)."""
    housed = sum(1 for r in records if any(k.startswith(ADDRESS_RULE) for k in blocking_keys(r)))
    if housed < MIN_HOUSED:
        return None, housed
    members: set[int] = set()
    for i, j in blocked_pairs(records, ADDRESS_RULE):
        first, last, birth, *_ = compare(records[i], records[j])
        if last == "exact" and first == DIFFERENT and birth == DIFFERENT:
            members.update((i, j))
    return float(f"{len(members) / housed:.4g}"), housed


def blocked_pairs(records: Sequence[MatchRecord], prefix: str) -> set[tuple[int, int]]:
    """Pairs sharing a key of one rule (keys over their limit skipped, as in resolution)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for index, record in enumerate(records):
        for key in blocking_keys(record):
            if key.startswith(prefix):
                groups[key].append(index)
    return {
        pair
        for key, members in groups.items()
        if len(members) <= key_limit(key)
        for pair in itertools.combinations(members, 2)
    }


def _initial_m() -> Table:
    """A start EM moves away from: mostly exact, some near, few different."""
    table: Table = {}
    for comparison in COMPARISONS:
        near = [lv for lv in comparison.levels if lv not in ("exact", DIFFERENT)]
        start = {"exact": 0.85, DIFFERENT: 0.05}
        start.update({lv: 0.1 / len(near) for lv in near} if near else {"exact": 0.95})
        table[comparison.name] = start
    return table


def _posterior(vector: Levels, m: Table, u: Table, log_odds: float, skip: frozenset[int]) -> float:
    weight = log_odds
    for index, level in enumerate(vector):
        if level is not None and index not in skip:
            name = COMPARISONS[index].name
            weight += math.log2(m[name][level] / u[name][level])
    return 1.0 if weight > 60 else 0.0 if weight < -60 else 1 - 1 / (1 + 2**weight)


def expectation_maximisation(
    vectors: Counter[Levels], u: Table, fixed: tuple[Comparison, ...]
) -> tuple[Table, float]:
    """m for the comparisons not in `fixed`, and the share of matches among the pairs."""
    skip = frozenset(COMPARISONS.index(c) for c in fixed)
    m, share = _initial_m(), 0.1
    for _ in range(MAX_ITERATIONS):
        log_odds = math.log2(share / (1 - share))
        expected: list[Counter[str]] = [Counter() for _ in COMPARISONS]
        matches = 0.0
        for vector, count in vectors.items():
            weight = _posterior(vector, m, u, log_odds, skip) * count
            matches += weight
            for index, level in enumerate(vector):
                if level is not None:
                    expected[index][level] += weight  # type: ignore[assignment]
        updated = {
            c.name: _frequencies(c, expected[i]) if i not in skip else m[c.name]
            for i, c in enumerate(COMPARISONS)
        }
        total = vectors.total()
        new_share = min(max(matches / total, 1e-9), 1 - 1e-9)
        change = max(
            abs(updated[c.name][lv] - m[c.name][lv]) for c in COMPARISONS for lv in c.levels
        )
        m, share = updated, new_share
        if change < CONVERGED:
            break
    return m, share


def implausible(m_table: Table) -> str | None:
    """The first of the fields a person keeps (names, birth date) that differs outright
    in at least half of the duplicates EM found, or None.

    No population's duplicates do that (a typo leaves a name close, not different). A
    store whose duplicates were merged as they arrived does: its records hold only the
    pairs resolution could not decide (a given name replaced, a birth date mistyped),
    and EM takes those for what duplicates look like; the model would then expect too
    many of them, and merge strangers.
    """
    for comparison in (FIRST_NAME, LAST_NAME, BIRTH_DATE):
        if m_table[comparison.name][DIFFERENT] >= IMPLAUSIBLY_DIFFERENT:
            return comparison.name
    return None


def train_model(
    records: Sequence[MatchRecord],
    *,
    version: str,
    seed: int = 0,
    random_pairs: int = RANDOM_PAIRS,
    keep_from: MatchModel | None = None,
) -> MatchModel:
    """A model estimated from `records` (see the module docstring); m and the prior are
    `keep_from`'s when EM's are implausible, and refused without it."""
    usable = [r for r in records if any(compare(r, r))]
    if len(usable) < 2:
        raise CannotTrain("at least two records with data are needed")
    rng = random.Random(seed)
    population = len(usable) * (len(usable) - 1) // 2
    u = estimate_u(usable, rng, min(random_pairs, population))
    m_table, shares = _estimate_m(usable, u)
    households, housed = household_share(usable)
    trained: dict[str, Any] = {
        "records": len(usable),
        "random_pairs": min(random_pairs, population),
        "records_with_address": housed,
        "rules": {
            prefix.rstrip("|"): {"pairs": n, "match_share": round(sh, 4)}
            for prefix, (n, sh) in shares.items()
        },
    }
    if field := implausible(m_table):
        why = (
            f"the duplicates found have another {field} in {m_table[field][DIFFERENT]:.0%} "
            "of pairs: the records look already matched, so the duplicates left are the "
            "hard ones"
        )
        if keep_from is None:
            raise CannotTrain(
                f"{why}; train on records before they are matched "
                "(cdp identity train --from the import file)"
            )
        m_table, prior = keep_from.m, keep_from.prior
        trained["m_and_prior_from"] = {"version": keep_from.version, "because": why}
    else:
        prior, trained["expected_matches"] = _prior(usable, m_table, shares[PRIOR_RULE])
    return MatchModel(
        version=version,
        prior=prior,
        m=m_table,
        u=u,
        contradiction_cap=CONTRADICTION_CAP,
        unconfirmed_cap=UNCONFIRMED_CAP,
        term_frequencies=term_frequencies(usable),
        household_share=households,
        trained=trained,
    )


def _estimate_m(
    records: Sequence[MatchRecord], u: Table
) -> tuple[Table, dict[str, tuple[int, float]]]:
    """m by EM per training rule (see the module docstring), and each rule's pairs and
    share of matches among them."""
    estimates: dict[str, list[dict[str, float]]] = defaultdict(list)
    shares: dict[str, tuple[int, float]] = {}
    for prefix, fixed in TRAINING_RULES.items():
        blocked = blocked_pairs(records, prefix)
        if not blocked:
            continue
        vectors = Counter(compare(records[i], records[j]) for i, j in blocked)
        m, share = expectation_maximisation(vectors, u, fixed)
        shares[prefix] = (len(blocked), share)
        for comparison in COMPARISONS:
            if comparison not in fixed:
                estimates[comparison.name].append(m[comparison.name])
    if PRIOR_RULE not in shares or any(not estimates[c.name] for c in COMPARISONS):
        raise CannotTrain("too few records share a birth date or names to estimate from")
    m_table = {
        c.name: {
            lv: sum(e[lv] for e in estimates[c.name]) / len(estimates[c.name]) for lv in c.levels
        }
        for c in COMPARISONS
    }
    return m_table, shares


def _prior(
    records: Sequence[MatchRecord], m_table: Table, prior_rule: tuple[int, float]
) -> tuple[float, int]:
    """The prior and the duplicate pairs it stands for (see the module docstring)."""
    pairs, share = prior_rule
    dated = sum(1 for r in records if r.birth) / len(records)
    expected = pairs * share / (dated**2 * m_table[BIRTH_DATE.name]["exact"])
    population = len(records) * (len(records) - 1) // 2
    return min(max(expected / population, 1e-12), 0.5), round(expected)
