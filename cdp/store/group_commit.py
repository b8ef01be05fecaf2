"""Group commit: units of work that queue up while the writer is busy commit together.

SQLite has one writer. Under load, units of work arrive faster than it finishes them, and
most of each commit's cost is per transaction, not per row: `BEGIN IMMEDIATE`, writing
the dirty pages to the WAL at `COMMIT`, and the two thread switches of the hop. So the
store's thread takes every unit waiting when it becomes free (up to `MAX_BATCH`) and
applies them in one transaction, each inside a savepoint of its own:

- a unit that fails (a stale version, a unique key taken, a bug) is rolled back to its
  savepoint and gets its own error; the others in the batch are not touched;
- units apply in the order they were queued, so a later unit's version check sees an
  earlier unit's write, as it would have had they committed one after the other;
- no caller hears back before the `COMMIT` that holds its writes has returned, so a
  read started after a commit returns still sees it; if the `COMMIT` itself fails,
  every unit of the batch is told the store is unavailable and nothing of it is kept;
- one wake-up of the event loop settles the whole batch.

With no one waiting, a unit commits alone, as it would without batching.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor

from cdp.store.port import StoreUnavailable, Write

# Bounds how long one batch holds the write lock and how many units one failed COMMIT
# turns away; past a few dozen units the per-transaction cost is already spread thin.
MAX_BATCH = 64

ApplyOne = Callable[[sqlite3.Connection, Write], None]
Unit = tuple[Sequence[Write], "asyncio.Future[None]"]
Outcome = BaseException | None


class GroupCommit:
    """Queues units of work for the store's thread, which commits them in batches."""

    def __init__(
        self,
        executor: Executor,
        connection: Callable[[], sqlite3.Connection],
        apply_one: ApplyOne,
        committed: Callable[[int], None] = lambda units: None,
        before_begin: Callable[[sqlite3.Connection], None] = lambda conn: None,
    ) -> None:
        self._executor = executor
        self._connection = connection
        self._apply_one = apply_one
        self._committed = committed  # told how many units each COMMIT kept
        self._before_begin = before_begin  # given the connection before each batch
        self._lock = threading.Lock()
        self._waiting: list[Unit] = []
        self._draining = False

    async def commit(self, writes: Sequence[Write]) -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        with self._lock:
            self._waiting.append((writes, done))
            start = not self._draining
            self._draining = True
        if start:
            self._schedule(loop)
        await done

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        """Queue the next batch on the store's thread, behind whatever else waits for it
        (a ping, a read that met a lock): a steady stream of commits never starves them."""
        try:
            self._executor.submit(self._drain, loop)
        except RuntimeError:  # the store is closed: nobody will commit what waits
            with self._lock:
                stranded, self._waiting = self._waiting, []
                self._draining = False
            closed: list[Outcome] = [StoreUnavailable("the store is closed") for _ in stranded]
            loop.call_soon_threadsafe(_settle, stranded, closed)

    def _drain(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the store's thread: commit one batch, and queue the next if any waits."""
        with self._lock:
            batch = self._waiting[:MAX_BATCH]
            del self._waiting[:MAX_BATCH]
            if not batch:
                self._draining = False
                return
        # A caller cancelled before its turn never reaches the store.
        batch = [unit for unit in batch if not unit[1].cancelled()]
        if batch:
            loop.call_soon_threadsafe(_settle, batch, self._commit_batch(batch))
        self._schedule(loop)

    def _commit_batch(self, batch: list[Unit]) -> list[Outcome]:
        try:
            conn = self._connection()
            self._before_begin(conn)
            conn.execute("BEGIN IMMEDIATE")
        except (sqlite3.Error, StoreUnavailable) as exc:
            return [_unavailable(exc) for _ in batch]
        outcomes: list[Outcome] = []
        try:
            for writes, _ in batch:
                outcomes.append(self._apply_unit(conn, writes))
            conn.execute("COMMIT")
        except BaseException as exc:  # the transaction as a whole is lost
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            return [_unavailable(exc) for _ in batch]
        self._committed(len(batch))
        return outcomes

    def _apply_unit(self, conn: sqlite3.Connection, writes: Sequence[Write]) -> Outcome:
        """Apply one unit inside a savepoint; its own failure undoes only its writes.

        An `OperationalError` (disk full, I/O) is not the unit's own failure: SQLite may
        have dropped the whole transaction, so it goes up and the batch is lost.
        """
        conn.execute("SAVEPOINT unit")
        try:
            for write in writes:
                self._apply_one(conn, write)
        except sqlite3.OperationalError:
            raise
        except Exception as exc:
            conn.execute("ROLLBACK TO unit")
            conn.execute("RELEASE unit")
            return exc
        conn.execute("RELEASE unit")
        return None


def _unavailable(cause: BaseException) -> StoreUnavailable:
    """A fresh error per caller: one exception object raised in many tasks would collect
    all their tracebacks."""
    if isinstance(cause, StoreUnavailable):
        return StoreUnavailable(str(cause))
    error = StoreUnavailable(f"sqlite: {cause}")
    error.__cause__ = cause
    return error


def _settle(batch: list[Unit], outcomes: list[Outcome]) -> None:
    for (_, done), outcome in zip(batch, outcomes, strict=True):
        if done.cancelled():
            continue
        if outcome is None:
            done.set_result(None)
        else:
            done.set_exception(outcome)
