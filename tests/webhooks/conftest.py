"""A started runtime with one inbound source per mapping, and GraphQL over the real app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cdp.bootstrap import build_runtime, start_runtime, stop_runtime
from cdp.runtime import Runtime
from cdp.settings import load_settings
from graphql_schema.app import create_app

ADMIN_KEY = "test-admin-key-0123456789abcdef"
POS_SECRET = "pos-secret-0123456789"
SHOP_SECRET = "shop-secret-0123456789"


def webhook_settings(db: Path, **overrides: Any) -> Any:
    return load_settings(
        store_url=f"sqlite:///{db}",
        admin_key=ADMIN_KEY,
        webhook_sources={
            "pos": {"secret": POS_SECRET, "format": "cdp", "channel": "POS"},
            "shop": {"secret": SHOP_SECRET, "format": "shopify", "channel": "ECOMMERCE"},
        },
        webhook_timeout_seconds=0.5,
        webhook_backoff_seconds=0.01,
        jobs_interval_seconds=0,
        dispatch_interval_seconds=0,
        **overrides,
    )


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "cdp.db"


@pytest.fixture
async def rt(db_path: Path) -> AsyncIterator[Runtime]:
    runtime = build_runtime(webhook_settings(db_path))
    await start_runtime(runtime)
    try:
        yield runtime
    finally:
        await stop_runtime(runtime)


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
