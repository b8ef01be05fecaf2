"""The embedded store reads a few rows on the event loop's thread, and a read that may be
large on a thread of its own, so it never holds up the other requests on the loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path

from cdp.store.catalogue import REWARD_STOCK
from cdp.store.port import Insert, Query
from cdp.store.sqlite import INLINE_ROWS, SQLiteStore

ROWS = 5_000


async def loop_turns_during(read: Awaitable[object]) -> int:
    """How many times another task ran on the loop while `read` was awaited."""
    turns = 0
    done = False

    async def other_request() -> None:
        nonlocal turns
        while not done:
            turns += 1
            await asyncio.sleep(0)

    beside = asyncio.create_task(other_request())
    await asyncio.sleep(0)  # it has started
    started = turns
    await read
    during = turns - started
    done = True
    await beside
    return during


async def test_a_large_read_leaves_the_loop_to_other_requests(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "store.db")
    await store.start()
    try:
        await store.commit(
            [Insert(REWARD_STOCK, {"id": f"r{n:05d}", "issued": n}) for n in range(ROWS)]
        )
        everything = store.find(Query(REWARD_STOCK, {}))
        large_turns = await loop_turns_during(everything)
        one_page = store.find(Query(REWARD_STOCK, {}, limit=INLINE_ROWS))
        small_turns = await loop_turns_during(one_page)
    finally:
        await store.close()

    assert large_turns > 0
    assert small_turns == 0  # a page of rows is read in line: no thread hop
