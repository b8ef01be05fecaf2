"""The storage port every adapter implements.

Data lives as JSON documents in the named collections of `cdp.store.catalogue`. Reads
are single calls; writes are staged by a unit of work and applied by `commit` all or
nothing, in one call, so the embedded SQLite adapter makes one thread hop per unit of
work. Concurrency is optimistic: a `Replace` names the version it read, and the commit
fails with `StaleVersion` when another writer got there first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

Document = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Range:
    """A bound on one field in a query; unset sides are open."""

    gt: Any = None
    gte: Any = None
    lt: Any = None
    lte: Any = None


@dataclass(frozen=True, slots=True)
class OneOf:
    """The field equals any of `values`."""

    values: tuple[Any, ...]


Filter = Mapping[str, Any]
"""Field name -> exact value, a `Range` or a `OneOf`. Every condition must hold."""


@dataclass(frozen=True, slots=True)
class Query:
    collection: str
    where: Filter
    order_by: str = "id"
    descending: bool = False
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class Insert:
    """Add a new document; fails with `UniqueViolation` on a taken id or unique key."""

    collection: str
    doc: Document


@dataclass(frozen=True, slots=True)
class Replace:
    """Overwrite a document whose stored version is `expected_version`; bumps nothing itself."""

    collection: str
    doc: Document
    expected_version: int


@dataclass(frozen=True, slots=True)
class Delete:
    collection: str
    id: str
    expected_version: int | None = None


Write = Insert | Replace | Delete


class StoreError(Exception):
    """Base of the errors a store raises on purpose."""


class UniqueViolation(StoreError):
    """An insert or replace collided with a unique id or index."""

    def __init__(self, collection: str, key: str) -> None:
        super().__init__(f"unique key taken in {collection}: {key}")
        self.collection = collection
        self.key = key


class StaleVersion(StoreError):
    """A replace or delete found another version than the one it read: re-read and retry."""

    def __init__(self, collection: str, doc_id: str) -> None:
        super().__init__(f"{collection}/{doc_id} changed since it was read")
        self.collection = collection
        self.doc_id = doc_id


class StoreUnavailable(StoreError):
    """The store cannot be reached or did not answer in time."""


class Store(Protocol):
    """What the domain needs from a database."""

    async def start(self) -> None:
        """Open connections and ensure every collection and index exists."""

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Raise `StoreUnavailable` when the store cannot answer."""

    async def get(self, collection: str, doc_id: str) -> Document | None: ...

    async def get_many(self, collection: str, ids: Sequence[str]) -> list[Document | None]:
        """One round trip; results in the order of `ids`, None where missing."""

    async def find(self, query: Query) -> list[Document]: ...

    async def find_batch(self, queries: Sequence[Query]) -> list[list[Document]]:
        """Several queries in one round trip (a DataLoader's batch); each answer as `find`
        would give it, in the order of `queries`."""

    async def count(self, collection: str, where: Filter) -> int: ...

    async def commit(self, writes: Sequence[Write]) -> None:
        """Apply every write or none; raises `UniqueViolation` or `StaleVersion`."""
