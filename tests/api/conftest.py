"""GraphQL over the real ASGI app, on a started runtime, with factories for its data.

Tests take `rt`, the shared `runtime` fixture of tests/conftest.py (parametrized over
SQLite and MongoDB), so every test here runs on both stores.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from cdp.auth.service import create_api_key
from cdp.channel import Channel
from cdp.identity.model import IdentifierType, PersonalData, Profile
from cdp.identity.service import RawIdentifier, create_profile
from cdp.runtime import Runtime
from graphql_schema.app import create_app

from .helpers import (
    AppFactory,
    Gql,
    KeyFactory,
    ProfileFactory,
    api_settings,
    gql_on,
    started_runtime,
)


@pytest.fixture
def rt(runtime: Runtime) -> Runtime:
    """The shared runtime fixture: every test here runs on SQLite and on MongoDB."""
    return runtime


@pytest.fixture
async def client(rt: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(runtime=rt))
    async with httpx.AsyncClient(transport=transport, base_url="http://cdp.test") as http:
        yield http


@pytest.fixture
def gql(client: httpx.AsyncClient) -> Gql:
    """`await gql(query, variables, key=...)`: the response JSON; key=None sends no key."""
    return gql_on(client)


@pytest.fixture
async def app_with(tmp_path: Path) -> AsyncIterator[AppFactory]:
    """Another started runtime and client, built from settings overrides (e.g. env)."""
    async with AsyncExitStack() as stack:
        count = 0

        async def make(**overrides: Any) -> tuple[Runtime, httpx.AsyncClient]:
            nonlocal count
            count += 1
            settings = api_settings(tmp_path / f"app-{count}.db", **overrides)
            runtime = await stack.enter_async_context(started_runtime(settings))
            transport = httpx.ASGITransport(app=create_app(runtime=runtime))
            http = httpx.AsyncClient(transport=transport, base_url="http://cdp.test")
            await stack.enter_async_context(http)
            return runtime, http

        yield make


@pytest.fixture
def make_profile(rt: Runtime) -> ProfileFactory:
    """`await make_profile((IdentifierType.EMAIL, "a@b.com"), ...)`: a stored profile."""

    async def make(
        *identifiers: tuple[IdentifierType, str],
        channel: Channel = Channel.POS,
        personal: PersonalData | None = None,
    ) -> Profile:
        return await create_profile(
            rt,
            channel=channel,
            personal=personal,
            identifiers=[RawIdentifier(type_, value) for type_, value in identifiers],
        )

    return make


@pytest.fixture
def make_key(rt: Runtime) -> KeyFactory:
    """`await make_key("kiosk")`: the plain text of a new key with those scopes/presets."""

    async def make(*scopes: str, name: str = "test key") -> str:
        _, plain = await create_api_key(rt, name=name, scopes=list(scopes))
        return plain

    return make
