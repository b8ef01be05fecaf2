"""Units of work and `transaction` on every adapter: staging, retries, events after commit."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from cdp.store.catalogue import IDEMPOTENCY, LEDGER, REWARD_STOCK
from cdp.store.port import Insert, Query, StaleVersion, Store, UniqueViolation
from cdp.store.unit_of_work import UnitOfWork, transaction

WRITERS = 20


async def test_staged_writes_are_invisible_until_commit(store: Store) -> None:
    uow = UnitOfWork(store)
    uow.insert(REWARD_STOCK, {"id": "r1", "left": 3})

    assert await uow.get(REWARD_STOCK, "r1") is None
    await uow.commit()
    assert await uow.get(REWARD_STOCK, "r1") == {"id": "r1", "version": 0, "left": 3}


async def test_insert_keeps_a_version_the_document_carries(store: Store) -> None:
    uow = UnitOfWork(store)
    uow.insert(REWARD_STOCK, {"id": "r1", "version": 1, "left": 3})
    await uow.commit()

    assert await store.get(REWARD_STOCK, "r1") == {"id": "r1", "version": 1, "left": 3}


async def test_a_unit_of_work_never_committed_writes_nothing(store: Store) -> None:
    uow = UnitOfWork(store)
    uow.insert(REWARD_STOCK, {"id": "r1", "left": 3})
    del uow

    assert await store.count(REWARD_STOCK, {}) == 0


async def given_stock(store: Store, left: int) -> None:
    await store.commit([Insert(REWARD_STOCK, {"id": "r1", "version": 0, "left": left})])


async def given_key_taken(store: Store) -> None:
    await store.commit([Insert(IDEMPOTENCY, {"id": "op:key-1", "version": 0})])


async def take_one(uow: UnitOfWork) -> int:
    """Read the stock row and stage its next version: a read-modify-write."""
    doc = await uow.get(REWARD_STOCK, "r1")
    assert doc is not None
    uow.replace(
        REWARD_STOCK,
        {**doc, "left": doc["left"] - 1, "version": doc["version"] + 1},
        expected_version=doc["version"],
    )
    uow.record(("taken", doc["left"] - 1))
    return int(doc["left"]) - 1


async def test_concurrent_read_modify_writes_all_land_once(store: Store) -> None:
    await given_stock(store, WRITERS)

    lefts = await asyncio.gather(*(transaction(store, take_one) for _ in range(WRITERS)))

    # Every writer saw a different stock level: none of them overwrote another.
    assert sorted(lefts) == list(range(WRITERS))
    assert await store.get(REWARD_STOCK, "r1") == {"id": "r1", "version": WRITERS, "left": 0}


async def test_events_are_published_only_after_commit(store: Store) -> None:
    await given_stock(store, 2)
    seen: list[tuple[Sequence[Any], Any]] = []

    async def publish(events: Sequence[Any]) -> None:
        seen.append((events, await store.get(REWARD_STOCK, "r1")))

    await transaction(store, take_one, after_commit=publish)

    assert seen == [([("taken", 1)], {"id": "r1", "version": 1, "left": 1})]


async def test_a_failed_commit_publishes_nothing_and_writes_nothing(store: Store) -> None:
    published: list[Sequence[Any]] = []

    async def claim(uow: UnitOfWork) -> None:
        uow.insert(LEDGER, {"id": "e1", "profile_id": "p1", "sort_key": "1"})
        uow.insert(IDEMPOTENCY, {"id": "op:key-1"})
        uow.record("claimed")

    async def publish(events: Sequence[Any]) -> None:
        published.append(events)

    await given_key_taken(store)

    with pytest.raises(UniqueViolation) as raised:
        await transaction(store, claim, after_commit=publish)

    assert raised.value.collection == IDEMPOTENCY
    assert published == []
    assert await store.count(LEDGER, {}) == 0


async def test_a_use_case_that_raises_writes_nothing(store: Store) -> None:
    async def fails(uow: UnitOfWork) -> None:
        uow.insert(LEDGER, {"id": "e1", "profile_id": "p1", "sort_key": "1"})
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await transaction(store, fails)

    assert await store.count(LEDGER, {}) == 0


async def test_before_commit_writes_commit_and_roll_back_with_the_change(store: Store) -> None:
    runs = 0

    async def outbox(uow: UnitOfWork) -> None:
        for event in uow.events:
            uow.insert(LEDGER, {"id": f"out-{event}-{runs}", "profile_id": "p1", "sort_key": "x"})

    async def change(uow: UnitOfWork) -> None:
        nonlocal runs
        runs += 1
        uow.insert(REWARD_STOCK, {"id": "r1", "left": 1})
        uow.record("made")

    await transaction(store, change, before_commit=outbox)
    with pytest.raises(UniqueViolation) as raised:
        await transaction(store, change, before_commit=outbox)  # r1 is taken

    assert raised.value.collection == REWARD_STOCK
    assert [d["id"] for d in await store.find(Query(LEDGER, {}))] == ["out-made-1"]


async def test_twins_racing_for_one_key_rerun_and_return_the_first_result(store: Store) -> None:
    # Given 10 concurrent calls with one idempotency key, when each stores its result
    # under that key, then one wins and the others re-run and return the winner's result.
    async def once(uow: UnitOfWork, caller: int) -> int:
        done = await uow.get(IDEMPOTENCY, "op:key-1")
        if done is not None:
            return int(done["result"])
        uow.insert(IDEMPOTENCY, {"id": "op:key-1", "result": caller})
        uow.insert(LEDGER, {"id": f"e{caller}", "profile_id": "p1", "sort_key": str(caller)})
        return caller

    def call(caller: int) -> Any:
        return transaction(store, lambda uow: once(uow, caller), rerun_on={IDEMPOTENCY})

    results = await asyncio.gather(*(call(caller) for caller in range(10)))

    assert len(set(results)) == 1
    assert await store.count(IDEMPOTENCY, {}) == 1
    assert await store.count(LEDGER, {}) == 1
    assert await store.get(LEDGER, f"e{results[0]}") is not None


async def test_a_collision_outside_rerun_on_is_not_retried(store: Store) -> None:
    runs = 0
    await given_key_taken(store)

    async def claim(uow: UnitOfWork) -> None:
        nonlocal runs
        runs += 1
        uow.insert(IDEMPOTENCY, {"id": "op:key-1"})

    with pytest.raises(UniqueViolation):
        await transaction(store, claim, rerun_on={LEDGER})

    assert runs == 1


async def test_a_stale_read_is_retried_with_fresh_data(store: Store) -> None:
    await given_stock(store, 5)
    runs = 0

    async def interleaved(uow: UnitOfWork) -> int:
        nonlocal runs
        runs += 1
        left = await take_one(uow)
        if runs == 1:  # another writer commits between this read and this commit
            await transaction(store, take_one)
        return left

    assert await transaction(store, interleaved) == 3
    assert runs == 2
    assert await store.get(REWARD_STOCK, "r1") == {"id": "r1", "version": 2, "left": 3}


async def test_stale_version_reaches_the_caller_of_a_bare_commit(store: Store) -> None:
    await given_stock(store, 5)
    first, second = UnitOfWork(store), UnitOfWork(store)
    await take_one(first)
    await take_one(second)

    await first.commit()
    with pytest.raises(StaleVersion):
        await second.commit()

    assert await store.get(REWARD_STOCK, "r1") == {"id": "r1", "version": 1, "left": 4}
