"""`cdp import` resolves each record like an enrollment, reports bad ones by line and
goes on, and adds nothing when run again; `cdp export` writes what the store holds."""

from __future__ import annotations

from pathlib import Path

from cdp.identity.reviews import ReviewStatus
from cdp.runtime import Runtime
from cdp.store.catalogue import REVIEWS

from .conftest import Cdp, write_csv, write_jsonl

HEADER = (
    "first_name,last_name,email,phone,postal_code,birth_date,street_address,"
    "pos_customer_id,loyalty_card"
)
MEMBERS_CSV = (
    HEADER,
    "Robert,Smith,bob@example.com,,10001,1980-04-02,1 Main St,P-1,",  # 2: created
    "Jane,Doe,not-an-email,,10002,,,,",  # 3: bad email
    "Ann,Lee,,,10003,1990-13-01,,,",  # 4: no such date: created without it
    "Mary,Jones,,,10004,1975-01-01,5 Oak Ave,,",  # 5: created
    "Mary,Jones,,,10004,,5 Oak Ave,,",  # 6: like 5 but no birth date: review
    "Tom,,,,,,,,",  # 7: nothing identifies it
    "Liam,Brown,,,10005,,,,12ab",  # 8: bad card
    ",,,,,,,,6037-0000-0000-0001",  # 9: a card alone: created
)
BAD_LINES = (
    "line 3: email is not a valid address\n"
    "line 4: birth_date '1990-13-01' is not a date (YYYY-MM-DD); imported without it\n"
    "line 7: nothing identifies this record: give an identifier, both names, "
    "or a name with a birth date, postal code or street\n"
    "line 8: loyalty card number must be 6 to 32 digits\n"
)


def summary(
    records: int, created: int, review: int, added: int, known: int, bad: int, dropped: int = 0
) -> str:
    return (
        f"records: {records}, created: {created}, created for review: {review}, "
        f"added to existing profiles: {added}, already known: {known}, bad: {bad}, "
        f"fields dropped: {dropped}\n"
    )


def open_reviews(cdp: Cdp) -> int:
    async def count(rt: Runtime) -> int:
        return await rt.store.count(REVIEWS, {"status": ReviewStatus.OPEN.value})

    return cdp.on_store(count)


def test_import_csv_reports_bad_lines_and_imports_the_rest(cdp: Cdp, tmp_path: Path) -> None:
    members = write_csv(tmp_path / "members.csv", *MEMBERS_CSV)

    result = cdp("import", str(members))

    assert result.exit_code == 1
    assert result.stdout == summary(8, created=4, review=1, added=0, known=0, bad=3, dropped=1)
    assert result.stderr == BAD_LINES
    profiles = cdp.export()
    assert sorted(
        (p["personal"]["first_name"] or "", p["personal"]["birth_date"] or "") for p in profiles
    ) == [("", ""), ("Ann", ""), ("Mary", ""), ("Mary", "1975-01-01"), ("Robert", "1980-04-02")]
    assert {p["status"] for p in profiles} == {"ENROLLED"}
    assert {(p["enrollment"]["method"], p["enrollment"]["channel"]) for p in profiles} == {
        ("IMPORT", "IMPORT")
    }
    assert open_reviews(cdp) == 1


def test_import_csv_twice_creates_nothing_new(cdp: Cdp, tmp_path: Path) -> None:
    members = write_csv(tmp_path / "members.csv", *MEMBERS_CSV)
    assert cdp("import", str(members)).exit_code == 1
    before = cdp.export()

    again = cdp("import", str(members))

    assert again.exit_code == 1
    assert again.stdout == summary(8, created=0, review=0, added=0, known=5, bad=3, dropped=1)
    assert again.stderr == BAD_LINES
    assert cdp.export() == before
    assert open_reviews(cdp) == 1


def test_import_of_good_records_only_exits_0(cdp: Cdp, tmp_path: Path) -> None:
    members = write_csv(tmp_path / "members.csv", HEADER, MEMBERS_CSV[1], MEMBERS_CSV[4])

    result = cdp("import", str(members))

    assert result.exit_code == 0
    assert result.stdout == summary(2, created=2, review=0, added=0, known=0, bad=0)
    assert result.stderr == ""


