"""Importing members from a CSV or JSONL file, each record resolved like an enrollment.

Columns (CSV header or JSON keys) are the personal fields and one per identifier type;
a blank value is an absent one. A bad record is reported with its line number and the
import goes on; a file that cannot be read at all (unknown format or column) stops it
before anything is written. A birth date that is no calendar date (a typo such as
1990-13-01 at the till) costs only that field: the record is imported without it and the
line is reported, because the rest of the record still identifies the member. What was
typed still counts when the record is matched: a date one or two digits from a stored
member's is evidence of a typo of it (cdp/identity/comparisons.py).
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TextIO

from cdp.enrollment.service import Enrolled, import_member
from cdp.errors import BadInput, DomainError
from cdp.identity.model import IdentifierType, PersonalData
from cdp.identity.record import typed_birth_digits
from cdp.identity.service import RawIdentifier
from cdp.loyalty.common import fingerprint
from cdp.runtime import Runtime

PERSONAL_COLUMNS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "postal_code",
    "birth_date",
    "street_address",
)
# Email and phone are personal fields that are identifiers too; the rest are columns here.
IDENTIFIER_COLUMNS: dict[str, IdentifierType] = {
    t.value.lower(): t
    for t in IdentifierType
    if t not in (IdentifierType.EMAIL, IdentifierType.PHONE)
}
COLUMNS = (*PERSONAL_COLUMNS, *IDENTIFIER_COLUMNS)
FORMATS = ("csv", "jsonl")


class ImportFileError(Exception):
    """The file as a whole cannot be imported (nothing was written)."""


class RowOutcome(StrEnum):
    CREATED = "created"  # a new profile
    REVIEW = "review"  # a new profile, and a review item pairing it with a look-alike
    UPDATED = "updated"  # an existing profile, given blanks or free identifiers
    UNCHANGED = "unchanged"  # an existing profile that already held all of it


@dataclass(frozen=True, slots=True)
class ImportRecord:
    line: int
    personal: PersonalData
    identifiers: tuple[RawIdentifier, ...]
    dropped: tuple[str, ...] = ()  # why a field was left out (the record is still imported)
    birth_typed: str | None = None  # the digits of a birth date that is no calendar date


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class Imported:
    line: int
    outcome: RowOutcome
    enrolled: Enrolled
    dropped: tuple[str, ...] = ()


@dataclass(slots=True)
class ImportReport:
    outcomes: Counter[RowOutcome] = field(default_factory=Counter)
    bad: list[BadRow] = field(default_factory=list)
    dropped_fields: int = 0  # fields left out of records that were imported

    @property
    def rows(self) -> int:
        return self.outcomes.total() + len(self.bad)


def file_format(path: Path, given: str | None) -> str:
    """`given`, or what the file's suffix says (.csv, .jsonl, .ndjson)."""
    if given is not None:
        if given not in FORMATS:
            raise ImportFileError(f"unknown format {given!r}; known: {', '.join(FORMATS)}")
        return given
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    raise ImportFileError(f"cannot tell the format of {path.name}: use --format csv or jsonl")


def count_records(path: Path, fmt: str) -> int:
    """About how many records the file holds (for a progress bar)."""
    with path.open(encoding="utf-8-sig") as lines:
        count = sum(1 for line in lines if line.strip())
    return max(0, count - 1) if fmt == "csv" else count


def read_records(source: TextIO, fmt: str) -> Iterator[ImportRecord | BadRow]:
    """Each record of the file, or why it is bad, with its (first) line number."""
    return _csv_records(source) if fmt == "csv" else _jsonl_records(source)


