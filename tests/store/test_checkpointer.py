"""The embedded store checkpoints on a thread of its own, and the WAL still starts over
from its beginning, so it stays as small as one pass's worth of commits."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from cdp.store.catalogue import REWARD_STOCK
from cdp.store.checkpointer import EVERY_UNITS
from cdp.store.port import Insert
from cdp.store.sqlite import SQLiteStore

PAGE = 4096


async def write_pages(store: SQLiteStore, units: int, first: int = 0) -> None:
    for n in range(first, first + units):  # each unit writes two pages or more
        await store.commit([Insert(REWARD_STOCK, {"id": f"r{n}", "note": "x" * PAGE})])


def wal_restarts(path: Path) -> int:
    """The WAL header's checkpoint sequence: SQLite adds one each time the WAL starts
    over (bytes 12 to 15, big-endian; sqlite.org/fileformat.html#wal_file_format)."""
    with (path.parent / f"{path.name}-wal").open("rb") as wal:
        return int.from_bytes(wal.read(16)[12:16], "big")


def size_of(path: Path) -> int:
    return path.stat().st_size


async def until_grown(path: Path, to: int) -> int:
    """The database file's size once it reached `to` bytes, or after 10 s."""
    deadline = time.monotonic() + 10
    # A file's size is nothing to await: poll it.
    while size_of(path) < to and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    return size_of(path)


async def write_in_rounds(store: SQLiteStore, path: Path, units: int) -> None:
    """`units` units of work, in rounds of one pass's worth. After each round the thread
    gets time to copy it (the file grows), as a real writer's pauses would give it, so
    a loaded machine cannot starve the thread; commits alone still never copy a page."""
    for first in range(0, units, EVERY_UNITS):
        before = size_of(path)
        count = min(EVERY_UNITS, units - first)
        await write_pages(store, count, first)
        if count == EVERY_UNITS:
            await until_grown(path, before + count * PAGE)


async def test_pages_reach_the_database_file_before_any_commit_checkpoints(
    tmp_path: Path,
) -> None:
    # 112 units write some 330 pages to the WAL: short of the 1,000 at which a commit
    # would checkpoint, so only the checkpointer's thread can have copied them.
    path = tmp_path / "store.db"
    store = SQLiteStore(path)
    await store.start()
    try:
        before = size_of(path)
        await write_in_rounds(store, path, units=112)
        after = size_of(path)
    finally:
        await store.close()

    assert after - before >= 100 * PAGE


async def test_the_wal_starts_over_long_before_it_holds_1000_pages(tmp_path: Path) -> None:
    # 100 units write some 300 pages. SQLite's own checkpoint would not have started the
    # WAL over even once; finishing the thread's passes, the writer has, several times.
    path = tmp_path / "store.db"
    store = SQLiteStore(path)
    await store.start()
    try:
        await write_in_rounds(store, path, units=100)
        restarts = wal_restarts(path)
    finally:
        await store.close()

    assert restarts >= 2
