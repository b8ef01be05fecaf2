"""The in-process broker: fan-out to this process's subscribers, nothing else."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

QUEUE_LIMIT = 64


class SubscriberQueue:
    """A bounded queue that drops its oldest message when full, so a slow reader
    skips ahead (and can tell from `version`) instead of holding memory or the publisher."""

    def __init__(self, limit: int = QUEUE_LIMIT) -> None:
        self._queue: asyncio.Queue[str] = asyncio.Queue(limit)
        self.dropped = 0

    def put(self, message: str) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(message)

    async def get(self) -> str:
        return await self._queue.get()


class Fanout:
    """Topic -> local subscriber queues; shared by the memory and Redis brokers."""

    def __init__(self) -> None:
        self._topics: dict[str, set[SubscriberQueue]] = defaultdict(set)

    def deliver(self, topic: str, message: str) -> None:
        for queue in self._topics.get(topic, ()):
            queue.put(message)

    def add(self, topic: str) -> SubscriberQueue:
        queue = SubscriberQueue()
        self._topics[topic].add(queue)
        return queue

    def remove(self, topic: str, queue: SubscriberQueue) -> bool:
        """Forget one queue; True when the topic has no subscriber left."""
        queues = self._topics.get(topic)
        if queues is None:
            return True
        queues.discard(queue)
        if not queues:
            del self._topics[topic]
            return True
        return False

    @property
    def topics(self) -> list[str]:
        return list(self._topics)


async def _drain(queue: SubscriberQueue) -> AsyncIterator[str]:
    while True:
        yield await queue.get()


class MemoryBroker:
    def __init__(self) -> None:
        self._fanout = Fanout()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def ping(self) -> None:
        return None

    async def publish(self, topic: str, message: str) -> None:
        self._fanout.deliver(topic, message)

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[AsyncIterator[str]]:
        queue = self._fanout.add(topic)
        try:
            yield _drain(queue)
        finally:
            self._fanout.remove(topic, queue)
