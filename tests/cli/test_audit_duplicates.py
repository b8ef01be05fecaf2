"""`cdp audit duplicates` finds look-alike pairs among stored profiles, writes them as CSV
or JSONL, and with --apply merges the auto pairs and opens review items for the rest."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

from cdp.channel import Channel
from cdp.identity.merge import unmerge_profile
from cdp.identity.model import IdentifierType, PersonalData
from cdp.identity.review_queue import resolve_review, review_queue
from cdp.identity.reviews import (
    ReviewDecision,
    ReviewItem,
    ReviewStatus,
    review_id,
    stage_review,
)
from cdp.identity.service import RawIdentifier, create_profile
from cdp.runtime import Runtime
from cdp.store.unit_of_work import UnitOfWork

from .conftest import Cdp, Json

# Profiles created without a search (as another system or an old import left them).
PEOPLE = {
    "robert": PersonalData("Robert", "Smith", postal_code="10001", birth_date=date(1980, 4, 2),
                           street_address="1 Main St"),
    "bob": PersonalData("Bob", "Smith", postal_code="10001", birth_date=date(1980, 4, 2),
                        street_address="1 Main Street"),
    "mary": PersonalData("Mary", "Jones", postal_code="10004", birth_date=date(1975, 1, 1),
                         street_address="5 Oak Ave"),
    "mary_no_birth": PersonalData("Mary", "Jones", postal_code="10004",
                                  street_address="5 Oak Ave"),
    "ann": PersonalData("Ann", "Lee", postal_code="10003", birth_date=date(1990, 2, 1)),
}  # fmt: skip
ALL_FIELDS = ("firstName", "lastName", "postalCode", "birthDate", "streetAddress")
NO_BIRTH = ("firstName", "lastName", "postalCode", "streetAddress")


def seed(cdp: Cdp, people: dict[str, PersonalData] = PEOPLE) -> dict[str, str]:
    """Create the profiles one after the other (the first one is the older)."""

    async def work(rt: Runtime) -> dict[str, str]:
        ids = {}
        for name, personal in people.items():
            ids[name] = (await create_profile(rt, channel=Channel.POS, personal=personal)).id
        return ids

    return cdp.on_store(work)


def pair(ids: dict[str, str], a: str, b: str) -> tuple[str, str]:
    return (min(ids[a], ids[b]), max(ids[a], ids[b]))


def open_items(cdp: Cdp) -> list[ReviewItem]:
    async def work(rt: Runtime) -> list[ReviewItem]:
        page = await review_queue(rt.store, status=ReviewStatus.OPEN, first=50, after=None)
        return [item for _, item in page.items]

    return cdp.on_store(work)


def read_jsonl(path: Path) -> list[Json]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_audit_writes_csv_pairs_with_score_decision_and_fields(cdp: Cdp, tmp_path: Path) -> None:
    ids = seed(cdp)
    output = tmp_path / "pairs.csv"

    result = cdp("audit", "duplicates", "--output", str(output))

    assert result.exit_code == 0, result.output
    assert result.stdout == "pairs: 2, auto: 1, review: 1, kept separate: 0\n"
    rows = list(csv.reader(output.open()))
    assert rows[0] == ["profile_a", "profile_b", "score", "decision", "matched_on"]
    assert sorted(rows[1:]) == sorted(
        [
            [*pair(ids, "robert", "bob"), "1.0000", "auto", ";".join(ALL_FIELDS)],
            [*pair(ids, "mary", "mary_no_birth"), "0.8500", "review", ";".join(NO_BIRTH)],
        ]
    )
    assert open_items(cdp) == []  # without --apply nothing changes
    assert len(cdp.export()) == 5


def test_audit_writes_jsonl(cdp: Cdp, tmp_path: Path) -> None:
    ids = seed(cdp)
    output = tmp_path / "pairs.jsonl"

    result = cdp("audit", "duplicates", "-o", str(output))

    assert result.exit_code == 0, result.output
    lines = sorted(read_jsonl(output), key=lambda line: line["decision"])
    assert lines == [
        {
            "profile_a": pair(ids, "robert", "bob")[0],
            "profile_b": pair(ids, "robert", "bob")[1],
            "score": 1.0,
            "decision": "auto",
            "matched_on": list(ALL_FIELDS),
        },
        {
            "profile_a": pair(ids, "mary", "mary_no_birth")[0],
            "profile_b": pair(ids, "mary", "mary_no_birth")[1],
            "score": 0.85,
            "decision": "review",
            "matched_on": list(NO_BIRTH),
        },
    ]


def test_audit_without_output_writes_jsonl_to_stdout(cdp: Cdp) -> None:
    seed(cdp)

    result = cdp("audit", "duplicates")

    assert result.exit_code == 0, result.output
    assert [json.loads(line)["decision"] for line in result.stdout.splitlines()] in (
        ["auto", "review"],
        ["review", "auto"],
    )
    assert result.stderr == "pairs: 2, auto: 1, review: 1, kept separate: 0\n"


def test_apply_merges_auto_pairs_and_opens_review_items(cdp: Cdp, tmp_path: Path) -> None:
    ids = seed(cdp)

    result = cdp("audit", "duplicates", "--apply", "-o", str(tmp_path / "pairs.csv"))

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "pairs: 2, auto: 1, review: 1, kept separate: 0\n"
        "merged: 1, review items opened: 1, skipped: 0\n"
    )
    profiles = {p["id"]: p for p in cdp.export("--all")}
    assert profiles[ids["bob"]]["status"] == "MERGED"
    assert profiles[ids["bob"]]["merged_into"] == ids["robert"]  # the older one survives
    assert profiles[ids["robert"]]["merged_from"] == [ids["bob"]]
    assert len(cdp.export()) == 4
    [item] = open_items(cdp)
    assert item.profile_ids == pair(ids, "mary", "mary_no_birth")
    assert item.score == 0.85


def test_apply_again_changes_nothing(cdp: Cdp, tmp_path: Path) -> None:
    seed(cdp)
    output = tmp_path / "pairs.csv"
    assert cdp("audit", "duplicates", "--apply", "-o", str(output)).exit_code == 0
    before = cdp.export("--all")

    again = cdp("audit", "duplicates", "--apply", "-o", str(output))

    assert again.stdout == (
        "pairs: 1, auto: 0, review: 1, kept separate: 0\n"
        "merged: 0, review items opened: 0, skipped: 1\n"
    )
    assert cdp.export("--all") == before
    assert len(open_items(cdp)) == 1


def test_a_pair_kept_separate_by_a_reviewer_is_reported_and_left_alone(
    cdp: Cdp, tmp_path: Path
) -> None:
    ids = seed(cdp, {"robert": PEOPLE["robert"], "bob": PEOPLE["bob"]})
    both = [ids["robert"], ids["bob"]]

    async def keep_separate(rt: Runtime) -> None:
        async def open_item(uow: UnitOfWork) -> None:
            await stage_review(
                uow, profile_ids=both, score=1.0, reasons=["seen before"], at=rt.clock.now()
            )

        await rt.transaction(open_item)
        await resolve_review(
            rt, review_id=review_id(both), decision=ReviewDecision.KEEP_SEPARATE, actor="test"
        )

    cdp.on_store(keep_separate)
    output = tmp_path / "pairs.jsonl"

    result = cdp("audit", "duplicates", "--apply", "-o", str(output))

    assert result.stdout == (
        "pairs: 1, auto: 0, review: 0, kept separate: 1\n"
        "merged: 0, review items opened: 0, skipped: 1\n"
    )
    assert [line["decision"] for line in read_jsonl(output)] == ["kept_separate"]
    assert {p["status"] for p in cdp.export("--all")} == {"ALLOCATED"}


def test_a_pair_unmerged_after_an_audit_is_not_merged_again(cdp: Cdp, tmp_path: Path) -> None:
    ids = seed(cdp, {"robert": PEOPLE["robert"], "bob": PEOPLE["bob"]})
    output = tmp_path / "pairs.jsonl"
    assert cdp("audit", "duplicates", "--apply", "-o", str(output)).exit_code == 0
    cdp.on_store(
        lambda rt: unmerge_profile(rt, merged_id=ids["bob"], reason="two people", actor="test")
    )

    result = cdp("audit", "duplicates", "--apply", "-o", str(output))

    assert result.stdout == (
        "pairs: 1, auto: 0, review: 0, kept separate: 1\n"
        "merged: 0, review items opened: 0, skipped: 1\n"
    )
    assert {p["status"] for p in cdp.export("--all")} == {"ALLOCATED"}


def test_merge_protection_turns_an_auto_pair_into_a_review_item(cdp: Cdp, tmp_path: Path) -> None:
    def emails(*values: str) -> list[RawIdentifier]:
        return [RawIdentifier(IdentifierType.EMAIL, v) for v in values]

    async def work(rt: Runtime) -> list[str]:
        # Two emails each: merged, they would hold four (the limit is three).
        first = await create_profile(
            rt,
            channel=Channel.POS,
            personal=PEOPLE["robert"],
            identifiers=emails("r1@example.com", "r2@example.com"),
        )
        second = await create_profile(
            rt,
            channel=Channel.POS,
            personal=PEOPLE["bob"],
            identifiers=emails("b1@example.com", "b2@example.com"),
        )
        return [first.id, second.id]

    ids = cdp.on_store(work)

    result = cdp("audit", "duplicates", "--apply", "-o", str(tmp_path / "pairs.csv"))

    assert result.stdout == (
        "pairs: 1, auto: 1, review: 0, kept separate: 0\n"
        "merged: 0, review items opened: 1, skipped: 0\n"
    )
    [item] = open_items(cdp)
    assert item.profile_ids == tuple(sorted(ids))
    assert item.reasons == (
        "duplicate audit: 1.00 on firstName, lastName, postalCode, birthDate, streetAddress; "
        "not merged: the merged profile would hold 4 emails (limit 3)",
    )
    assert {p["status"] for p in cdp.export()} == {"ALLOCATED"}


HOUSEHOLD = {
    "father": PersonalData("Edsger", "Dijkstra", postal_code="10005",
                           birth_date=date(1960, 5, 11), street_address="7 Elm St"),
    "undated": PersonalData("Edsger", "Dijkstra", postal_code="10005",
                            street_address="7 Elm Street"),
    "junior": PersonalData("Edsger", "Dijkstra", postal_code="10005",
                           birth_date=date(1999, 4, 4), street_address="7 Elm St"),
}  # fmt: skip


def test_names_and_address_merge_when_configured_and_nobody_else_matches(
    cdp: Cdp, tmp_path: Path
) -> None:
    # Pairs resting on names and address may merge; an undated record scores in the auto
    # band against the father, and alone with him the audit merges them.
    cdp.runner.env["CDP_MATCH_AUTO_ON_NAMES_AND_ADDRESS"] = "true"
    alone = seed(cdp, {k: HOUSEHOLD[k] for k in ("father", "undated")})

    result = cdp("audit", "duplicates", "--apply", "-o", str(tmp_path / "pairs.csv"))

    assert result.stdout.startswith("pairs: 1, auto: 1, review: 0, kept separate: 0\n")
    assert [p["id"] for p in cdp.export()] == [alone["father"]]


def test_a_record_matching_a_father_and_his_junior_is_not_merged_by_the_audit(
    cdp: Cdp, tmp_path: Path
) -> None:
    cdp.runner.env["CDP_MATCH_AUTO_ON_NAMES_AND_ADDRESS"] = "true"
    ids = seed(cdp, HOUSEHOLD)

    result = cdp("audit", "duplicates", "--apply", "-o", str(tmp_path / "pairs.csv"))

    # Each pair alone scores in the auto band; together they are a person's question.
    assert result.stdout == (
        "pairs: 2, auto: 0, review: 2, kept separate: 0\n"
        "merged: 0, review items opened: 2, skipped: 0\n"
    )
    assert sorted(item.profile_ids for item in open_items(cdp)) == sorted(
        [pair(ids, "father", "undated"), pair(ids, "junior", "undated")]
    )
    assert all(item.score >= 0.9 for item in open_items(cdp))


def test_three_records_of_one_person_are_merged_into_one(cdp: Cdp, tmp_path: Path) -> None:
    robert = PEOPLE["robert"]
    ids = seed(cdp, {"first": robert, "second": robert, "third": PEOPLE["bob"]})

    result = cdp("audit", "duplicates", "--apply", "-o", str(tmp_path / "pairs.csv"))

    assert result.stdout == (
        "pairs: 3, auto: 3, review: 0, kept separate: 0\n"
        "merged: 2, review items opened: 0, skipped: 1\n"
    )
    assert [p["id"] for p in cdp.export()] == [ids["first"]]
