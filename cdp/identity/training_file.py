"""The records of an import file as `cdp identity train --from` reads them.

Training on the file before importing it sees every duplicate the file holds. Training
on the store after an import sees only those the import did not merge: the easy ones
are already one profile, so EM learns from the hard ones and expects duplicates to
disagree more than they do (cdp/identity/training.py). Each record is cleaned as the
import would clean it, so the model weighs what resolution will compare.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from cdp.errors import BadInput
from cdp.identity.importer import BadRow, ImportRecord
from cdp.identity.normalize import clean_personal
from cdp.identity.record import MatchRecord


@dataclass(frozen=True, slots=True)
class FileRecords:
    records: list[MatchRecord]
    bad: int  # records the import would refuse too (reported by `cdp import`)


def file_match_records(
    items: Iterable[ImportRecord | BadRow],
    *,
    default_region: str,
    denylist: frozenset[str],
    today: date,
) -> FileRecords:
    """The match record of each importable record of `items`, and how many were not."""
    records: list[MatchRecord] = []
    bad = 0
    for item in items:
        if isinstance(item, BadRow):
            bad += 1
            continue
        try:
            cleaned = clean_personal(item.personal, default_region, today)
        except BadInput:
            bad += 1
            continue
        record = MatchRecord.of(cleaned, denylist)
        records.append(replace(record, birth_typed=item.birth_typed))
    return FileRecords(records, bad)
