"""The broker port: fire-and-forget publish, bounded per-subscriber queues."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Protocol

# Yielded by a subscription when messages may have been lost (the broker reconnected):
# the consumer should read the current state again.
GAP = "\x00gap"


class BrokerUnavailable(Exception):
    """The broker cannot be reached; the service keeps serving without pushes."""


class Broker(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Raise `BrokerUnavailable` when messages cannot currently flow."""

    async def publish(self, topic: str, message: str) -> None:
        """At most once: a message nobody listens to, or that cannot be sent, is dropped."""

    def listened(self, topic: str) -> bool:
        """False only when no message on `topic` can reach anyone now, so a publisher may
        skip encoding it (the in-process broker knows; Redis's other processes may listen)."""

    def subscribe(self, topic: str) -> AbstractAsyncContextManager[AsyncIterator[str]]:
        """Messages on `topic` from now on (or `GAP`), until the context exits.

        On entry the subscription is in place: anything published after it returns
        is delivered, unless the broker is down (then entry still succeeds, and `GAP`
        follows once it is back)."""
