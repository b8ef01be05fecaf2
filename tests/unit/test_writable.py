"""The gate holding a connection's senders back while its socket's buffer is full."""

from __future__ import annotations

import asyncio

from graphql_schema.ws_protocol import Writable


async def test_senders_pass_while_writable() -> None:
    assert await asyncio.wait_for(Writable().wait(), 1)


async def test_senders_wait_while_paused_and_all_go_on_resume() -> None:
    gate = Writable()
    gate.clear()
    senders = [asyncio.create_task(gate.wait()) for _ in range(3)]
    await asyncio.sleep(0.01)
    assert not any(sender.done() for sender in senders)
    gate.set()
    assert await asyncio.wait_for(asyncio.gather(*senders), 1) == [True, True, True]


async def test_a_sender_given_up_leaves_the_others_waiting() -> None:
    gate = Writable()
    gate.clear()
    given_up, waiting = asyncio.create_task(gate.wait()), asyncio.create_task(gate.wait())
    await asyncio.sleep(0)
    given_up.cancel()
    await asyncio.sleep(0.01)
    assert given_up.cancelled()
    assert not waiting.done()
    gate.set()
    assert await asyncio.wait_for(waiting, 1)
