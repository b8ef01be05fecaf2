"""A started runtime with one inbound source per mapping, and GraphQL over the real app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from cdp.runtime import Runtime
from cdp.settings import Settings
from cdp.store.port import Store
from graphql_schema.app import create_app
from tests.support.runtime import ADMIN_KEY, runtime_on, settings_for

POS_SECRET = "pos-secret-0123456789"
SHOP_SECRET = "shop-secret-0123456789"


def webhook_settings(store_url: str, **overrides: Any) -> Settings:
    """The test receivers listen on 127.0.0.1: private targets are allowed here."""
    values: dict[str, Any] = {"webhook_allow_private_targets": True, **overrides}
    return settings_for(
        store_url,
        webhook_sources={
            "pos": {"secret": POS_SECRET, "format": "cdp", "channel": "POS"},
            "shop": {"secret": SHOP_SECRET, "format": "shopify", "channel": "ECOMMERCE"},
        },
        webhook_timeout_seconds=0.5,
        webhook_backoff_seconds=0.01,
        **values,
    )


@pytest.fixture
def store_url(opened_store: tuple[Store, str]) -> str:
    """Where a `cdp` process started by a test finds this test's store."""
    return opened_store[1]


@pytest.fixture
async def rt(opened_store: tuple[Store, str]) -> AsyncIterator[Runtime]:
    """On each store: every webhook test runs on SQLite and on MongoDB."""
    store, url = opened_store
    async with runtime_on(store, webhook_settings(url)) as runtime:
        yield runtime


@pytest.fixture
async def client(rt: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(create_app(runtime=rt))
    async with httpx.AsyncClient(transport=transport, base_url="http://cdp.test") as http:
        yield http


@pytest.fixture
def gql(client: httpx.AsyncClient) -> Any:
    async def run(query: str, **variables: Any) -> dict[str, Any]:
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        )
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        return body

    return run
