"""Identity resolution: quality on a population with known duplicates, and speed.

    python bench/identity.py            # the whole bench (a few minutes)
    python bench/identity.py --quick    # small sizes, to try a change
    python bench/identity.py --quick --quality-only   # no speed runs
    python bench/identity.py --quality-only --persons 100000   # quality at another size

Quality: N true persons (common names, nickname-able ones included; families sharing an
address and last name, some with a junior of a parent's name), each imported once, and
some again with noise (a typo, a nickname, first and last swapped, a missing field, a
move with the same birth date, another email, a name replaced by an unrelated one, a
missing name, a birth date with one or two digits mistyped, a birth date that is no
date, a typo in the shorter name, two digits of the postal code swapped). Every record
goes through the importer as a file row would (`record_of`, `import_records`, then
`import_member`: the resolution `enroll` uses) on a fresh SQLite store; the profiles and
review items it produces are compared with the truth:

- precision of auto-merges: record pairs put in one profile that are one person /
  all record pairs put in one profile;
- recall: pairs of records of one person that ended in one profile, or in profiles
  joined by a chain of review items each pairing one person's profiles (what a reviewer
  merging only true pairs ends with) / all such pairs;
- the review queue: open items, and how many of them pair two different people.

The main seed is the one tuned on; the holdout seed is a different population, imported
twice: as is, and shaped like a legacy POS export (every row with a POS customer id of
its own). Each is then audited (`find_duplicates`, `apply_pair`: what
`cdp audit duplicates --apply` runs) and scored again. Matching uses the packaged model
(`--train-default` writes it, from a population of a third seed). The holdout's store is
then trained on (`cdp identity train`: m and prior kept from the packaged model once the
store's duplicates look already matched) and audited with that model, scored again.

Speed: a store of 10k and of 100k profiles, filled by importing a generated file
(which measures import throughput), then 3,000 probe records per store, the stores
taking turns 100 at a time (half of them look-alikes of stored people): p50/p99 of
resolving one (the read-only search an enrollment does first) and of importing one
(search plus the write). The import's time per row is split
into store reads, the commit's writes, and the transaction around them (BEGIN IMMEDIATE
... COMMIT, including SQLite's periodic WAL checkpoints).

Figures are printed and written to bench/results/identity.json.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import percentile, relative, write_results  # noqa: E402
from cdp.bootstrap import build_runtime, start_runtime, stop_runtime  # noqa: E402
from cdp.enrollment.service import import_member  # noqa: E402
from cdp.identity.duplicates import apply_pair, find_duplicates  # noqa: E402
from cdp.identity.importer import (  # noqa: E402
    BadRow,
    Imported,
    import_records,
    read_records,
    record_of,
)
from cdp.identity.match_model import (  # noqa: E402
    DEFAULT_MODEL,
    MatchModel,
    load_model,
    model_of,
    save_model,
)
from cdp.identity.model import IdentifierKey, IdentifierType, PersonalData  # noqa: E402
from cdp.identity.nicknames import _GROUPS  # noqa: E402
from cdp.identity.normalize import clean_personal  # noqa: E402
from cdp.identity.profile_repository import stored_records  # noqa: E402
from cdp.identity.record import MatchRecord  # noqa: E402
from cdp.identity.resolution import deterministic, probabilistic  # noqa: E402
from cdp.identity.reviews import ReviewStatus  # noqa: E402
from cdp.identity.service import get_profiles  # noqa: E402
from cdp.identity.training import train_model  # noqa: E402
from cdp.identity.training_file import file_match_records  # noqa: E402
from cdp.runtime import Runtime  # noqa: E402
from cdp.settings import load_settings  # noqa: E402
from cdp.store.catalogue import PROFILES, REVIEWS  # noqa: E402
from cdp.store.group_commit import GroupCommit  # noqa: E402
from cdp.store.port import OneOf, Query  # noqa: E402
from cdp.store.sqlite import SQLiteStore  # noqa: E402


def _words(text: str) -> list[str]:
    return text.split()


LIVE_STATUSES = ("ALLOCATED", "ENROLLED")

FIRST_NAMES = _words("""
james robert john michael david william richard joseph thomas christopher charles daniel
matthew anthony mark donald steven paul andrew joshua kenneth kevin brian george timothy
ronald edward jason jeffrey ryan jacob gary nicholas eric jonathan stephen larry justin
scott brandon benjamin samuel gregory alexander frank patrick raymond jack dennis jerry
tyler aaron jose adam nathan henry douglas zachary peter kyle noah ethan jeremy walter
christian keith roger terry austin sean gerald carl harold dylan arthur lawrence jordan
jesse bryan billy bruce gabriel joe logan albert willie alan eugene russell vincent
philip bobby johnny bradley frederick theodore mary patricia jennifer linda elizabeth
barbara susan jessica sarah karen lisa nancy betty sandra margaret ashley kimberly
emily donna michelle carol amanda melissa deborah stephanie dorothy rebecca sharon laura
cynthia amy kathleen angela shirley brenda emma anna pamela nicole samantha katherine
christine helen debra rachel carolyn janet maria catherine heather diane olivia julie
joyce victoria ruth virginia lauren kelly christina joan evelyn judith andrea hannah
megan cheryl jacqueline martha madison teresa gloria sara janice ann kathryn abigail
sophia frances jean alice judy isabella julia grace amber denise danielle marilyn
beverly charlotte natalie theresa diana brittany doris kayla alexis lori marie
josephine priya wei mohammed fatima aisha yuki hiroshi olga ivan mei carlos luis sofia
""")

LAST_NAMES = _words("""
smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez
lopez gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson
white harris sanchez clark ramirez lewis robinson walker young allen king wright scott
torres nguyen hill flores green adams nelson baker hall rivera campbell mitchell carter
roberts gomez phillips evans turner diaz parker cruz edwards collins reyes stewart
morris morales murphy cook rogers gutierrez ortiz morgan cooper peterson bailey reed
kelly howard ramos kim cox ward richardson watson brooks chavez wood james bennett gray
mendoza ruiz hughes price alvarez castillo sanders patel myers long ross foster jimenez
powell jenkins perry russell sullivan bell coleman butler henderson barnes gonzales
fisher vasquez simmons romero jordan patterson alexander hamilton graham reynolds
griffin wallace moreno west cole hayes bryant herrera gibson ellis tran medina aguilar
stevens murray ford castro marshall owens harrison fernandez mcdonald woods washington
kennedy wells vargas henry chen freeman webb tucker guzman burns crawford olson simpson
porter hunter gordon mendez silva shaw snyder mason dixon munoz hunt hicks holmes palmer
wagner black robertson boyd rose stone salazar fox warren mills meyer rice schmidt garza
daniels ferguson nichols stephens soto weaver ryan gardner payne grant dunn kelley
spencer hawkins arnold pierce hansen peters santos hart bradley knight elliott
cunningham duncan armstrong hudson carroll lane riley andrews alvarado ray delgado berry
perkins hoffman johnston matthews pena richards contreras willis carpenter lawrence
""")

STREETS = _words("""
main oak pine maple cedar elm washington lake hill park view sunset river church
spring north south mill forest meadow highland ridge willow center franklin lincoln
jackson jefferson madison adams walnut chestnut cherry dogwood laurel magnolia hickory
""")
STREET_KINDS = [("St", "Street"), ("Ave", "Avenue"), ("Rd", "Road"), ("Dr", "Drive")]
PEOPLE_PER_POSTAL_CODE = 40
NOISES = (
    "typo_first",
    "typo_last",
    "nickname",
    "swapped",
    "missing_birth",
    "missing_postal",
    "moved",
    "email_differs",
    "replaced_name",  # one name replaced by an unrelated one (a partner's, a till's default)
    "missing_name",
    "date_typo",  # one or two digits of the birth date mistyped, or two swapped
    "invalid_date",  # a birth date that is no calendar date: imported without it
    "short_name_typo",  # a slip in the shorter name, where similarity scores drop fastest
    "postal_transposed",  # two adjacent digits of the postal code swapped
)
NICKNAMES: dict[str, list[str]] = {}
for _group in _GROUPS:
    _names = _group.split()
    for _name in _names:
        NICKNAMES.setdefault(_name, []).extend(n for n in _names if n != _name)


@dataclass(frozen=True)
class Person:
    id: int
    first: str
    last: str
    birth: date | None
    postal: str
    street: str
    street_kind: int
    email: str | None
    phone: str | None


@dataclass(frozen=True)
class Record:
    person: int
    noise: str  # "original" for a person's first record
    first: str | None
    last: str | None
    birth: date | None
    postal: str | None
    street: str | None
    email: str | None
    phone: str | None
    birth_text: str | None = None  # as typed, when it is no calendar date

    def to_row(self) -> dict[str, str]:
        row = {
            "first_name": self.first,
            "last_name": self.last,
            "birth_date": self.birth.isoformat() if self.birth else self.birth_text,
            "postal_code": self.postal,
            "street_address": self.street,
            "email": self.email,
            "phone": self.phone,
        }
        return {k: v for k, v in row.items() if v is not None}

    def personal(self) -> PersonalData:
        return PersonalData(
            first_name=self.first,
            last_name=self.last,
            email=self.email,
            phone=self.phone,
            postal_code=self.postal,
            birth_date=self.birth,
            street_address=self.street,
        )


def _zipf(names: list[str], s: float) -> list[float]:
    return [1 / (rank**s) for rank in range(1, len(names) + 1)]


class Population:
    """Persons with realistic collisions: common names repeat, families share a home."""

    def __init__(self, rng: random.Random, size: int) -> None:
        self.rng = rng
        self.first_weights = _zipf(FIRST_NAMES, 0.8)
        self.last_weights = _zipf(LAST_NAMES, 0.8)
        self.postal_codes = [
            f"{10000 + i * 7:05d}" for i in range(max(1, size // PEOPLE_PER_POSTAL_CODE))
        ]
        self.persons: list[Person] = []
        self._phones = iter(rng.sample(range(2_000_000, 10_000_000), k=size + 10_000))
        while len(self.persons) < size:
            if rng.random() < 0.35:
                self._family(min(rng.randint(2, 4), size - len(self.persons)))
            else:
                self._add(self._first(), self._last(), self._address())

    def _first(self) -> str:
        return self.rng.choices(FIRST_NAMES, self.first_weights)[0].title()

    def _last(self) -> str:
        return self.rng.choices(LAST_NAMES, self.last_weights)[0].title()

    def _address(self) -> tuple[str, str, int]:
        street = f"{self.rng.randint(1, 9999)} {self.rng.choice(STREETS).title()}"
        return self.rng.choice(self.postal_codes), street, self.rng.randrange(len(STREET_KINDS))

    def _birth(self, young: bool = False) -> date | None:
        if self.rng.random() < 0.1:
            return None
        start = date(1985 if young else 1940, 1, 1)
        return start + timedelta(days=self.rng.randrange((date(2007, 1, 1) - start).days))

    def _family(self, members: int) -> None:
        last, address = self._last(), self._address()
        firsts: list[str] = []
        while len(firsts) < members:
            first = self._first()
            if first not in firsts:
                firsts.append(first)
        if members > 2 and self.rng.random() < 0.15:
            firsts[2] = firsts[0]  # a junior: a parent's name, another birth date
        for index, first in enumerate(firsts):
            self._add(first, last, address, young=index >= 2)

    def _add(
        self, first: str, last: str, address: tuple[str, str, int], young: bool = False
    ) -> None:
        rng, person_id = self.rng, len(self.persons)
        email = None
        if rng.random() < 0.7:
            email = f"{first}.{last}{person_id}@{rng.choice(['mail.com', 'post.net'])}".lower()
        phone = f"+1212{next(self._phones)}" if rng.random() < 0.4 else None
        postal, street, kind = address
        self.persons.append(
            Person(person_id, first, last, self._birth(young), postal, street, kind, email, phone)
        )

    def original(self, person: Person) -> Record:
        rng = self.rng
        return Record(
            person.id,
            "original",
            person.first,
            person.last,
            person.birth,
            person.postal if rng.random() < 0.97 else None,
            _street(person, rng) if rng.random() < 0.8 else None,
            person.email,
            person.phone,
        )

    def duplicate(self, person: Person) -> Record:
        """The person again, through another till: one kind of noise, fewer identifiers."""
        rng = self.rng
        noise = rng.choice(NOISES)
        if noise == "nickname" and person.first.lower() not in NICKNAMES:
            noise = rng.choice([n for n in NOISES if n != "nickname"])
        record = Record(
            person.id,
            noise,
            person.first,
            person.last,
            person.birth,
            person.postal,
            _street(person, rng) if rng.random() < 0.7 else None,
            None,
            None,
        )
        # A shared email or phone resolves deterministically: only some duplicates have one.
        if rng.random() < 0.2:
            record = replace(record, email=person.email, phone=person.phone)
        if noise == "typo_first":
            record = replace(record, first=_typo(person.first, rng))
        elif noise == "typo_last":
            record = replace(record, last=_typo(person.last, rng))
        elif noise == "nickname":
            record = replace(record, first=rng.choice(NICKNAMES[person.first.lower()]).title())
        elif noise == "swapped":
            record = replace(record, first=person.last, last=person.first)
        elif noise == "missing_birth":
            record = replace(record, birth=None)
        elif noise == "missing_postal":
            record = replace(record, postal=None)
        elif noise == "moved":
            postal = rng.choice([p for p in self.postal_codes if p != person.postal] or ["99999"])
            record = replace(
                record, postal=postal, street=f"{rng.randint(1, 9999)} {rng.choice(STREETS)} St"
            )
        elif noise == "email_differs":
            record = replace(record, email=f"{person.first}{person.id}@work.example".lower())
        elif noise == "replaced_name":
            other = self._first() if rng.random() < 0.5 else None
            record = replace(record, first=other) if other else replace(record, last=self._last())
        elif noise == "missing_name":
            record = replace(record, **{rng.choice(["first", "last"]): None})
        elif noise == "date_typo" and person.birth:
            record = replace(record, birth=_date_typo(person.birth, rng))
        elif noise == "invalid_date" and person.birth:
            text = person.birth.isoformat()
            record = replace(
                record,
                birth=None,
                birth_text=f"{text[:5]}{rng.choice(['13', '00', '19'])}{text[7:]}",
            )
        elif noise == "short_name_typo":
            if len(person.first) <= len(person.last):
                record = replace(record, first=_typo(person.first, rng))
            else:
                record = replace(record, last=_typo(person.last, rng))
        elif noise == "postal_transposed":
            record = replace(record, postal=_transposed(person.postal, rng))
        return record

    def new_person_record(self) -> Record:
        """Somebody not in the population (ids past it), for probes."""
        self._add(self._first(), self._last(), self._address())
        return self.original(self.persons.pop())


def _street(person: Person, rng: random.Random) -> str:
    short, long = STREET_KINDS[person.street_kind]
    return f"{person.street} {long if rng.random() < 0.3 else short}"


def _date_typo(birth: date, rng: random.Random) -> date:
    """Another real date one or two digits away (or two adjacent digits swapped)."""
    digits = birth.strftime("%Y%m%d")
    for _ in range(50):
        chars = list(digits)
        if rng.random() < 0.3:
            at = rng.randrange(len(chars) - 1)
            chars[at], chars[at + 1] = chars[at + 1], chars[at]
        else:
            for at in rng.sample(range(2, len(chars)), rng.choice([1, 1, 2])):
                chars[at] = rng.choice("0123456789".replace(chars[at], ""))
        text = "".join(chars)
        try:
            typed = date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            continue
        if typed != birth and date(1900, 1, 1) <= typed <= date.today():
            return typed
    return birth


def _transposed(postal: str, rng: random.Random) -> str:
    at = rng.randrange(len(postal) - 1)
    return postal[:at] + postal[at + 1] + postal[at] + postal[at + 2 :]


def _typo(name: str, rng: random.Random) -> str:
    letters = list(name.lower())
    at = rng.randrange(1, len(letters)) if len(letters) > 2 else 0
    kind = rng.choice(["substitute", "delete", "insert", "transpose"])
    if kind == "substitute":
        letters[at] = rng.choice("abcdefghijklmnopqrstuvwxyz".replace(letters[at], ""))
    elif kind == "delete" and len(letters) > 3:
        del letters[at]
    elif kind == "transpose" and at + 1 < len(letters):
        letters[at], letters[at + 1] = letters[at + 1], letters[at]
    else:
        letters.insert(at, rng.choice("aeiourlnst"))
    return "".join(letters).title()


def dataset(seed: int, persons: int, duplicate_share: float) -> list[Record]:
    rng = random.Random(seed)
    population = Population(rng, persons)
    records = [population.original(p) for p in population.persons]
    for person in population.persons:
        if rng.random() < duplicate_share:
            records.append(population.duplicate(person))
            if rng.random() < 0.1:
                records.append(population.duplicate(person))
    rng.shuffle(records)
    return records


async def runtime_on(path: Path, **overrides: Any) -> Runtime:
    settings = load_settings(store_url=f"sqlite:///{path}", **overrides)
    rt = build_runtime(settings)
    await start_runtime(rt)
    return rt


async def quality(
    seed: int,
    persons: int,
    workdir: Path,
    *,
    legacy_pos: bool = False,
    retrain: bool = False,
    **overrides: Any,
) -> dict[str, Any]:
    """One import of a generated population, scored; `legacy_pos` gives every row its own
    POS customer id, as a legacy POS export does; `retrain` then trains a model on the
    store (`cdp identity train`) and audits with it."""
    records = dataset(seed, persons, duplicate_share=0.3)
    db = workdir / f"quality-{seed}-{legacy_pos}-{'-'.join(overrides)}.db"
    rt = await runtime_on(db, **overrides)
    try:
        figures, profile_of = await import_scored(rt, records, legacy_pos=legacy_pos)
        figures["after_audit"] = await audit_scored(rt, records, profile_of)
    finally:
        await stop_runtime(rt)
    if retrain:
        model_file = workdir / f"{db.stem}-model.json"
        model = await train_on_store(db, model_file)
        rt = await runtime_on(db, match_model_file=model_file, **overrides)
        try:
            figures["trained_on_store"] = {
                "model": model_figures(model),
                "audit": await audit_scored(rt, records, profile_of),
            }
        finally:
            await stop_runtime(rt)
    return {"seed": seed, "persons": persons, **figures}


async def train_on_store(db: Path, model_path: Path) -> MatchModel:
    """`cdp identity train` on the store in `db`, with the packaged model in use."""
    rt = await runtime_on(db)
    try:
        records = await stored_records(rt.store, rt.settings.denylist)
    finally:
        await stop_runtime(rt)
    model = train_model(records, version=f"store-{db.stem}", keep_from=load_model())
    save_model(model, model_path)
    return model


def model_figures(model: MatchModel) -> dict[str, Any]:
    return {
        "household_share": model.household_share,
        "guards_households": model.guards_households,
        "trained": model.trained,
    }


def print_model(model: dict[str, Any]) -> None:
    guards = "on" if model["guards_households"] else "off"
    print(f"         household share {model['household_share']}, household guards {guards}")
    if kept := model["trained"].get("m_and_prior_from"):
        print(f"         m and prior kept from {kept['version']}: {kept['because']}")


async def import_scored(
    rt: Runtime, records: list[Record], *, legacy_pos: bool = False
) -> tuple[dict[str, Any], list[str]]:
    """Import `records` as file rows (`legacy_pos`: each with a POS customer id of its
    own) and score the profiles and review items against the truth; with the profile
    each record ended in."""
    profile_of: list[str] = []

    def on_record(item: Imported | BadRow) -> None:
        assert isinstance(item, Imported), item
        profile_of.append(item.enrolled.profile.id)

    started = time.perf_counter()
    lines = (
        record_of(n, {**r.to_row(), **({"pos_customer_id": f"L{n}"} if legacy_pos else {})})
        for n, r in enumerate(records, start=1)
    )
    await import_records(rt, lines, on_record=on_record)
    elapsed = time.perf_counter() - started
    figures = {
        "records": len(records),
        "profiles": await rt.store.count(PROFILES, {"status": OneOf(LIVE_STATUSES)}),
        "seconds": round(elapsed, 1),
        **_score(records, profile_of, await _review_edges(rt, {})),
        "review_queue": await rt.store.count(REVIEWS, {"status": ReviewStatus.OPEN.value}),
    }
    return figures, profile_of


async def audit_scored(rt: Runtime, records: list[Record], profile_of: list[str]) -> dict[str, Any]:
    """`cdp audit duplicates --apply` after the import, scored again."""
    started = time.perf_counter()
    decisions: Counter[str] = Counter()
    applied: Counter[str] = Counter()
    async for pair in find_duplicates(rt):
        decisions[pair.decision.value] += 1
        applied[(await apply_pair(rt, pair)).value] += 1
    elapsed = time.perf_counter() - started
    ids = sorted(set(profile_of))
    survivor = {i: p.id for i, p in zip(ids, await get_profiles(rt.store, ids), strict=True) if p}
    edges = await _review_edges(rt, survivor)
    scored = _score(records, [survivor[p] for p in profile_of], edges)
    keep = ("auto_links", "false_merges", "precision_auto", "recall_auto", "recall_auto_or_review")
    return {
        "seconds": round(elapsed, 1),
        "pairs": dict(decisions),
        "applied": dict(applied),
        **{k: scored[k] for k in keep},
        "review_queue": await rt.store.count(REVIEWS, {"status": ReviewStatus.OPEN.value}),
    }


async def _review_edges(rt: Runtime, survivor: dict[str, str]) -> set[frozenset[str]]:
    """The open review items, as pairs of the live profiles they name (`survivor` maps a
    merged profile to the one it was merged into)."""
    items = await rt.store.find(Query(REVIEWS, {"status": ReviewStatus.OPEN.value}))
    edges = {frozenset(survivor.get(i, i) for i in item["profile_ids"]) for item in items}
    return {edge for edge in edges if len(edge) == 2}


def _score(
    records: list[Record], profile_of: list[str], review_edges: set[frozenset[str]]
) -> dict[str, Any]:
    by_person: dict[int, list[int]] = defaultdict(list)
    by_profile: dict[str, list[int]] = defaultdict(list)
    for index, record in enumerate(records):
        by_person[record.person].append(index)
        by_profile[profile_of[index]].append(index)
    linked = correct = 0
    false_merges: list[tuple[str, str]] = []
    for members in by_profile.values():
        for i, j in itertools.combinations(members, 2):
            linked += 1
            if records[i].person == records[j].person:
                correct += 1
            else:
                false_merges.append((records[i].noise, records[j].noise))
    # A reviewer who merges each review item that pairs one person's profiles (and only
    # those) joins two records exactly when a chain of such items connects their profiles.
    owner = {p: records[members[0]].person for p, members in by_profile.items()}
    joined = _Components()
    for edge in review_edges:
        a, b = tuple(edge)
        if owner[a] == owner[b]:
            joined.union(a, b)
    true_pairs = auto = review = 0
    missed: Counter[str] = Counter()
    per_noise: dict[str, Counter[str]] = defaultdict(Counter)
    for members in by_person.values():
        for i, j in itertools.combinations(members, 2):
            true_pairs += 1
            noise = records[j].noise if records[i].noise == "original" else records[i].noise
            a, b = profile_of[i], profile_of[j]
            if a == b:
                auto += 1
                per_noise[noise]["auto"] += 1
            elif joined.find(a) == joined.find(b):
                review += 1
                per_noise[noise]["review"] += 1
            else:
                missed[noise] += 1
                per_noise[noise]["missed"] += 1
    false_reviews = sum(1 for edge in review_edges if len({owner[p] for p in edge}) > 1)
    return {
        "true_pairs": true_pairs,
        "auto_links": linked,
        "false_merges": linked - correct,
        "precision_auto": round(correct / linked, 5) if linked else 1.0,
        "recall_auto": round(auto / true_pairs, 5) if true_pairs else 1.0,
        "recall_auto_or_review": round((auto + review) / true_pairs, 5) if true_pairs else 1.0,
        "review_items": len(review_edges),
        "review_items_two_people": false_reviews,
        "missed_by_noise": dict(missed.most_common()),
        "by_noise": {k: dict(v) for k, v in sorted(per_noise.items())},
        "false_merge_noises": Counter(f"{a}+{b}" for a, b in false_merges).most_common(10),
    }


class _Components:
    """Union-find over profile ids."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        root = item
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        self.parent[item] = root
        return root

    def union(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)