def test_import_jsonl_reports_bad_lines_and_imports_the_rest(cdp: Cdp, tmp_path: Path) -> None:
    members = write_jsonl(
        tmp_path / "members.jsonl",
        {"first_name": "Robert", "last_name": "Smith", "pos_customer_id": 12345},
        "not json",
        '["a list"]',
        {"first_name": "X", "last_name": "Y", "nickname": "y"},
        "",
        {"first_name": "Ann", "last_name": "Lee", "birth_date": "1990-02-30"},
        {"first_name": "Ann", "last_name": "Lee", "postal_code": 10003},
        {"first_name": "Eve", "last_name": "Stone", "email": None, "phone": "12"},
        {"first_name": "Eve", "last_name": ["Stone"]},
    )

    result = cdp("import", str(members))

    assert result.exit_code == 1
    # The two Ann Lees share nothing but an uncommon name: a person decides.
    assert result.stdout == summary(8, created=2, review=1, added=0, known=0, bad=5, dropped=1)
    assert result.stderr == (
        "line 2: not valid JSON (Expecting value)\n"
        "line 3: not a JSON object\n"
        "line 4: unknown column(s) 'nickname'\n"
        "line 6: birth_date '1990-02-30' is not a date (YYYY-MM-DD); imported without it\n"
        "line 8: phone is not a valid phone number\n"
        "line 9: last_name must be a string\n"
    )
    exported = {
        (p["personal"]["first_name"], p["personal"]["postal_code"]): p for p in cdp.export()
    }
    assert exported["Robert", None]["identifiers"][0]["type"] == "POS_CUSTOMER_ID"
    assert exported["Robert", None]["identifiers"][0]["value"] == "12345"
    assert exported["Ann", None]["personal"]["birth_date"] is None
    assert exported["Ann", "10003"]["personal"]["birth_date"] is None

    again = cdp("import", str(members))

    assert again.stdout == summary(8, created=0, review=0, added=0, known=3, bad=5, dropped=1)


def test_a_birth_date_that_is_no_date_is_dropped_but_still_matches_its_typo(
    cdp: Cdp, tmp_path: Path
) -> None:
    stored = "first_name,last_name,birth_date,postal_code,street_address"
    member = "Edsger,Dijkstra,{},10005,7 Elm St"
    first = write_csv(tmp_path / "a.csv", stored, member.format("1960-05-11"))
    assert cdp("import", str(first)).exit_code == 0
    # 1960-15-11: a month slip. Without the date only names and address would agree,
    # which is a review item; the typo of the stored date makes it one member.
    typo = write_csv(tmp_path / "b.csv", stored, member.format("1960-15-11"))

    result = cdp("import", str(typo))

    # Nothing new to add to the member: already known.
    assert result.stdout == summary(1, created=0, review=0, added=0, known=1, bad=0, dropped=1)
    [profile] = cdp.export()
    assert profile["personal"]["birth_date"] == "1960-05-11"
    # Far from the stored date, the garbled text is no evidence either way: review.
    far = write_csv(tmp_path / "c.csv", stored, "Edsger,Dijkstra,1999-99-99,10005,7 Elm Street")
    assert cdp("import", str(far)).stdout == summary(
        1, created=0, review=1, added=0, known=0, bad=0, dropped=1
    )


def test_a_record_matching_a_profile_fills_its_blanks_and_links_free_identifiers(
    cdp: Cdp, tmp_path: Path
) -> None:
    first = write_jsonl(
        tmp_path / "crm.jsonl",
        {"first_name": "Robert", "last_name": "Smith", "email": "bob@example.com"},
    )
    second = write_jsonl(
        tmp_path / "pos.jsonl",
        {
            "first_name": "Bob",
            "email": "BOB@example.com",
            "phone": "+1 212 754 2159",
            "postal_code": "10001",
            "birth_date": "1980-04-02",
            "loyalty_card": "6037 0000 0000 0001",
        },
    )
    assert cdp("import", str(first)).exit_code == 0

    result = cdp("import", str(second))

    assert result.stdout == summary(1, created=0, review=0, added=1, known=0, bad=0)
    [profile] = cdp.export()
    assert profile["personal"] == {
        "first_name": "Robert",
        "last_name": "Smith",
        "email": "bob@example.com",
        "phone": "+12127542159",
        "postal_code": "10001",
        "birth_date": "1980-04-02",
        "street_address": None,
        "attributes": {},
    }
    assert [(i["type"], i["value"], i["source"]) for i in profile["identifiers"]] == [
        ("EMAIL", "bob@example.com", "IMPORT"),
        ("PHONE", "+12127542159", "IMPORT"),
        ("LOYALTY_CARD", "6037000000000001", "IMPORT"),
    ]
    # The demo program: 100 for enrolling, 50 once the profile is complete.
    assert (profile["balance"], profile["pending"]) == (150, 0)


