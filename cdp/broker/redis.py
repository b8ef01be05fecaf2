"""The Redis pub/sub broker: one subscriber connection per process, fanned out locally.

Every process holds one pub/sub connection (plus a small pool for PUBLISH) and
subscribes on Redis to a topic only while at least one local subscriber wants it;
messages reach local subscribers through the same bounded queues as the memory broker,
so a slow reader never holds up the others.

Redis down: `publish` drops messages at once (BrokerUnavailable), `ping` reports it,
local subscriptions stay open, and a reader task reconnects with capped exponential
backoff, subscribes to every wanted topic again and then hands each subscriber `GAP`
(messages may have been missed: read the current state again).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from cdp.broker.memory import Fanout
from cdp.broker.port import GAP, BrokerUnavailable

log = structlog.get_logger(__name__)

PREFIX = "cdp:"
CONNECT_TIMEOUT = 1.0
COMMAND_TIMEOUT = 1.0
CONFIRM_TIMEOUT = 1.0
BACKOFF_FIRST = 0.05
BACKOFF_MAX = 2.0
# An idle pub/sub connection is pinged this often; one silent for 3 intervals is dead.
HEALTH_INTERVAL = 5.0

# What a dropped or refused connection looks like from redis-py and asyncio.
_DOWN = (RedisError, OSError, asyncio.TimeoutError)


class RedisBroker:
    def __init__(self, url: str, *, health_interval: float = HEALTH_INTERVAL) -> None:
        self._url = url
        self._health_interval = health_interval
        self._fanout = Fanout()
        self._wanted: set[str] = set()  # topics some local subscriber holds
        self._publisher: Redis | None = None
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._connected = False
        self._pending: dict[str, asyncio.Future[None]] = {}  # channel -> SUBSCRIBE confirmed
        self._gap_on_confirm: set[str] = set()  # channels resubscribed after an outage

    def _client(self) -> Redis:
        # No retries inside redis-py: this class owns reconnecting, with its own backoff.
        return Redis.from_url(
            self._url,
            socket_connect_timeout=CONNECT_TIMEOUT,
            socket_timeout=COMMAND_TIMEOUT,
            socket_keepalive=True,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=0,
        )

    @property
    def connected(self) -> bool:
        return self._connected

    async def start(self) -> None:
        """Connect in the background: a Redis that is down never stops the API starting."""
        self._publisher = self._client()
        self._reader = asyncio.create_task(self._read_forever(), name="redis-broker-reader")

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        if self._publisher is not None:
            await self._publisher.aclose()
            self._publisher = None

    async def ping(self) -> None:
        if not self._connected or self._publisher is None:
            raise BrokerUnavailable("redis is not connected")
        try:
            await self._publisher.ping()
        except _DOWN as exc:
            raise BrokerUnavailable(f"redis: {type(exc).__name__}") from None

    def listened(self, topic: str) -> bool:
        return True  # subscribers of other processes are Redis's to know

    async def publish(self, topic: str, message: str) -> None:
        # While the reader knows Redis is down, drop at once instead of waiting on a timeout.
        if not self._connected or self._publisher is None:
            raise BrokerUnavailable("redis is not connected")
        try:
            await self._publisher.publish(PREFIX + topic, message)
        except _DOWN as exc:
            raise BrokerUnavailable(f"redis: {type(exc).__name__}") from None

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[AsyncIterator[str]]:
        queue = self._fanout.add(topic)
        try:
            if topic not in self._wanted:
                self._wanted.add(topic)
                await self._redis_subscribe(topic)
            elif (confirmed := self._pending.get(PREFIX + topic)) is not None:
                await _settled(confirmed)  # a twin is subscribing this topic right now
            yield queue
        finally:
            if self._fanout.remove(topic, queue):
                self._wanted.discard(topic)
                await self._redis_unsubscribe(topic)

    # -- the one pub/sub connection ---------------------------------------------------

    async def _redis_subscribe(self, topic: str) -> None:
        """SUBSCRIBE and wait for Redis to confirm it, so nothing published after is lost.

        Redis down (or slow to confirm): return anyway; the reader subscribes on reconnect.
        """
        pubsub = self._pubsub
        if pubsub is None or not self._connected:
            return
        channel = PREFIX + topic
        confirmed = asyncio.get_running_loop().create_future()
        self._pending[channel] = confirmed
        try:
            await pubsub.subscribe(channel)
        except _DOWN:
            return  # the reader sees the same failure and reconnects
        await _settled(confirmed)

    async def _redis_unsubscribe(self, topic: str) -> None:
        pubsub = self._pubsub
        if pubsub is None or not self._connected:
            return
        with contextlib.suppress(*_DOWN):
            await pubsub.unsubscribe(PREFIX + topic)

    async def _read_forever(self) -> None:
        failures = 0
        while True:
            pubsub = self._client().pubsub()
            try:
                await self._connect(pubsub)
                failures = 0
                await self._read(pubsub)
            except _DOWN as exc:
                if self._connected or failures == 0:
                    log.warning("redis_broker_down", error=type(exc).__name__)
                self._went_down()
            finally:
                self._pubsub = None
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call, unused-ignore]
                    await pubsub.connection_pool.disconnect()
            delay = min(BACKOFF_MAX, BACKOFF_FIRST * 2**failures)
            failures += 1
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))

    async def _connect(self, pubsub: PubSub) -> None:
        """Connect, go live, and subscribe again to every topic wanted meanwhile.

        Those topics' subscribers get `GAP` once Redis confirms each one: anything
        published while they were not subscribed on Redis is lost to them.
        """
        await pubsub.connect()  # type: ignore[no-untyped-call]
        await pubsub.ping()  # proves the server answers before we call it live
        if self._publisher is not None:
            # Pooled connections from before an outage are dead, and redis-py does not
            # retry a PUBLISH on one (it may have been sent): start the pool afresh.
            await self._publisher.connection_pool.disconnect()
        self._pubsub = pubsub
        self._connected = True
        topics = list(self._wanted)
        log.info("redis_broker_connected", topics=len(topics))
        if topics:
            channels = [PREFIX + t for t in topics]
            self._gap_on_confirm.update(channels)
            await pubsub.subscribe(*channels)

    def _went_down(self) -> None:
        self._connected = False
        self._gap_on_confirm.clear()
        for future in self._pending.values():
            if not future.done():
                future.set_result(None)  # nobody waits on a dead connection
        self._pending.clear()

    async def _read(self, pubsub: PubSub) -> None:
        last_heard = time.monotonic()
        pinged = False
        while True:
            message = await pubsub.get_message(timeout=self._health_interval)
            now = time.monotonic()
            if message is None:
                if now - last_heard > 3 * self._health_interval:
                    raise ConnectionError("redis pub/sub connection went silent")
                if not pinged:
                    await pubsub.ping()
                    pinged = True
                continue
            last_heard = now
            pinged = False
            self._handle(message)

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "message":
            topic = _text(message["channel"]).removeprefix(PREFIX)
            self._fanout.deliver(topic, _text(message["data"]))
        elif kind == "subscribe":
            channel = _text(message["channel"])
            confirmed = self._pending.pop(channel, None)
            if confirmed is not None and not confirmed.done():
                confirmed.set_result(None)
            if channel in self._gap_on_confirm:
                self._gap_on_confirm.discard(channel)
                self._fanout.deliver(channel.removeprefix(PREFIX), GAP)


async def _settled(confirmed: asyncio.Future[None]) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(asyncio.shield(confirmed), CONFIRM_TIMEOUT)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
