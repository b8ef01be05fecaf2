"""An open WebSocket loses its authority with its credential: a revoked key's socket
closes with 4403 (at its next operation, else within CDP_AUTH_RECHECK_SECONDS), a
customer token's with 4401 at its `exp`; on both protocols, through uvicorn."""

from __future__ import annotations

import asyncio
import time

import jwt
import pytest

from cdp.auth.service import list_api_keys
from cdp.runtime import Runtime

from .support import (
    LEGACY_WS,
    TOKEN_SECRET,
    TRANSPORT_WS,
    Live,
    api_key,
    closed_code,
    gql,
    member,
    purchase,
    ws_session,
)
from .test_subscriptions import WATCH_BY_ID, WATCH_MINE, app_member

PROTOCOLS = [TRANSPORT_WS, LEGACY_WS]
REVOKE = "mutation ($id: ID!) { revokeApiKey(id: $id) }"


def recheck_every(rt: Runtime, seconds: float) -> None:
    rt.settings = rt.settings.model_copy(update={"auth_recheck_seconds": seconds})


async def key_id_of(rt: Runtime, plain: str) -> str:
    (key,) = [k for k in await list_api_keys(rt) if plain.startswith(f"cdp_{k.id}_")]
    return key.id


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_revoked_keys_socket_closes_within_the_window(
    rt: Runtime, live: Live, protocol: str
) -> None:
    recheck_every(rt, 0.2)
    holder = await member(rt, "4100000000000001")
    kiosk = await api_key(rt, "kiosk")
    async with ws_session(live, kiosk, protocol=protocol) as ws:
        await ws.subscribe("w", WATCH_BY_ID, {"id": holder.id})
        assert (await ws.data("w"))["profileUpdates"]["version"] == holder.version

        assert await gql(live, REVOKE, {"id": await key_id_of(rt, kiosk)}) == {
            "data": {"revokeApiKey": True}
        }
        assert await closed_code(ws) == 4403


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_new_operation_on_a_revoked_keys_socket_closes_it(
    rt: Runtime, live: Live, protocol: str
) -> None:
    recheck_every(rt, 300)  # no round comes: the operation itself is checked
    holder = await member(rt, "4100000000000002")
    kiosk = await api_key(rt, "kiosk")
    async with ws_session(live, kiosk, protocol=protocol) as ws:
        await ws.subscribe("w", WATCH_BY_ID, {"id": holder.id})
        await ws.data("w")
        await gql(live, REVOKE, {"id": await key_id_of(rt, kiosk)})

        await ws.subscribe("again", WATCH_BY_ID, {"id": holder.id})

        assert await closed_code(ws) == 4403


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_customer_tokens_socket_closes_at_its_exp(
    rt: Runtime, live: Live, protocol: str
) -> None:
    recheck_every(rt, 300)  # the token's own expiry closes it, not a round
    own = await app_member(rt, "4100000000000003", "app-user-exp")
    exp = int(time.time()) + 2
    token = jwt.encode({"sub": "app-user-exp", "exp": exp}, TOKEN_SECRET, algorithm="HS256")
    async with ws_session(live, token, protocol=protocol) as ws:
        await ws.subscribe("mine", WATCH_MINE)
        assert (await ws.data("mine"))["profileUpdates"]["profile"]["id"] == own.id

        code = await closed_code(ws)

    assert code == 4401
    assert time.time() >= exp


async def test_a_socket_whose_key_still_holds_stays_open_across_rounds(
    rt: Runtime, live: Live
) -> None:
    recheck_every(rt, 0.05)
    holder = await member(rt, "4100000000000004")
    kiosk = await api_key(rt, "kiosk")
    async with ws_session(live, kiosk) as ws:
        await ws.subscribe("w", WATCH_BY_ID, {"id": holder.id})
        await ws.data("w")
        await asyncio.sleep(0.3)  # several rounds

        await purchase(rt, "4100000000000004")

        assert (await ws.data("w"))["profileUpdates"]["kind"] == "POINTS_EARNED"
