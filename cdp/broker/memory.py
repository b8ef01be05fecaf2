"""The in-process broker: fan-out to this process's subscribers, nothing else."""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

QUEUE_LIMIT = 64


class SubscriberQueue:
    """A bounded queue that drops its oldest message when full, so a slow reader
    skips ahead (and can tell from `version`) instead of holding memory or the publisher.

    One deque and, only while its reader waits, one future: an idle subscription costs
    a few hundred bytes here (an asyncio.Queue holds four deques and an Event).
    """

    __slots__ = ("_messages", "_waiter", "dropped")

    def __init__(self, limit: int = QUEUE_LIMIT) -> None:
        self._messages: deque[str] = deque(maxlen=limit)
        self._waiter: asyncio.Future[None] | None = None
        self.dropped = 0

    def put(self, message: str) -> None:
        if len(self._messages) == self._messages.maxlen:
            self.dropped += 1  # the append below pushes the oldest out
        self._messages.append(message)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> str:
        while not self._messages:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._messages.popleft()


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

    def has(self, topic: str) -> bool:
        return topic in self._topics

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

    def listened(self, topic: str) -> bool:
        return self._fanout.has(topic)

    async def publish(self, topic: str, message: str) -> None:
        self._fanout.deliver(topic, message)

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[AsyncIterator[str]]:
        queue = self._fanout.add(topic)
        try:
            yield _drain(queue)
        finally:
            self._fanout.remove(topic, queue)
