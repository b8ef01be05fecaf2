"""The clock port, and the one timestamp format every store sorts correctly."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


# One write formats the same few moments many times (its own time, a new lot's dates),
# and isoformat is the slow part. Equal moments give the same text in any time zone.
@lru_cache(maxsize=1024)
def to_iso(moment: datetime) -> str:
    """UTC, fixed width, so string order is time order in every store."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)
