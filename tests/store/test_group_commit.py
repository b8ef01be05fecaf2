"""Group commit on SQLite: units queued while the writer is busy share one transaction,
and each still succeeds or fails on its own."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cdp.store.group_commit import MAX_BATCH, GroupCommit
from cdp.store.port import Insert, Replace, StaleVersion, StoreUnavailable, UniqueViolation, Write
from cdp.store.sqlite import _apply_one

TABLE = "stock"


class Writer:
    """A `GroupCommit` on its own thread and file, whose thread the test can hold."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute(f"CREATE TABLE {TABLE} (id TEXT PRIMARY KEY, version INTEGER, doc TEXT)")
        self.conn.execute("PRAGMA foreign_keys = ON")
        self.executor = ThreadPoolExecutor(max_workers=1)
        self.batches: list[int] = []
        self.commits = GroupCommit(self.executor, self._connection, _apply_one)
        self._release = threading.Event()

    def _connection(self) -> sqlite3.Connection:
        self.batches.append(0)  # one call per batch
        return self.conn

    def hold(self) -> None:
        """Keep the writer's thread busy until `release`, so commits queue up."""
        self._release.clear()
        self.executor.submit(self._release.wait)

    def release(self) -> None:
        self._release.set()

    async def commit_together(self, units: Sequence[Sequence[Write]]) -> list[BaseException | None]:
        """Queue every unit while the thread is held, then let them go as one batch."""
        self.hold()
        tasks = [asyncio.ensure_future(self.commits.commit(writes)) for writes in units]
        await asyncio.sleep(0)  # every task queues its unit
        self.batches.clear()
        self.release()
        return list(await asyncio.gather(*tasks, return_exceptions=True))

    def rows(self) -> dict[str, int]:
        return dict(self.conn.execute(f"SELECT id, version FROM {TABLE}").fetchall())


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[Writer]:
    made = Writer(tmp_path / "group.db")
    yield made
    made.release()
    made.executor.shutdown(wait=True)
    made.conn.close()


def insert(doc_id: str, version: int = 0) -> Insert:
    return Insert(TABLE, {"id": doc_id, "version": version})


async def test_units_queued_while_the_writer_is_busy_commit_in_one_transaction(
    writer: Writer,
) -> None:
    outcomes = await writer.commit_together([[insert(f"r{n}")] for n in range(10)])

    assert outcomes == [None] * 10
    assert writer.batches == [0]
    assert writer.rows() == {f"r{n}": 0 for n in range(10)}


async def test_a_failing_unit_is_undone_alone_and_gets_its_own_error(writer: Writer) -> None:
    await writer.commits.commit([insert("taken")])

    outcomes = await writer.commit_together(
        [
            [insert("a")],
            [insert("b"), insert("taken")],  # its first write must be undone too
            [Replace(TABLE, {"id": "taken", "version": 5}, expected_version=4)],
            [insert("c")],
        ]
    )

    assert outcomes[0] is None
    assert outcomes[3] is None
    assert isinstance(outcomes[1], UniqueViolation)
    assert isinstance(outcomes[2], StaleVersion)
    assert writer.batches == [0]
    assert writer.rows() == {"taken": 0, "a": 0, "c": 0}


async def test_units_apply_in_queue_order_so_a_later_one_sees_an_earlier_write(
    writer: Writer,
) -> None:
    await writer.commits.commit([insert("r", version=0)])

    outcomes = await writer.commit_together(
        [
            [Replace(TABLE, {"id": "r", "version": 1}, expected_version=0)],
            [Replace(TABLE, {"id": "r", "version": 2}, expected_version=1)],
            [Replace(TABLE, {"id": "r", "version": 2}, expected_version=1)],  # lost the race
        ]
    )

    assert outcomes[:2] == [None, None]
    assert isinstance(outcomes[2], StaleVersion)
    assert writer.rows() == {"r": 2}


async def test_a_failed_commit_fails_every_unit_of_the_batch_and_keeps_nothing(
    writer: Writer,
) -> None:
    # A deferred foreign key is checked at COMMIT: the last unit breaks it, so the
    # COMMIT of the whole batch fails after every unit applied cleanly.
    writer.conn.execute(
        "CREATE TABLE child (id TEXT PRIMARY KEY, version INTEGER, doc TEXT,"
        f" FOREIGN KEY (id) REFERENCES {TABLE} (id) DEFERRABLE INITIALLY DEFERRED)"
    )
    outcomes = await writer.commit_together(
        [[insert("a")], [insert("b")], [Insert("child", {"id": "orphan", "version": 0})]]
    )

    assert all(isinstance(outcome, StoreUnavailable) for outcome in outcomes)
    assert len({id(outcome) for outcome in outcomes}) == 3  # one error object per caller
    assert writer.rows() == {}
    assert not writer.conn.in_transaction
    await writer.commits.commit([insert("after")])  # and the writer carries on
    assert writer.rows() == {"after": 0}


async def test_a_storage_error_inside_a_unit_loses_the_batch_not_the_writer(
    writer: Writer,
) -> None:
    outcomes = await writer.commit_together(
        [[insert("a")], [Insert("no_such_table", {"id": "x", "version": 0})]]
    )

    assert all(isinstance(outcome, StoreUnavailable) for outcome in outcomes)
    assert writer.rows() == {}
    await writer.commits.commit([insert("after")])
    assert writer.rows() == {"after": 0}


async def test_a_caller_cancelled_before_its_turn_writes_nothing(writer: Writer) -> None:
    writer.hold()
    kept = asyncio.ensure_future(writer.commits.commit([insert("kept")]))
    dropped = asyncio.ensure_future(writer.commits.commit([insert("dropped")]))
    await asyncio.sleep(0)
    dropped.cancel()
    await asyncio.sleep(0)
    writer.release()

    await kept
    with pytest.raises(asyncio.CancelledError):
        await dropped
    assert writer.rows() == {"kept": 0}


async def test_with_no_one_waiting_each_unit_commits_alone(writer: Writer) -> None:
    for n in range(3):
        await writer.commits.commit([insert(f"r{n}")])

    assert len(writer.batches) == 3
    assert writer.rows() == {"r0": 0, "r1": 0, "r2": 0}


async def test_other_work_for_the_writers_thread_waits_for_one_batch_not_for_all(
    writer: Writer,
) -> None:
    # Two batches' worth queued, then a job for the same thread (as a ping or a read
    # that met a lock would be): it runs between the batches, not after the stream.
    writer.hold()
    units = [asyncio.ensure_future(writer.commits.commit([insert(f"r{n}")])) for n in range(65)]
    await asyncio.sleep(0)
    seen_by_job = writer.executor.submit(
        lambda: writer.conn.execute(f"SELECT COUNT(*) FROM {TABLE}").fetchone()[0]
    )
    writer.release()
    await asyncio.gather(*units)

    assert seen_by_job.result() == MAX_BATCH
    assert len(writer.rows()) == 65


async def test_a_commit_after_the_writers_thread_stopped_fails_instead_of_waiting(
    writer: Writer,
) -> None:
    writer.executor.shutdown(wait=True)

    with pytest.raises(StoreUnavailable):
        await asyncio.wait_for(writer.commits.commit([insert("late")]), timeout=5)
