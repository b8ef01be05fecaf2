"""GraphQL over WebSocket: one authentication per connection, in connection_init.

Strawberry's legacy graphql-ws handler runs subscriptions only, so a query sent over it
gets a coded error; queries over WebSocket need graphql-transport-ws.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from cdp.auth.service import create_api_key
from cdp.channel import Channel
from cdp.identity.model import IdentifierType
from cdp.identity.service import RawIdentifier, create_profile
from cdp.settings import Settings
from graphql_schema.app import create_app

from .helpers import TestClient, api_settings, started_runtime

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
BY_EMAIL = '{ profile(identifier: {type: EMAIL, value: "WS.User@Example.com"}) { id version } }'


@dataclass(frozen=True)
class Seed:
    profile_id: str
    kiosk_key: str
    loyalty_only_key: str


async def seed(settings: Settings) -> Seed:
    async with started_runtime(settings) as rt:
        profile = await create_profile(
            rt,
            channel=Channel.POS,
            identifiers=[RawIdentifier(IdentifierType.EMAIL, "ws.user@example.com")],
        )
        _, kiosk = await create_api_key(rt, name="kiosk", scopes=["kiosk"])
        _, loyalty_only = await create_api_key(rt, name="reader", scopes=["loyalty:read"])
    return Seed(profile.id, kiosk, loyalty_only)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[TestClient, Seed]]:
    """The app owning its runtime (lifespan and all), on a store seeded beforehand."""
    settings = api_settings(tmp_path / "ws.db")
    seeded = asyncio.run(seed(settings))
    with TestClient(create_app(settings=settings)) as client:
        yield client, seeded


def init(key: str) -> dict[str, Any]:
    return {"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}


def test_transport_ws_runs_a_query_as_the_key_from_connection_init(
    served: tuple[TestClient, Seed],
) -> None:
    client, seeded = served
    with client.websocket_connect("/graphql", subprotocols=[TRANSPORT_WS]) as ws:
        ws.send_json(init(seeded.kiosk_key))
        assert ws.receive_json()["type"] == "connection_ack"

        ws.send_json({"type": "subscribe", "id": "q1", "payload": {"query": BY_EMAIL}})

        assert ws.receive_json() == {
            "id": "q1",
            "type": "next",
            "payload": {"data": {"profile": {"id": seeded.profile_id, "version": 1}}},
        }
        assert ws.receive_json() == {"id": "q1", "type": "complete"}


def test_transport_ws_checks_scopes_per_field(served: tuple[TestClient, Seed]) -> None:
    client, seeded = served
    with client.websocket_connect("/graphql", subprotocols=[TRANSPORT_WS]) as ws:
        ws.send_json(init(seeded.loyalty_only_key))
        assert ws.receive_json()["type"] == "connection_ack"

        ws.send_json({"type": "subscribe", "id": "q1", "payload": {"query": BY_EMAIL}})
        message = ws.receive_json()

        assert message["type"] == "next"
        assert message["payload"]["data"] == {"profile": None}
        assert [e["extensions"]["code"] for e in message["payload"]["errors"]] == ["FORBIDDEN"]


@pytest.mark.parametrize(
    "connection_init",
    [
        {"type": "connection_init", "payload": {"Authorization": "Bearer cdp_key_x_y"}},
        {"type": "connection_init", "payload": {"Authorization": "Bearer "}},
        {"type": "connection_init", "payload": {}},
        {"type": "connection_init"},
    ],
    ids=["bad key", "empty key", "no key", "no payload"],
)
def test_transport_ws_rejects_a_connection_without_a_valid_key(
    served: tuple[TestClient, Seed], connection_init: dict[str, Any]
) -> None:
    client, _ = served
    with client.websocket_connect("/graphql", subprotocols=[TRANSPORT_WS]) as ws:
        ws.send_json(connection_init)

        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()

    assert closed.value.code == 4403


def test_transport_ws_syntax_error_is_coded(served: tuple[TestClient, Seed]) -> None:
    client, seeded = served
    with client.websocket_connect("/graphql", subprotocols=[TRANSPORT_WS]) as ws:
        ws.send_json(init(seeded.kiosk_key))
        assert ws.receive_json()["type"] == "connection_ack"

        ws.send_json({"type": "subscribe", "id": "q1", "payload": {"query": "{ profile {"}})
        message = ws.receive_json()

    assert message["type"] == "error"
    assert [e["extensions"]["code"] for e in message["payload"]] == ["BAD_USER_INPUT"]


def test_legacy_graphql_ws_authenticates_in_connection_init(
    served: tuple[TestClient, Seed],
) -> None:
    client, seeded = served
    with client.websocket_connect("/graphql", subprotocols=[LEGACY_WS]) as ws:
        ws.send_json(init(seeded.kiosk_key))
        assert ws.receive_json() == {"type": "connection_ack"}

        # graphql-ws runs subscriptions only: a query is refused as the caller's mistake
        ws.send_json({"type": "start", "id": "q1", "payload": {"query": BY_EMAIL}})

        assert ws.receive_json() == {
            "type": "error",
            "id": "q1",
            "payload": {
                "message": "queries are not allowed",
                "extensions": {"code": "BAD_USER_INPUT"},
            },
        }


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"Authorization": "Bearer cdp_key_x_y"}, "the API key is not valid"),
        ({}, "an API key is required (Authorization: Bearer <key>)"),
    ],
    ids=["bad key", "no key"],
)
def test_legacy_graphql_ws_rejects_a_connection_without_a_valid_key(
    served: tuple[TestClient, Seed], payload: dict[str, str], message: str
) -> None:
    client, _ = served
    with client.websocket_connect("/graphql", subprotocols=[LEGACY_WS]) as ws:
        ws.send_json({"type": "connection_init", "payload": payload})

        refusal = ws.receive_json()
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()

    assert refusal == {
        "type": "connection_error",
        "payload": {"code": "UNAUTHENTICATED", "message": message},
    }
    # Strawberry's legacy handler closes a refused connection with 1011 (its choice).
    assert closed.value.code == 1011