async def _resolve_only(rt: Runtime, record: Record) -> None:
    """The read-only search `stage_enrollment` runs before it writes anything."""
    settings = rt.settings
    cleaned = clean_personal(record.personal(), settings.default_region, date.today())
    keys = []
    if cleaned.email:
        keys.append(IdentifierKey(IdentifierType.EMAIL, cleaned.email))
    if cleaned.phone:
        keys.append(IdentifierKey(IdentifierType.PHONE, cleaned.phone))
    if not await deterministic(rt.store, keys, settings.denylist):
        await probabilistic(rt.store, MatchRecord.of(cleaned), model=model_of(settings), limit=1)


class _StoreTime:
    """Time the SQLite adapter spends on its thread: reads that fell back to it, and
    commits split into each unit's writes (in its savepoint) and the transaction around
    them (BEGIN IMMEDIATE ... COMMIT, shared by the units of a group commit)."""

    def __init__(self) -> None:
        self.calls = self.commits = self.writes = 0.0

    def __enter__(self) -> _StoreTime:
        self._saved = (SQLiteStore._call, GroupCommit._commit_batch, GroupCommit._apply_unit)
        call, commit_batch, apply_unit = self._saved

        def timed_call(store: SQLiteStore, fn: Any) -> Any:
            begun = time.perf_counter()
            try:
                return call(store, fn)
            finally:
                self.calls += time.perf_counter() - begun

        def timed_commit_batch(commits: GroupCommit, batch: Any) -> Any:
            begun = time.perf_counter()
            try:
                return commit_batch(commits, batch)
            finally:
                self.commits += time.perf_counter() - begun

        def timed_apply_unit(commits: GroupCommit, conn: Any, writes: Any) -> Any:
            begun = time.perf_counter()
            try:
                return apply_unit(commits, conn, writes)
            finally:
                self.writes += time.perf_counter() - begun

        SQLiteStore._call = timed_call  # type: ignore[method-assign]
        GroupCommit._commit_batch = timed_commit_batch  # type: ignore[method-assign]
        GroupCommit._apply_unit = timed_apply_unit  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        call, commit_batch, apply_unit = self._saved
        SQLiteStore._call = call  # type: ignore[method-assign]
        GroupCommit._commit_batch = commit_batch  # type: ignore[method-assign]
        GroupCommit._apply_unit = apply_unit  # type: ignore[method-assign]

    def parts(self) -> dict[str, float]:
        return {
            "store_reads": self.calls,
            "commit_writes": self.writes,
            "commit_transaction": self.commits - self.writes,
        }


