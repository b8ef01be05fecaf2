"""Units of work: read through the store, stage writes, commit them all or none.

`transaction` runs a use case against a fresh unit of work and commits it, retrying the
whole use case when a concurrent writer made one of its reads stale. Events the use case
records are handed to `after_commit` only once the commit succeeded, so nothing is ever
announced for a change that rolled back.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, TypeVar

from cdp.store.port import (
    Delete,
    Document,
    Filter,
    Insert,
    Query,
    Replace,
    StaleVersion,
    Store,
    UniqueViolation,
    Write,
)

T = TypeVar("T")
MAX_ATTEMPTS = 200
MAX_UNIQUE_RERUNS = 3


class UnitOfWork:
    """Reads pass straight to the store; writes wait for `commit`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.writes: list[Write] = []
        self.events: list[Any] = []

    async def get(self, collection: str, doc_id: str) -> Document | None:
        return await self.store.get(collection, doc_id)

    async def get_many(self, collection: str, ids: Sequence[str]) -> list[Document | None]:
        return await self.store.get_many(collection, ids)

    async def find(self, query: Query) -> list[Document]:
        return await self.store.find(query)

    async def count(self, collection: str, where: Filter) -> int:
        return await self.store.count(collection, where)

    def insert(self, collection: str, doc: Document) -> None:
        self.writes.append(Insert(collection, {"version": 0, **doc}))

    def replace(self, collection: str, doc: Document, expected_version: int) -> None:
        self.writes.append(Replace(collection, doc, expected_version))

    def delete(self, collection: str, doc_id: str, expected_version: int | None = None) -> None:
        self.writes.append(Delete(collection, doc_id, expected_version))

    def record(self, event: Any) -> None:
        """Keep an event to publish once this unit of work has committed."""
        self.events.append(event)

    async def commit(self) -> None:
        await self.store.commit(self.writes)


AfterCommit = Callable[[Sequence[Any]], Awaitable[None]]
BeforeCommit = Callable[[UnitOfWork], Awaitable[None]]


async def _nothing_to_publish(events: Sequence[Any]) -> None:
    return None


async def _nothing_to_stage(uow: UnitOfWork) -> None:
    return None


async def transaction(
    store: Store,
    use_case: Callable[[UnitOfWork], Awaitable[T]],
    *,
    before_commit: BeforeCommit = _nothing_to_stage,
    after_commit: AfterCommit = _nothing_to_publish,
    rerun_on: AbstractSet[str] = frozenset(),
) -> T:
    """Run `use_case` and commit; on a stale read, back off and run it again from scratch.

    `rerun_on` names collections whose unique keys a concurrent twin may claim first (an
    idempotency key, a new identifier): such a collision also re-runs the use case, which
    then finds what the twin stored. `before_commit` may stage more writes derived from
    the recorded events (the outbox), so they commit or roll back with the change itself.
    """
    reruns = 0
    for attempt in range(MAX_ATTEMPTS):
        uow = UnitOfWork(store)
        result = await use_case(uow)
        await before_commit(uow)
        try:
            await uow.commit()
        except StaleVersion:
            if attempt == MAX_ATTEMPTS - 1:
                raise
            await asyncio.sleep(random.uniform(0, min(0.05, 0.001 * (attempt + 1))))
            continue
        except UniqueViolation as exc:
            reruns += 1
            if exc.collection not in rerun_on or reruns > MAX_UNIQUE_RERUNS:
                raise
            continue
        if uow.events:
            await after_commit(uow.events)
        return result
    raise AssertionError("unreachable")
