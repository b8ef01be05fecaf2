"""What the real-time tests share: a live server on loopback, GraphQL over WebSocket,
factories, and a clock the tests move."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from cdp.auth.service import create_api_key
from cdp.channel import Channel
from cdp.enrollment.service import update_profile
from cdp.identity.model import IdentifierType, PersonalData, Profile
from cdp.identity.service import RawIdentifier, create_profile
from cdp.loyalty.model import LineItem, Receipt
from cdp.loyalty.purchases import Purchase, record_purchase
from cdp.runtime import Runtime
from cdp.settings import Settings
from graphql_schema.ws_protocol import WS_OPTIONS
from tests.support.runtime import ADMIN_KEY as ADMIN_KEY  # re-exported for the tests
from tests.support.runtime import settings_for

TOKEN_SECRET = "customer-token-secret-0123456789abcdef"
TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
WAIT = 5.0
Json = dict[str, Any]


def realtime_settings(db: str, **overrides: Any) -> Settings:
    """Test settings on a SQLite file, customer tokens on, background loops off."""
    return settings_for(f"sqlite:///{db}", customer_token_secret=TOKEN_SECRET, **overrides)


class MovableClock:
    """A clock the test moves (a fake at the Clock port)."""

    def __init__(self) -> None:
        self.moment = datetime.now(UTC)

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


# -- a live server --------------------------------------------------------------------


@dataclass(frozen=True)
class Live:
    base_url: str

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/graphql"


@asynccontextmanager
async def serve(app: Starlette, **ws_options: Any) -> AsyncIterator[Live]:
    """Run `app` under uvicorn on a free loopback port, in this event loop, with the
    WebSocket options `cdp serve` uses (`ws_options` overrides some)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    options = WS_OPTIONS | ws_options
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", **options))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield Live(f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
        sock.close()


async def gql(
    live: Live, query: str, variables: Json | None = None, *, key: str = ADMIN_KEY
) -> Json:
    async with httpx.AsyncClient(base_url=live.base_url) as http:
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {key}"},
        )
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


# -- GraphQL over WebSocket -----------------------------------------------------------


class GqlSocket:
    """One WebSocket speaking graphql-transport-ws or the legacy graphql-ws."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.legacy = ws.subprotocol == LEGACY_WS
        # Data for one operation that arrived while a test waited on another: operations
        # on one connection run concurrently, so their messages interleave in any order.
        self.held: dict[str, list[Json]] = {}

    async def send(self, message: Json) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self, wait: float = WAIT) -> Json:
        """The next message that is not a keep-alive (answers pings on the way)."""
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), wait)
            message: Json = json.loads(raw)
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            if message["type"] == "ka":
                continue
            return message

    async def init(self, key: str | None) -> Json:
        payload = {"Authorization": f"Bearer {key}"} if key is not None else {}
        await self.send({"type": "connection_init", "payload": payload})
        return await self.receive()

    async def subscribe(self, op_id: str, query: str, variables: Json | None = None) -> None:
        kind = "start" if self.legacy else "subscribe"
        await self.send(
            {"id": op_id, "type": kind, "payload": {"query": query, "variables": variables}}
        )

    async def stop(self, op_id: str) -> None:
        await self.send({"id": op_id, "type": "stop" if self.legacy else "complete"})

    async def data(self, op_id: str, wait: float = WAIT) -> Json:
        """The payload of the next data message for `op_id` (fails on anything else for
        it); data for other operations is held for their turn."""
        expected = "data" if self.legacy else "next"
        if self.held.get(op_id):
            message = self.held[op_id].pop(0)
        else:
            while True:
                message = await self.receive(wait)
                if message.get("id") == op_id or message["type"] != expected:
                    break
                self.held.setdefault(message["id"], []).append(message)
        assert (message["type"], message["id"]) == (expected, op_id), message
        assert "errors" not in message["payload"], message
        payload: Json = message["payload"]["data"]
        return payload

    async def silent(self, within: float = 0.3) -> None:
        """Nothing arrives for `within` seconds (and nothing is held unread)."""
        assert not any(self.held.values()), f"unread messages {self.held}"
        with contextlib.suppress(TimeoutError):
            message = await self.receive(within)
            raise AssertionError(f"unexpected message {message}")


@asynccontextmanager
async def ws_session(
    live: Live, key: str | None = ADMIN_KEY, *, protocol: str = TRANSPORT_WS
) -> AsyncIterator[GqlSocket]:
    """A connected, acknowledged socket."""
    async with connect(live.ws_url, subprotocols=[protocol]) as ws:  # type: ignore[list-item]
        socket_ = GqlSocket(ws)
        ack = await socket_.init(key)
        assert ack["type"] == "connection_ack", ack
        yield socket_


async def closed_code(sock: GqlSocket, wait: float = WAIT) -> int | None:
    """Read until the server closes the socket; its close code."""
    try:
        while True:
            await asyncio.wait_for(sock.ws.recv(), wait)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


# -- factories ------------------------------------------------------------------------

_orders = 0


async def member(rt: Runtime, card: str, *, first_name: str = "Ada") -> Profile:
    """An ALLOCATED profile holding a loyalty card."""
    return await create_profile(
        rt,
        channel=Channel.POS,
        personal=PersonalData(first_name=first_name),
        identifiers=[RawIdentifier(IdentifierType.LOYALTY_CARD, card)],
    )


async def change_personal(rt: Runtime, profile_id: str, **fields: Any) -> Profile:
    """Change some personal fields of a profile, as a till would."""
    return await update_profile(
        rt,
        profile_id=profile_id,
        changes=PersonalData(**fields),
        channel=Channel.POS,
        given=frozenset(fields),
    )


async def purchase(
    rt: Runtime,
    card: str,
    amount: float = 42.0,
    *,
    store_id: str | None = None,
    register_id: str | None = None,
) -> Receipt:
    global _orders
    _orders += 1
    return await record_purchase(
        rt,
        Purchase(
            channel=Channel.POS,
            order_id=f"order-{_orders}-{card}",
            identifier=RawIdentifier(IdentifierType.LOYALTY_CARD, card),
            lines=[LineItem(sku="sku-1", category="general", quantity=1, amount=amount)],
            store_id=store_id,
            register_id=register_id,
        ),
    )


async def api_key(rt: Runtime, *scopes: str) -> str:
    _, plain = await create_api_key(rt, name="realtime test", scopes=list(scopes))
    return plain