PROBE_ROUND = 100  # probes per store per turn (see `probe`)


@dataclass
class SpeedStore:
    """A store of `size` members imported from a generated population, and what the
    import measured; probes are records of its population (half of them duplicates)."""

    size: int
    rt: Runtime
    population: Population
    rng: random.Random
    figures: dict[str, Any]
    resolve_ms: list[float] = field(default_factory=list)
    import_ms: list[float] = field(default_factory=list)

    def probe_record(self) -> Record:
        if self.rng.random() < 0.5:
            return self.population.duplicate(self.rng.choice(self.population.persons))
        return self.population.new_person_record()


async def speed_store(size: int, workdir: Path) -> SpeedStore:
    rng = random.Random(size)
    population = Population(rng, size)
    path = workdir / f"speed-{size}.jsonl"
    with path.open("w") as handle:
        for person in population.persons:
            handle.write(json.dumps(population.original(person).to_row()) + "\n")
    rt = await runtime_on(workdir / f"speed-{size}.db")
    started = time.perf_counter()
    with path.open() as source, _StoreTime() as store_time:
        report = await import_records(rt, read_records(source, "jsonl"))
    import_seconds = time.perf_counter() - started
    assert not report.bad, report.bad[:3]
    figures = {
        "profiles": await rt.store.count(PROFILES, {}),
        "import_rows": report.rows,
        "import_seconds": round(import_seconds, 1),
        "import_rows_per_second": round(report.rows / import_seconds),
        "import_ms_per_row": round(import_seconds * 1000 / report.rows, 3),
        **{
            f"import_ms_per_row_{part}": round(seconds * 1000 / report.rows, 3)
            for part, seconds in store_time.parts().items()
        },
    }
    return SpeedStore(size, rt, population, rng, figures)


