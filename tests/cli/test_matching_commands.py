"""`cdp identity train` writes a match model estimated from the stored profiles, which
CDP_MATCH_MODEL_FILE then puts to use; `cdp identity rekey` rebuilds blocking keys."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from cdp.channel import Channel
from cdp.identity.blocking import blocking_keys
from cdp.identity.match_model import load_model
from cdp.identity.model import PersonalData
from cdp.identity.record import MatchRecord
from cdp.identity.service import create_profile
from cdp.runtime import Runtime
from cdp.store.catalogue import MATCH_KEYS
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
