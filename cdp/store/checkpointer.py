"""Checkpoints on a thread of their own, so the store's commits rarely wait for one.

Under WAL, commits append pages to the `-wal` file and a checkpoint copies them back into
the database file. SQLite runs that checkpoint inside whichever commit takes the WAL past
1,000 pages, and with `synchronous = NORMAL` the checkpoint is where the fsyncs are: that
commit takes milliseconds instead of a fraction of one (a sequential p99 of ~8 ms against
a p50 under 1 ms), and every unit of work queued behind it waits too.

This thread runs a passive checkpoint after every `every_units` committed units of work,
on its own connection: it syncs the WAL, copies what it holds and syncs the database
file, and neither the writer nor readers wait for it. That is nearly all of the work.

What it cannot do is start the WAL over. That happens when a write begins with the whole
WAL copied, and a checkpoint running beside a busy writer is never done at such a moment.
So once a pass is done, the writer finishes it before its next transaction
(`finish_pass`): a checkpoint of what was committed since (a few pages, small syncs),
after which its write starts the WAL over. The thread starts no pass until that write
is committed, since it would be in the way of the start-over.

The WAL thus holds what is committed during one pass; when the disk is slow to sync, the
writer goes on committing meanwhile instead of waiting. SQLite's own checkpoint stays on
in the writer as the backstop, should this thread fail.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from enum import Enum

import structlog

log = structlog.get_logger(__name__)

# A purchase writes 10 to 20 pages: a pass every few hundred pages.
EVERY_UNITS = 16
IDLE_SECONDS = 1.0


class Stage(Enum):
    IDLE = "idle"  # the thread may start a pass
    PASSED = "passed"  # a pass is done: the writer is to finish it
    STARTING_OVER = "starting over"  # finished: the writer's next write starts the WAL over


class Checkpointer:
    def __init__(self, path: str, every_units: int = EVERY_UNITS) -> None:
        self._path = path
        self._every_units = every_units
        self._lock = threading.Lock()
        self._since = 0  # units committed since the last pass
        self._stage = Stage.IDLE
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Wait for a pass under way to finish."""
        self._stopping = True
        self._wake.set()
        self._thread.join()

    def finish_pass(self, writer: sqlite3.Connection) -> None:
        """On the writer's connection, before it begins a transaction."""
        with self._lock:
            if self._stage is not Stage.PASSED:
                return
        if _checkpoint(writer):  # else a reader on an older snapshot held some back
            with self._lock:
                self._stage = Stage.STARTING_OVER

    def committed(self, units: int) -> None:
        """Told by the writer after each commit; wakes the thread every `every_units`."""
        with self._lock:
            if self._stage is Stage.STARTING_OVER:
                self._stage = Stage.IDLE
            self._since += units
            due = self._since >= self._every_units and self._stage is Stage.IDLE
        if due:
            self._wake.set()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stopping:
                self._wake.wait(IDLE_SECONDS)
                self._wake.clear()
                with self._lock:
                    if self._stage is not Stage.IDLE or not self._since:
                        continue
                    self._since = 0
                if not self._stopping and _checkpoint(conn) is not None:
                    with self._lock:
                        self._stage = Stage.PASSED
        finally:
            with contextlib.suppress(sqlite3.Error):
                conn.close()


def _checkpoint(conn: sqlite3.Connection) -> bool | None:
    """A passive checkpoint: whether it left the whole WAL copied, or None when it did not
    run (another checkpoint held it off, or it failed; the writer's own one remains)."""
    try:
        ((busy, frames, copied),) = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    except sqlite3.Error as exc:
        log.warning("sqlite_checkpoint_failed", error=str(exc))
        return None
    return None if busy else frames == copied