def test_identical_records_without_identifiers_are_each_resolved(cdp: Cdp, tmp_path: Path) -> None:
    # A father and son at one address, neither with a birth date: alike, not the same row.
    same = "Harold,Clark,,,11414,,8495 Franklin Dr,,"
    members = write_csv(tmp_path / "members.csv", HEADER, same, same)

    result = cdp("import", str(members))
    again = cdp("import", str(members))

    assert result.stdout == summary(2, created=1, review=1, added=0, known=0, bad=0)
    assert again.stdout == summary(2, created=0, review=0, added=0, known=2, bad=0)
    assert len(cdp.export()) == 2
    assert open_reviews(cdp) == 1


def test_an_unknown_csv_column_stops_the_import_before_anything_is_written(
    cdp: Cdp, tmp_path: Path
) -> None:
    members = write_csv(tmp_path / "members.csv", "first_name,last_name,nickname", "A,B,c")

    result = cdp("import", str(members))

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(
        f"cannot import {members}: unknown column(s) 'nickname'; known: first_name, last_name,"
    )
    assert cdp.export() == []


def test_a_file_of_unknown_format_is_refused(cdp: Cdp, tmp_path: Path) -> None:
    members = tmp_path / "members.txt"
    members.write_text("first_name\nA\n")

    result = cdp("import", str(members))

    assert result.exit_code == 2
    assert result.stderr == (
        f"cannot import {members}: cannot tell the format of members.txt: "
        "use --format csv or jsonl\n"
    )
    assert cdp("import", "--format", "csv", str(members)).exit_code == 1


def test_export_writes_one_line_per_live_profile(cdp: Cdp, tmp_path: Path) -> None:
    members = write_csv(tmp_path / "members.csv", HEADER, MEMBERS_CSV[1])
    assert cdp("import", str(members)).exit_code == 0
    output = tmp_path / "profiles.jsonl"

    result = cdp("export", "--output", str(output))

    assert result.stdout == f"profiles written to {output}: 1\n"
    [line] = output.read_text().splitlines()
    assert output.read_text() == line + "\n"
    [profile] = cdp.export()
    assert sorted(profile) == [
        "balance",
        "created_at",
        "enrollment",
        "id",
        "identifiers",
        "lifetime",
        "merged_from",
        "merged_into",
        "pending",
        "personal",
        "status",
        "tier",
        "updated_at",
        "version",
    ]
    assert profile["status"] == "ENROLLED"
    assert profile["version"] == 1
    assert (profile["balance"], profile["pending"], profile["lifetime"]) == (100, 0, 100)
    assert profile["tier"] == "member"
    assert [(i["type"], i["value"], i["verified"]) for i in profile["identifiers"]] == [
        ("EMAIL", "bob@example.com", False),
        ("POS_CUSTOMER_ID", "P-1", False),
    ]


def test_a_legacy_pos_export_merges_one_persons_pos_ids(cdp: Cdp, tmp_path: Path) -> None:
    # Each visit of one person got its own POS customer id at the till.
    members = write_csv(
        tmp_path / "pos.csv",
        HEADER,
        "Robert,Smith,,,10001,1980-04-02,1 Main St,P-1,",
        "Robert,Smith,,,10001,1980-04-02,1 Main Street,P-2,",
        "Robert,Smith,,,10001,1980-04-02,1 Main St,P-3,",
    )

    result = cdp("import", str(members))

    assert result.stdout == summary(3, created=1, review=0, added=2, known=0, bad=0)
    [profile] = cdp.export()
    assert [(i["type"], i["value"]) for i in profile["identifiers"]] == [
        ("POS_CUSTOMER_ID", "P-1"),
        ("POS_CUSTOMER_ID", "P-2"),
        ("POS_CUSTOMER_ID", "P-3"),
    ]
    assert open_reviews(cdp) == 0
