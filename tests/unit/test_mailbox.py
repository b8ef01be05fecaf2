"""The one-reader queue behind broker subscriptions."""

from __future__ import annotations

import asyncio
import tracemalloc

import pytest

from cdp.mailbox import Mailbox


async def test_items_come_out_in_order_to_a_waiting_reader() -> None:
    box: Mailbox[int] = Mailbox()
    reader = asyncio.create_task(anext(box))
    await asyncio.sleep(0)
    box.put_nowait(1)
    box.put_nowait(2)
    assert await reader == 1
    assert [await anext(box), box.empty()] == [2, True]


async def test_a_bounded_mailbox_keeps_the_newest_items() -> None:
    box: Mailbox[int] = Mailbox(limit=3)
    for item in range(10):
        box.put_nowait(item)
    assert [await box.get() for _ in range(3)] == [7, 8, 9]
    assert box.empty()


async def test_a_read_given_up_loses_nothing() -> None:
    box: Mailbox[str] = Mailbox()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(box.get(), 0.01)
    box.put_nowait("after")
    assert await asyncio.wait_for(box.get(), 1) == "after"


async def test_an_idle_mailbox_holds_no_buffer() -> None:
    boxes: list[Mailbox[str]] = [Mailbox(limit=64) for _ in range(1000)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for box in boxes:  # each has had a message, and has been read
            box.put_nowait("message")
            await box.get()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held < 100 * len(boxes)  # a deque of its own is about 760 bytes
