"""A test runtime over a store a fixture opened: settings and wiring every folder shares."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from cdp.bootstrap import build_program
from cdp.broker.memory import MemoryBroker
from cdp.clock import SystemClock
from cdp.runtime import Runtime
from cdp.settings import Settings, load_settings
from cdp.store.port import Store

ADMIN_KEY = "test-admin-key-0123456789abcdef"


def settings_for(store_url: str, **overrides: Any) -> Settings:
    """Settings for a test runtime: the background loops off, so nothing runs behind a test."""
    values: dict[str, Any] = {
        "admin_key": ADMIN_KEY,
        "store_url": store_url,
        "jobs_interval_seconds": 0,
        "dispatch_interval_seconds": 0,
        **overrides,
    }
    return load_settings(**values)


@asynccontextmanager
async def runtime_on(store: Store, settings: Settings) -> AsyncIterator[Runtime]:
    """A runtime (memory broker, system clock, the settings' program) over a started store,
    which its opener closes."""
    rt = Runtime(
        store=store,
        broker=MemoryBroker(),
        clock=SystemClock(),
        settings=settings,
        program=build_program(settings),
    )
    await rt.broker.start()
    try:
        yield rt
    finally:
        await rt.broker.close()