def _csv_records(source: TextIO) -> Iterator[ImportRecord | BadRow]:
    reader = csv.reader(source)
    header = next(reader, None)
    if header is None:
        return
    names = [h.strip().lower() for h in header]
    unknown = [n for n in names if n not in COLUMNS]
    if unknown:
        raise ImportFileError(
            f"unknown column(s) {', '.join(map(repr, unknown))}; known: {', '.join(COLUMNS)}"
        )
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ImportFileError(f"column(s) given twice: {', '.join(duplicated)}")
    line = reader.line_num + 1
    for values in reader:
        start, line = line, reader.line_num + 1
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(names):
            yield BadRow(start, f"{len(values)} values for {len(names)} columns")
            continue
        yield _record_or_bad(start, dict(zip(names, values, strict=True)))


def _jsonl_records(source: TextIO) -> Iterator[ImportRecord | BadRow]:
    for line, text in enumerate(source, start=1):
        if not text.strip():
            continue
        try:
            values = json.loads(text)
        except json.JSONDecodeError as exc:
            yield BadRow(line, f"not valid JSON ({exc.msg})")
            continue
        if not isinstance(values, dict):
            yield BadRow(line, "not a JSON object")
            continue
        yield _record_or_bad(line, values)


def _record_or_bad(line: int, values: Mapping[str, object]) -> ImportRecord | BadRow:
    try:
        return record_of(line, values)
    except BadInput as exc:
        return BadRow(line, exc.message)


def _text(name: str, value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadInput(f"{name} must be a string")
    return str(value).strip() or None


def _birth_date(raw: str | None) -> tuple[date | None, tuple[str, ...]]:
    """The date, or None and why it was dropped."""
    if raw is None:
        return None, ()
    try:
        return date.fromisoformat(raw), ()
    except ValueError:
        return None, (f"birth_date {raw!r} is not a date (YYYY-MM-DD); imported without it",)


def record_of(line: int, values: Mapping[str, object]) -> ImportRecord:
    """One record from its column values; BadInput names the first thing wrong."""
    unknown = sorted(k for k in values if k not in COLUMNS)
    if unknown:
        raise BadInput(f"unknown column(s) {', '.join(map(repr, unknown))}")
    text = {name: _text(name, values.get(name)) for name in COLUMNS}
    birth_date, dropped = _birth_date(text["birth_date"])
    personal = PersonalData(
        first_name=text["first_name"],
        last_name=text["last_name"],
        email=text["email"],
        phone=text["phone"],
        postal_code=text["postal_code"],
        birth_date=birth_date,
        street_address=text["street_address"],
    )
    identifiers = tuple(
        RawIdentifier(type_, value)
        for name, type_ in IDENTIFIER_COLUMNS.items()
        if (value := text[name]) is not None
    )
    typed = typed_birth_digits(text["birth_date"]) if dropped else None
    return ImportRecord(line, personal, identifiers, dropped, typed)


def outcome_of(result: Enrolled) -> RowOutcome:
    if result.created:
        return RowOutcome.REVIEW if result.match is not None else RowOutcome.CREATED
    if result.match is not None and result.profile.version != result.match.profile.version:
        return RowOutcome.UPDATED
    return RowOutcome.UNCHANGED


async def import_records(
    rt: Runtime,
    records: Iterator[ImportRecord | BadRow],
    *,
    on_record: Callable[[Imported | BadRow], None] = lambda r: None,
) -> ImportReport:
    """Resolve each record in its own transaction; a bad one is counted and skipped."""
    report = ImportReport()
    copies: Counter[str] = Counter()
    for record in records:
        if isinstance(record, BadRow):
            report.bad.append(record)
            on_record(record)
            continue
        content = fingerprint([record.personal.to_doc(), sorted(map(repr, record.identifiers))])
        copies[content] += 1
        try:
            result = await import_member(
                rt,
                personal=record.personal,
                identifiers=record.identifiers,
                occurrence=copies[content],
                birth_typed=record.birth_typed,
            )
        except DomainError as exc:
            bad = BadRow(record.line, exc.message)
            report.bad.append(bad)
            on_record(bad)
            continue
        imported = Imported(record.line, outcome_of(result), result, record.dropped)
        report.outcomes[imported.outcome] += 1
        report.dropped_fields += len(record.dropped)
        on_record(imported)
    return report
