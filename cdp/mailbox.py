"""A queue with one reader, sized for the many that sit idle."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class Mailbox(Generic[T]):
    """Items in order for one reader; a bounded one drops its oldest item when full.

    An idle one holds three slots: its deque exists only while items wait, and a future
    only while its reader does. An asyncio.Queue holds four deques and an Event (about
    3 KB) however idle it is, and an idle push server holds one of these per subscription
    and one per connection (uvicorn's inbox). It is also its reader's async iterator.
    """

    __slots__ = ("_items", "_limit", "_waiter")

    def __init__(self, limit: int | None = None) -> None:
        self._limit = limit
        self._items: deque[T] | None = None
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: T) -> None:
        if self._items is None:
            self._items = deque(maxlen=self._limit)
        self._items.append(item)  # past the limit, the oldest falls out
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def empty(self) -> bool:
        return not self._items

    async def get(self) -> T:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        item = self._items.popleft()
        if not self._items:
            self._items = None
        return item

    def __aiter__(self) -> Mailbox[T]:
        return self

    async def __anext__(self) -> T:
        return await self.get()
