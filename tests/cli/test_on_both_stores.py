"""What `cdp import`, `cdp export` and `cdp audit duplicates` run, on each store."""

from __future__ import annotations

import io
import json
from datetime import date

from cdp.channel import Channel
from cdp.identity.duplicates import Applied, PairDecision, apply_pair, find_duplicates
from cdp.identity.exporter import export_profiles
from cdp.identity.importer import Imported, RowOutcome, import_records, read_records
from cdp.identity.model import PersonalData
from cdp.identity.service import create_profile
from cdp.runtime import Runtime

MEMBERS = (
    '{"first_name": "Robert", "last_name": "Smith", "email": "bob@example.com",'
    ' "postal_code": "10001", "birth_date": "1980-04-02"}\n'
    '{"first_name": "Bob", "last_name": "Smith", "postal_code": "10001",'
    ' "birth_date": "1980-04-02", "pos_customer_id": "P-1"}\n'
    '{"first_name": "Mary", "last_name": "Jones", "postal_code": "10004"}\n'
    '{"first_name": "Mary", "last_name": "Jones", "postal_code": "10004"}\n'
    '{"email": "nope"}\n'
)


async def test_import_resolves_records_and_a_second_run_adds_nothing(runtime: Runtime) -> None:
    outcomes: list[tuple[int, str]] = []

    def note(item: object) -> None:
        if isinstance(item, Imported):
            outcomes.append((item.line, item.outcome.value))

    first = await import_records(runtime, read_records(io.StringIO(MEMBERS), "jsonl"))
    again = await import_records(
        runtime, read_records(io.StringIO(MEMBERS), "jsonl"), on_record=note
    )

    assert dict(first.outcomes) == {
        RowOutcome.CREATED: 2,
        RowOutcome.UPDATED: 1,
        RowOutcome.REVIEW: 1,
    }
    assert [(bad.line, bad.reason) for bad in first.bad] == [(5, "email is not a valid address")]
    assert (dict(again.outcomes), len(again.bad)) == ({RowOutcome.UNCHANGED: 4}, 1)
    assert outcomes == [(1, "unchanged"), (2, "unchanged"), (3, "unchanged"), (4, "unchanged")]
    lines: list[str] = []
    assert await export_profiles(runtime.store, lines.append) == 3
    robert = next(json.loads(line) for line in lines if "Robert" in line)
    assert [(i["type"], i["value"]) for i in robert["identifiers"]] == [
        ("EMAIL", "bob@example.com"),
        ("POS_CUSTOMER_ID", "P-1"),
    ]


async def test_the_audit_finds_and_merges_a_duplicate(runtime: Runtime) -> None:
    personal = PersonalData("Robert", "Smith", postal_code="10001", birth_date=date(1980, 4, 2))
    older = await create_profile(runtime, channel=Channel.POS, personal=personal)
    newer = await create_profile(runtime, channel=Channel.CRM, personal=personal)

    pairs = [pair async for pair in find_duplicates(runtime)]

    assert [(p.profile_a, p.profile_b, p.decision) for p in pairs] == [
        (min(older.id, newer.id), max(older.id, newer.id), PairDecision.AUTO)
    ]
    assert await apply_pair(runtime, pairs[0]) is Applied.MERGED
    assert await apply_pair(runtime, pairs[0]) is Applied.SKIPPED
    assert [pair async for pair in find_duplicates(runtime)] == []
    lines: list[str] = []
    await export_profiles(runtime.store, lines.append)
    assert [json.loads(line)["id"] for line in lines] == [older.id]