async def probe(stores: list[SpeedStore], probes: int) -> None:
    """Resolve, then import, `probes` records against each store, the stores taking
    turns PROBE_ROUND at a time: a slow spell of the machine (another process, a
    collection) then falls on every size alike, and the ratio of their p99s measures
    the store's size, not the moment each was measured in. The order alternates, so
    neither store always follows the other's writes (and their WAL checkpoints)."""
    for turn in range(probes // PROBE_ROUND):
        for store in stores if turn % 2 == 0 else stores[::-1]:
            records = [store.probe_record() for _ in range(PROBE_ROUND)]
            for record in records:
                started = time.perf_counter()
                await _resolve_only(store.rt, record)
                store.resolve_ms.append((time.perf_counter() - started) * 1000)
            for record in records:
                started = time.perf_counter()
                await import_member(store.rt, personal=record.personal())
                store.import_ms.append((time.perf_counter() - started) * 1000)
    for store in stores:
        store.figures.update(
            resolve_p50_ms=round(statistics.median(store.resolve_ms), 3),
            resolve_p99_ms=round(percentile(store.resolve_ms, 0.99), 3),
            import_one_p50_ms=round(statistics.median(store.import_ms), 3),
            import_one_p99_ms=round(percentile(store.import_ms, 0.99), 3),
        )


async def speed(sizes: tuple[int, ...], workdir: Path, probes: int) -> dict[int, dict[str, Any]]:
    """Import and probe figures per store size."""
    stores: list[SpeedStore] = []
    try:
        for size in sizes:
            stores.append(await speed_store(size, workdir))
        await probe(stores, probes)
    finally:
        for store in stores:
            await stop_runtime(store.rt)
    return {store.size: store.figures for store in stores}


def print_quality(title: str, q: dict[str, Any]) -> None:
    print(
        f"{title}: {q['records']} records of {q['persons']} persons "
        f"-> {q['profiles']} profiles in {q['seconds']} s\n"
        f"         precision(auto) {q['precision_auto']:.4%} "
        f"({q['false_merges']} false of {q['auto_links']} links), "
        f"recall(auto) {q['recall_auto']:.2%}, "
        f"recall(auto+review) {q['recall_auto_or_review']:.2%} of {q['true_pairs']} pairs, "
        f"review queue {q['review_queue']} ({q['review_items_two_people']} pair two people)\n"
        f"         by noise: {q['by_noise']}\n"
        f"         false merges by noise: {q['false_merge_noises']}"
    )
    print_audit("after `audit duplicates --apply`", q["after_audit"])


def print_audit(title: str, a: dict[str, Any]) -> None:
    print(
        f"         {title} ({a['seconds']} s, pairs {a['pairs']}, "
        f"applied {a['applied']}): precision(auto) {a['precision_auto']:.4%} "
        f"({a['false_merges']} false of {a['auto_links']}), recall(auto) {a['recall_auto']:.2%}, "
        f"recall(auto+review) {a['recall_auto_or_review']:.2%}, review queue {a['review_queue']}"
    )


async def main(
    quick: bool, quality_only: bool, seed: int, holdout: int, persons: int | None
) -> dict[str, Any]:
    default_persons, sizes, probes = (
        (3_000, (2_000, 10_000), 300) if quick else (20_000, (10_000, 100_000), 3_000)
    )
    persons = persons or default_persons
    results: dict[str, Any] = {
        "machine": f"{platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}",
        "thresholds": {
            "auto": load_settings().match_auto_threshold,
            "review": load_settings().match_review_threshold,
        },
    }
    with tempfile.TemporaryDirectory(prefix="cdp-bench-") as tmp:
        workdir = Path(tmp)
        # The last run: the holdout with CDP_MATCH_AUTO_ON_NAMES_AND_ADDRESS on, what
        # merging pairs that rest on names and address alone gains and costs.
        for name, run_seed, legacy_pos, overrides in (
            ("main", seed, False, {}),
            ("holdout", holdout, False, {}),
            ("legacy_pos", holdout, True, {}),
            ("names_and_address_auto", holdout, False, {"match_auto_on_names_and_address": True}),
        ):
            results[name] = await quality(
                run_seed,
                persons,
                workdir,
                legacy_pos=legacy_pos,
                retrain=name == "holdout",
                **overrides,
            )
            print_quality(f"{name:8} seed {run_seed}", results[name])
            if on_store := results[name].get("trained_on_store"):
                print(f"{name:8} model trained on the store after the import")
                print_model(on_store["model"])
                print_audit("audit with it", on_store["audit"])
        if quality_only:
            return results
        for size, figures in (await speed(sizes, workdir, probes)).items():
            results[f"speed_{size}"] = figures
            print(
                f"speed {size:>7,} profiles: import {figures['import_rows_per_second']} rows/s "
                f"({figures['import_rows']} rows in {figures['import_seconds']} s; per row "
                f"{figures['import_ms_per_row']} ms, of which store reads "
                f"{figures['import_ms_per_row_store_reads']} ms, commit writes "
                f"{figures['import_ms_per_row_commit_writes']} ms, BEGIN..COMMIT "
                f"{figures['import_ms_per_row_commit_transaction']} ms); "
                f"resolve p50 {figures['resolve_p50_ms']} ms p99 {figures['resolve_p99_ms']} ms; "
                f"import one p50 {figures['import_one_p50_ms']} ms "
                f"p99 {figures['import_one_p99_ms']} ms"
            )
    small, large = (results[f"speed_{s}"] for s in sizes)
    results["speed_ratio"] = {
        metric: round(large[metric] / small[metric], 2)
        for metric in ("resolve_p50_ms", "resolve_p99_ms", "import_one_p50_ms", "import_one_p99_ms")
    }
    print(f"large/small: {results['speed_ratio']}")
    return results


def train_on_file(
    records: list[Record], model_path: Path, *, version: str, seed: int = 0
) -> MatchModel:
    """`cdp identity train --from` the file `records` are the rows of (default settings),
    written to `model_path`."""
    rows = (record_of(n, r.to_row()) for n, r in enumerate(records, start=1))
    defaults = load_settings()
    read = file_match_records(
        rows, default_region=defaults.default_region, denylist=defaults.denylist, today=date.today()
    )
    assert not read.bad, read.bad
    model = train_model(read.records, version=version, seed=seed)
    save_model(model, model_path)
    return model


def train_default(seed: int, persons: int) -> Path:
    """The packaged default model, trained (unsupervised) on a generated population of
    its own seed, neither the tuning seed nor the holdout one, read as
    `cdp identity train --from` reads a file."""
    records = dataset(seed, persons, 0.3)
    train_on_file(records, DEFAULT_MODEL, version=f"default-generated-{seed}-{persons}", seed=seed)
    return DEFAULT_MODEL


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, not written out")
    parser.add_argument(
        "--quality-only", action="store_true", help="skip the speed runs (not written out)"
    )
    parser.add_argument(
        "--train-default", action="store_true", help="write the packaged default match model"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--holdout-seed", type=int, default=2)
    parser.add_argument(
        "--persons", type=int, help="people in the quality runs (not written out; default 20,000)"
    )
    args = parser.parse_args()
    if args.train_default:
        print(f"written to {relative(train_default(seed=99, persons=20_000))}")
        sys.exit(0)
    begun = time.perf_counter()
    figures = asyncio.run(
        main(args.quick, args.quality_only, args.seed, args.holdout_seed, args.persons)
    )
    figures["bench_seconds"] = round(time.perf_counter() - begun)
    print(f"bench took {figures['bench_seconds']} s")
    if not (args.quick or args.quality_only or args.persons):
        print(f"written to {relative(write_results('identity', figures))}")
