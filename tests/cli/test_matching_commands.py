"""`cdp identity train` writes a match model estimated from the stored profiles, which
CDP_MATCH_MODEL_FILE then puts to use; `cdp identity rekey` rebuilds blocking keys."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from cdp.channel import Channel
from cdp.identity.blocking import blocking_keys
from cdp.identity.match_model import load_model, save_model
from cdp.identity.model import PersonalData
from cdp.identity.record import MatchRecord
from cdp.identity.service import create_profile
from cdp.runtime import Runtime
from cdp.store.catalogue import MATCH_KEYS, REVIEWS
from cdp.store.port import Query
from cdp.store.unit_of_work import UnitOfWork

from .conftest import Cdp, write_csv

FIRST = [
    "Ada",
    "Grace",
    "Alan",
    "Edsger",
    "Barbara",
    "Donald",
    "Ken",
    "Dennis",
    "Margaret",
    "Frances",
]
LAST = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Thompson",
    "Ritchie",
    "Hamilton",
    "Allen",
]


def people() -> list[PersonalData]:
    """Ten people per surname, and a second record for every third one (a typo)."""
    found = []
    for n in range(100):
        person = PersonalData(
            FIRST[n % 10],
            LAST[n // 10],
            postal_code=f"{10000 + n * 37}",
            birth_date=date(1950, 1, 1) + timedelta(days=n * 97),
            street_address=f"{n + 1} Main Street",
        )
        found.append(person)
        if n % 3 == 0:
            found.append(PersonalData(person.first_name + "e", person.last_name,
                                      postal_code=person.postal_code,
                                      birth_date=person.birth_date))  # fmt: skip
    return found


def surname(home: int) -> str:
    """A surname of its own for each home, unlike any other's in sound too (soundex
    codes differ), as most of a real town's are: "Kabodel"."""
    sounds = "bkdlmr"  # one letter of each soundex digit
    return (
        "BCDFGJKLMNPRSTVZ"[home % 16]
        + "a" + sounds[home // 16 % 6]
        + "o" + sounds[home // 96 % 6]
        + "e" + sounds[home // 576 % 6]
    )  # fmt: skip


def town(families: bool) -> list[PersonalData]:
    """1,000 records with an address (enough to tell whether the store holds families):
    one person per address, or two members of one family (same surname, another given
    name and birth date) at each."""
    found = []
    for n in range(1_000):
        home = n // 2 if families else n
        found.append(
            PersonalData(
                FIRST[n % 10],
                surname(home),
                postal_code=f"{20000 + home}",
                # a generation and half a year apart: three digits or more differ
                birth_date=(date(1975, 7, 15) if n % 2 else date(1940, 1, 1))
                + timedelta(days=home * 11),
                street_address=f"{home + 1} Oak Street",
            )
        )
    return found


# One person's two records: the given name replaced at a till (the rest agrees).
BYRONS = {"last_name": "Byron", "postal_code": "90210", "street_address": "12 St James Square"}
ADA_BYRON = PersonalData("Ada", birth_date=date(1915, 12, 10), **BYRONS)
MARY_BYRON = PersonalData("Mary", birth_date=date(1915, 12, 10), **BYRONS)


def seed(cdp: Cdp, records: list[PersonalData]) -> list[str]:
    async def work(rt: Runtime) -> list[str]:
        return [(await create_profile(rt, channel=Channel.POS, personal=p)).id for p in records]

    return cdp.on_store(work)


def test_train_writes_a_model_that_import_then_uses(cdp: Cdp, tmp_path: Path) -> None:
    seed(cdp, people())
    output = tmp_path / "model.json"

    result = cdp("identity", "train", "--output", str(output), "--version", "shop-1")

    assert result.exit_code == 0, result.output
    model = load_model(output)
    assert model.version == "shop-1"
    assert model.trained["records"] == 134
    assert result.stdout.startswith(f"model shop-1 written to {output}: 134 records, ")
    assert result.stdout.splitlines()[1] == (
        "households: 100 records with an address, too few to tell (at least 1,000 needed); "
        "household guards on"
    )
    assert model.household_share is None
    # Agreeing on a birth date is rare between two people, common within one.
    assert model.m["birth_date"]["exact"] > 100 * model.u["birth_date"]["exact"]
    # Each name's share of the records, for weighing an exact agreement on it.
    held = [p.last_name for p in people()]
    assert model.term_frequencies["last_name"]["lovelace"] == pytest.approx(
        held.count("Lovelace") / len(held), rel=1e-3
    )

    cdp.runner.env["CDP_MATCH_MODEL_FILE"] = str(output)
    # Grace Lovelace is stored once; Ada twice (with a typo): a record matching both
    # is a reviewer's to place.
    members = write_csv(
        tmp_path / "m.csv",
        "first_name,last_name,postal_code,birth_date",
        "Grace,Lovelace,10037,1950-04-08",
        "Ada,Lovelace,10000,1950-01-01",
    )
    imported = cdp("import", str(members))
    assert imported.exit_code == 0, imported.output
    assert "created for review: 1, added to existing profiles: 1" in imported.stdout


@pytest.mark.parametrize(
    ("families", "guards"),
    [
        (False, "household guards off (the weights decide alone)"),
        (True, "household guards on (siblings and juniors go to review)"),
    ],
)
def test_train_measures_households_and_the_audit_applies_what_it_found(
    cdp: Cdp, tmp_path: Path, families: bool, guards: str
) -> None:
    # Without families in the store a replaced given name is a till's slip and merges;
    # with them it may be a sibling (or a twin) and a reviewer decides.
    *_, ada, mary = seed(cdp, [*people(), *town(families), ADA_BYRON, MARY_BYRON])
    output = tmp_path / "model.json"

    trained = cdp("identity", "train", "--output", str(output))

    assert trained.exit_code == 0, trained.output
    share = "90.74%" if families else "0.00%"  # 1,000 of the 1,102 records with an address
    assert trained.stdout.splitlines()[1] == (
        f"households: {share} of records with an address have a household member; {guards}"
    )
    assert load_model(output).trained["records_with_address"] == 1_102
    cdp.runner.env["CDP_MATCH_MODEL_FILE"] = str(output)
    applied = cdp("audit", "duplicates", "--apply", "-o", str(tmp_path / "pairs.csv"))
    assert applied.exit_code == 0, applied.output
    profiles = {p["id"]: p for p in cdp.export("--all")}
    with (tmp_path / "pairs.csv").open() as written:
        pairs = {(r["profile_a"], r["profile_b"], r["decision"]) for r in csv.DictReader(written)}
    if families:
        assert profiles[mary]["status"] == profiles[ada]["status"] == "ALLOCATED"
        assert (min(ada, mary), max(ada, mary), "review") in pairs
    else:
        assert profiles[mary]["merged_into"] == ada
        assert (min(ada, mary), max(ada, mary), "auto") in pairs


def test_a_store_larger_than_the_models_training_records_is_matched_more_warily(
    cdp: Cdp, tmp_path: Path
) -> None:
    # The same model, told it was trained on 10 records, meets a store of 134.
    seed(cdp, people())
    packaged = load_model()
    small = tmp_path / "small.json"
    save_model(replace(packaged, trained={**packaged.trained, "records": 10}), small)

    def audited(name: str) -> dict[tuple[str, str], float]:
        assert cdp("audit", "duplicates", "-o", str(tmp_path / name)).exit_code == 0
        with (tmp_path / name).open() as written:
            return {
                (r["profile_a"], r["profile_b"]): float(r["score"]) for r in csv.DictReader(written)
            }

    as_trained = audited("packaged.csv")
    cdp.runner.env["CDP_MATCH_MODEL_FILE"] = str(small)
    warier = audited("small.csv")

    assert warier.keys() <= as_trained.keys()
    assert all(warier[pair] <= as_trained[pair] for pair in warier)
    assert sum(warier.values()) < sum(as_trained[pair] for pair in warier)


def as_row(person: PersonalData) -> str:
    fields = (person.first_name, person.last_name, person.postal_code, person.birth_date,
              person.street_address, person.email)  # fmt: skip
    return ",".join("" if f is None else str(f) for f in fields)


def test_train_from_an_import_file_reads_it_as_the_import_would(cdp: Cdp, tmp_path: Path) -> None:
    records = [*people(), *town(False), ADA_BYRON, MARY_BYRON]
    members = write_csv(
        tmp_path / "members.csv",
        "first_name,last_name,postal_code,birth_date,street_address,email",
        *map(as_row, records),
        "Ada,Lovelace,10000,1950-13-01,,",  # no calendar date: kept, as the import keeps it
        "Ada,Lovelace,10000",  # too few values
        "Ada,Lovelace,10000,1950-01-01,,ada@",  # no email address
    )
    output = tmp_path / "model.json"

    result = cdp("identity", "train", "--from", str(members), "-o", str(output))

    assert result.exit_code == 0, result.output
    assert result.stderr == "2 records the import would refuse were left out\n"
    assert result.stdout.splitlines()[1] == (
        "households: 0.00% of records with an address have a household member; "
        "household guards off (the weights decide alone)"
    )
    from_file = load_model(output)
    assert from_file.trained["records"] == len(records) + 1
    assert cdp.export("--all") == []  # nothing was imported
    # The same records stored as profiles train to the same counts and names' shares.
    seed(cdp, records)
    stored = cdp("identity", "train", "-o", str(tmp_path / "stored.json"))
    assert stored.exit_code == 0, stored.output
    from_store = load_model(tmp_path / "stored.json")
    assert from_store.trained["records"] == len(records)
    assert from_store.trained["records_with_address"] == 1_102
    assert from_file.trained["records_with_address"] == 1_102
    assert from_file.term_frequencies["first_name"]["grace"] == pytest.approx(
        from_store.term_frequencies["first_name"]["grace"], rel=0.01
    )


def test_train_on_a_store_that_has_been_matching_keeps_the_m_of_the_model_in_use(
    cdp: Cdp, tmp_path: Path
) -> None:
    # What resolution leaves unmerged is the pairs it could not decide: here a given
    # name replaced at a till. The easy duplicates (a typo) are one profile each already,
    # so EM would take a replaced name for what duplicates look like.
    residents = town(False)
    hard = [replace(p, first_name=FIRST[(n + 3) % 10]) for n, p in enumerate(residents[:60])]
    easy = [replace(p, last_name=p.last_name + "e") for p in residents[60:360]]
    ids = seed(cdp, [*people(), *residents])
    header = "first_name,last_name,postal_code,birth_date,street_address,email"
    imported = cdp("import", str(write_csv(tmp_path / "till.csv", header, *map(as_row, hard))))
    assert "created for review: 60," in imported.stdout, imported.output
    output = tmp_path / "model.json"
    in_use = load_model()

    trained = cdp("identity", "train", "-o", str(output), "--version", "shop-2")

    assert trained.exit_code == 0, trained.output
    lines = trained.stdout.splitlines()
    assert lines[0] == (
        f"model shop-2 written to {output}: {len(ids) + 60} records, "
        f"m and prior {in_use.prior:.3g} kept from model {in_use.version}"
    )
    assert lines[2].startswith("m kept: the duplicates found have another first_name in ")
    assert lines[2].endswith("train --from an import file before importing it")
    model = load_model(output)
    assert (model.m, model.prior) == (in_use.m, in_use.prior)
    assert model.trained["m_and_prior_from"]["version"] == in_use.version
    # u, the names' shares and the households are the store's own: no families here.
    assert model.u != in_use.u
    assert "kabodel" not in in_use.term_frequencies["last_name"]
    assert model.household_share == 0.0
    # So a replaced given name at one address is a till's slip, and the audit merges it.
    cdp.runner.env["CDP_MATCH_MODEL_FILE"] = str(output)
    applied = cdp("audit", "duplicates", "--apply", "-o", str(tmp_path / "pairs.csv"))
    assert applied.exit_code == 0, applied.output
    merges = {(p["id"], p["merged_into"]) for p in cdp.export("--all") if p["merged_into"]}
    with_residents = {pair for pair in merges if set(pair) & set(ids[-1000:])}
    assert len(with_residents) == 60
    assert {x for pair in with_residents for x in pair} >= set(ids[-1000:-940])
    # ... and their review items, opened by the import, are decided with it.
    assert cdp.on_store(lambda rt: rt.store.count(REVIEWS, {"status": "OPEN"})) == 0
    # The file they came from still holds every duplicate, easy ones too: m of its own.
    members = write_csv(
        tmp_path / "members.csv", header, *map(as_row, [*people(), *residents, *hard, *easy])
    )
    from_file = tmp_path / "from-file.json"
    result = cdp("identity", "train", "--from", str(members), "-o", str(from_file))
    assert result.exit_code == 0, result.output
    model = load_model(from_file)
    assert "m_and_prior_from" not in model.trained
    assert model.m["first_name"]["exact"] > model.m["first_name"]["different"]


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("members.txt", "cannot tell the format of members.txt: use --format csv or jsonl"),
        ("missing.csv", "No such file or directory"),
    ],
)
def test_train_from_a_file_that_cannot_be_read_writes_nothing(
    cdp: Cdp, tmp_path: Path, name: str, error: str
) -> None:
    if name.endswith(".txt"):
        write_csv(tmp_path / name, "first_name,last_name", "Ada,Lovelace")
    output = tmp_path / "model.json"

    result = cdp("identity", "train", "--from", str(tmp_path / name), "-o", str(output))

    assert result.exit_code == 2
    assert result.stderr.startswith(f"cannot train on {tmp_path / name}: ")
    assert error in result.stderr
    assert not output.exists()


def test_train_on_too_little_data_says_so_and_writes_nothing(cdp: Cdp, tmp_path: Path) -> None:
    seed(cdp, people()[:1])
    output = tmp_path / "model.json"

    result = cdp("identity", "train", "--output", str(output))

    assert result.exit_code == 1
    assert result.stderr == "cannot train: at least two records with data are needed\n"
    assert not output.exists()


def test_a_model_file_that_cannot_be_read_stops_the_command(cdp: Cdp, tmp_path: Path) -> None:
    broken = tmp_path / "model.json"
    broken.write_text("{}")
    cdp.runner.env["CDP_MATCH_MODEL_FILE"] = str(broken)

    result = cdp("export")

    assert result.exit_code != 0
    assert "CDP_MATCH_MODEL_FILE" in result.output


def test_rekey_brings_keys_in_line_and_a_second_run_changes_nothing(cdp: Cdp) -> None:
    [ada_id] = seed(cdp, people()[:1])
    ada = people()[0]

    async def age_keys(rt: Runtime) -> None:
        # Keys as an older version left them: one stale, one of today's missing.
        async def use_case(uow: UnitOfWork) -> None:
            rows = await uow.find(Query(MATCH_KEYS, {"profile_id": ada_id}))
            uow.delete(MATCH_KEYS, rows[0]["id"])
            uow.insert(MATCH_KEYS, {"id": f"old|x#{ada_id}", "key": "old|x", "profile_id": ada_id})

        await rt.transaction(use_case)

    async def keys(rt: Runtime) -> set[str]:
        return {r["key"] for r in await rt.store.find(Query(MATCH_KEYS, {"profile_id": ada_id}))}

    cdp.on_store(age_keys)

    first = cdp("identity", "rekey")
    again = cdp("identity", "rekey")

    assert first.stdout == "keys changed: 2\n"
    assert again.stdout == "keys changed: 0\n"
    assert cdp.on_store(keys) == blocking_keys(MatchRecord.of(ada))
