"""A subscription's variables are plain text too: refused with BAD_USER_INPUT as it
starts, on both protocols; the socket stays usable."""

from __future__ import annotations

import pytest

from .support import LEGACY_WS, TRANSPORT_WS, Live, ws_session

RECEIPTS = "subscription ($store: String!) { receipts(storeId: $store) { orderId } }"


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_subscription_with_a_control_character_in_a_variable_is_refused(
    live: Live, protocol: str
) -> None:
    async with ws_session(live, protocol=protocol) as ws:
        await ws.subscribe("bad", RECEIPTS, {"store": "store\x001"})
        refused = await ws.receive()
        await ws.subscribe("good", RECEIPTS, {"store": "store-1"})
        await ws.silent()  # running: nothing to push yet, and no error

    errors = refused["payload"] if isinstance(refused["payload"], list) else [refused["payload"]]
    assert (refused["type"], refused["id"]) == ("error", "bad")
    assert errors == [
        {
            "message": "variable $store contains U+0000, a control or bidirectional character",
            "extensions": {"code": "BAD_USER_INPUT"},
        }
    ]
