"""The one place that picks real adapters, from settings."""

from __future__ import annotations

from functools import partial
from typing import Any

import redis.asyncio
from limits.aio.storage import MemoryStorage, RedisStorage

from cdp.broker.memory import MemoryBroker
from cdp.broker.port import Broker
from cdp.broker.redis import RedisBroker
from cdp.clock import Clock, SystemClock
from cdp.loyalty.program import DEMO_PROGRAM, Program, ProgramError, load_program
from cdp.ratelimit import RateLimits
from cdp.runtime import Runtime
from cdp.settings import Settings
from cdp.store.mongo import MongoStore
from cdp.store.port import Store
from cdp.store.sqlite import SQLiteStore


def build_store(settings: Settings) -> Store:
    if settings.store_url.startswith("mongodb"):
        return MongoStore(settings.store_url)
    return SQLiteStore(settings.sqlite_path)


def build_broker(settings: Settings) -> Broker:
    """Redis pub/sub when CDP_REDIS_URL is set (several processes), else in-process."""
    if settings.redis_url:
        return RedisBroker(settings.redis_url)
    return MemoryBroker()


def build_rate_limits(settings: Settings) -> RateLimits:
    """Windows in Redis when CDP_REDIS_URL is set (shared by every process), else in memory.

    The Redis client is redis-py's asyncio one over a pool of our own (the library's
    default would need coredis), with short timeouts: a request waits at most about a
    second on a Redis that does not answer before it is let through.
    """
    limits_on = partial(
        RateLimits,
        per_key=settings.rate_limit_per_key,
        per_address=settings.rate_limit_per_address,
        auth_failures=settings.rate_limit_auth_failures,
    )
    if not settings.redis_url:
        return limits_on(MemoryStorage())
    pool = redis.asyncio.ConnectionPool.from_url(
        settings.redis_url, socket_timeout=1.0, socket_connect_timeout=1.0
    )
    # The library types its pass-through options as scalars; a pool is what it documents.
    client_options: dict[str, Any] = {"connection_pool": pool}
    scheme, _, rest = settings.redis_url.partition("://")
    storage = RedisStorage(
        f"async+{'redis+unix' if scheme == 'unix' else scheme}://{rest}",
        implementation="redispy",
        wrap_exceptions=True,
        key_prefix="cdp-rate",
        **client_options,
    )
    return limits_on(storage, close=pool.aclose)


def build_program(settings: Settings) -> Program:
    """The configured program; the shipped demo one only in development."""
    if settings.program_file is not None:
        return load_program(settings.program_file)
    if settings.production:
        raise ProgramError("CDP_PROGRAM_FILE: required in production")
    return load_program(DEMO_PROGRAM)


def build_runtime(
    settings: Settings, clock: Clock | None = None, program: Program | None = None
) -> Runtime:
    """An unstarted runtime; call `start_runtime` inside the event loop that will use it."""
    return Runtime(
        store=build_store(settings),
        broker=build_broker(settings),
        clock=clock or SystemClock(),
        settings=settings,
        program=program or build_program(settings),
    )


async def start_runtime(rt: Runtime) -> None:
    await rt.store.start()
    await rt.broker.start()


async def stop_runtime(rt: Runtime) -> None:
    await rt.broker.close()
    await rt.store.close()
