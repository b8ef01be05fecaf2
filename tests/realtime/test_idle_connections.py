"""What an idle WebSocket connection keeps once it is set up: nothing it no longer needs."""

from __future__ import annotations

import asyncio
import gc

from .support import Live, ws_session


def init_timers() -> list[asyncio.Task[object]]:
    """The connection_init timers still held by something (done ones included)."""
    gc.collect()
    return [
        task
        for task in gc.get_objects()
        if isinstance(task, asyncio.Task)
        and task.get_coro().__qualname__.endswith("handle_connection_init_timeout")
    ]


async def test_an_acknowledged_connection_lets_its_init_timer_go(live: Live) -> None:
    async with ws_session(live):
        await asyncio.sleep(0)  # the cancelled timer finishes on the next turn
        await asyncio.sleep(0)
        assert init_timers() == []
