"""The in-process broker: fan-out to this process's subscribers, nothing else."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from cdp.mailbox import Mailbox

QUEUE_LIMIT = 64


class Fanout:
    """Topic -> local subscriber queues; shared by the memory and Redis brokers.

    A queue keeps the newest QUEUE_LIMIT messages: a slow reader skips ahead (and can tell
    from versions) instead of holding memory or the publisher. The queue is also the
    subscriber's stream, so a subscription runs no generator of its own here.
    """

    def __init__(self) -> None:
        self._topics: dict[str, set[Mailbox[str]]] = defaultdict(set)

    def deliver(self, topic: str, message: str) -> None:
        for queue in self._topics.get(topic, ()):
            queue.put_nowait(message)

    def add(self, topic: str) -> Mailbox[str]:
        queue: Mailbox[str] = Mailbox(QUEUE_LIMIT)
        self._topics[topic].add(queue)
        return queue

    def remove(self, topic: str, queue: Mailbox[str]) -> bool:
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
            yield queue
        finally:
            self._fanout.remove(topic, queue)
