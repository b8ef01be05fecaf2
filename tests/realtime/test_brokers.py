"""Both broker adapters: fan-out, bounded queues, and (Redis) outages and reconnection.

The Redis adapter runs against a real redis-server started for the session (or, for
tests that kill it, one of the test's own); nothing is mocked.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack

import pytest
from redis.asyncio import Redis

from cdp.broker.memory import QUEUE_LIMIT, MemoryBroker
from cdp.broker.port import GAP, Broker, BrokerUnavailable
from cdp.broker.redis import PREFIX, RedisBroker

from .redis_server import RedisServer

WAIT = 5.0


async def started_redis_broker(url: str) -> RedisBroker:
    broker = RedisBroker(url, health_interval=0.5)
    await broker.start()
    await until(lambda: broker.connected)
    return broker


async def until(condition: Callable[[], bool], within: float = WAIT) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def next_message(stream: AsyncIterator[str], within: float = WAIT) -> str:
    return await asyncio.wait_for(anext(stream), within)


@pytest.fixture(params=["memory", "redis"])
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[Broker]:
    if request.param == "memory":
        started: Broker = MemoryBroker()
        await started.start()
    else:
        started = await started_redis_broker(request.getfixturevalue("redis_server").url)
    try:
        yield started
    finally:
        await started.close()


async def test_every_local_subscriber_of_a_topic_gets_each_message_in_order(
    broker: Broker,
) -> None:
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(broker.subscribe("profile:fan"))
        second = await stack.enter_async_context(broker.subscribe("profile:fan"))
        other = await stack.enter_async_context(broker.subscribe("profile:other"))

        for n in range(3):
            await broker.publish("profile:fan", f"m{n}")

        assert [await next_message(first) for _ in range(3)] == ["m0", "m1", "m2"]
        assert [await next_message(second) for _ in range(3)] == ["m0", "m1", "m2"]
        with pytest.raises(TimeoutError):
            await next_message(other, within=0.2)


async def test_a_slow_subscriber_skips_to_the_latest_and_never_holds_up_the_others(
    broker: Broker,
) -> None:
    published = [f"v{n}" for n in range(1, 1001)]
    async with broker.subscribe("profile:slow") as slow, broker.subscribe("profile:slow") as fast:
        received: list[str] = []
        got: asyncio.Queue[None] = asyncio.Queue()

        async def keep_up() -> None:
            async for message in fast:
                received.append(message)
                got.put_nowait(None)

        reader = asyncio.create_task(keep_up())
        for message in published:
            await broker.publish("profile:slow", message)
            await asyncio.wait_for(got.get(), WAIT)  # the fast one has it before the next
        reader.cancel()
        # The slow one read nothing meanwhile: it holds only the newest QUEUE_LIMIT.
        backlog = [await next_message(slow) for _ in range(QUEUE_LIMIT)]
        with pytest.raises(TimeoutError):
            await next_message(slow, within=0.2)

    assert received == published
    assert backlog == published[-QUEUE_LIMIT:]


async def test_a_message_nobody_listens_to_is_dropped(broker: Broker) -> None:
    await broker.publish("profile:nobody", "lost")

    async with broker.subscribe("profile:nobody") as stream:
        with pytest.raises(TimeoutError):
            await next_message(stream, within=0.2)


# -- Redis: one connection per process, across processes ---------------------------------


async def test_a_message_published_by_one_process_reaches_the_subscribers_of_another(
    redis_server: RedisServer,
) -> None:
    publisher = await started_redis_broker(redis_server.url)
    subscriber = await started_redis_broker(redis_server.url)
    try:
        async with subscriber.subscribe("profile:x") as a, subscriber.subscribe("profile:x") as b:
            await publisher.publish("profile:x", "hello")

            assert await next_message(a) == "hello"
            assert await next_message(b) == "hello"
    finally:
        await publisher.close()
        await subscriber.close()


async def subscriber_connections(url: str) -> int:
    """Connections of this Redis that hold at least one channel subscription."""
    async with Redis.from_url(url) as redis:
        clients = await redis.client_list()
    return sum(1 for c in clients if int(c.get("sub", 0)) > 0)


async def channel_subscribers(url: str, topic: str) -> int:
    async with Redis.from_url(url) as redis:
        counts = dict(await redis.pubsub_numsub(PREFIX + topic))
    return int(counts[(PREFIX + topic).encode()])


async def test_one_redis_connection_serves_every_local_subscriber(own_redis: RedisServer) -> None:
    broker = await started_redis_broker(own_redis.url)
    try:
        async with AsyncExitStack() as stack:
            for n in range(50):
                await stack.enter_async_context(broker.subscribe(f"profile:{n % 10}"))

            assert await subscriber_connections(own_redis.url) == 1
            assert await channel_subscribers(own_redis.url, "profile:3") == 1

        # The last local subscriber of a topic leaving unsubscribes it on Redis.
        await until(lambda: True)
        assert await channel_subscribers(own_redis.url, "profile:3") == 0
    finally:
        await broker.close()


async def test_a_subscription_is_in_place_on_redis_when_subscribe_returns(
    redis_server: RedisServer,
) -> None:
    publisher = await started_redis_broker(redis_server.url)
    subscriber = await started_redis_broker(redis_server.url)
    try:
        for n in range(20):
            async with subscriber.subscribe(f"profile:race-{n}") as stream:
                await publisher.publish(f"profile:race-{n}", "right after")
                assert await next_message(stream) == "right after"
    finally:
        await publisher.close()
        await subscriber.close()


# -- Redis down ---------------------------------------------------------------------------


async def test_redis_down_publish_fails_fast_and_ping_reports_it(own_redis: RedisServer) -> None:
    broker = await started_redis_broker(own_redis.url)
    try:
        await broker.ping()
        own_redis.stop()
        await until(lambda: not broker.connected)

        began = time.monotonic()
        with pytest.raises(BrokerUnavailable):
            await broker.publish("profile:down", "dropped")
        with pytest.raises(BrokerUnavailable):
            await broker.ping()

        assert time.monotonic() - began < 0.1
    finally:
        await broker.close()


async def test_after_an_outage_subscribers_get_a_gap_then_messages_again(
    own_redis: RedisServer,
) -> None:
    publisher = await started_redis_broker(own_redis.url)
    subscriber = await started_redis_broker(own_redis.url)
    try:
        async with subscriber.subscribe("profile:outage") as stream:
            await publisher.publish("profile:outage", "before")
            assert await next_message(stream) == "before"

            own_redis.stop()
            await until(lambda: not subscriber.connected and not publisher.connected)
            with pytest.raises(BrokerUnavailable):
                await publisher.publish("profile:outage", "during")
            own_redis.start()
            await until(lambda: subscriber.connected and publisher.connected)

            # Reconnected and subscribed again: the subscriber is told it may have missed
            # messages, then messages flow again.
            assert await next_message(stream) == GAP
            await publisher.publish("profile:outage", "after")
            assert await next_message(stream) == "after"
    finally:
        await publisher.close()
        await subscriber.close()


async def test_a_broker_started_while_redis_is_down_connects_when_it_comes_up(
    own_redis: RedisServer,
) -> None:
    own_redis.stop()
    broker = RedisBroker(own_redis.url, health_interval=0.5)
    await broker.start()  # never fails: the API starts without Redis
    try:
        with pytest.raises(BrokerUnavailable):
            await broker.ping()
        async with broker.subscribe("profile:late") as stream:
            own_redis.start()
            await until(lambda: broker.connected)

            assert await next_message(stream) == GAP
            await broker.publish("profile:late", "hello")
            assert await next_message(stream) == "hello"
        await broker.ping()
    finally:
        await broker.close()


async def test_the_memory_broker_says_a_topic_is_listened_to_only_while_subscribed() -> None:
    """What lets a publisher skip encoding a profile nobody in this process watches."""
    broker = MemoryBroker()
    assert not broker.listened("profile:p_1")
    async with broker.subscribe("profile:p_1"):
        assert broker.listened("profile:p_1")
        assert not broker.listened("profile:p_2")
    assert not broker.listened("profile:p_1")


async def test_a_redis_broker_publishes_whether_or_not_this_process_listens(
    redis_server: RedisServer,
) -> None:
    broker = await started_redis_broker(redis_server.url)
    try:
        assert broker.listened("profile:p_1")  # another process may subscribe
    finally:
        await broker.close()
