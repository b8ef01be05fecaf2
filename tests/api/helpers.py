"""What the API tests share besides fixtures: settings, a GraphQL caller, readers."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

import httpx
from starlette.exceptions import StarletteDeprecationWarning

from cdp.bootstrap import build_runtime, start_runtime, stop_runtime
from cdp.identity.model import Profile
from cdp.runtime import Runtime
from cdp.settings import Settings
from tests.support.runtime import ADMIN_KEY as ADMIN_KEY  # re-exported for the tests
from tests.support.runtime import settings_for

with warnings.catch_warnings():
    # Starlette asks for httpx2 here; the test client works the same on httpx.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient as TestClient  # re-exported for the tests


Json = dict[str, Any]
AppFactory = Callable[..., Awaitable[tuple[Runtime, httpx.AsyncClient]]]
ProfileFactory = Callable[..., Awaitable[Profile]]
KeyFactory = Callable[..., Awaitable[str]]


class Gql(Protocol):
    async def __call__(
        self, query: str, variables: Json | None = None, *, key: str | None = ...
    ) -> Json: ...


PROFILE_FIELDS = """
    id
    version
    status
    identifiers { type value verified source }
"""


def codes(body: dict[str, Any]) -> list[str]:
    """The extensions.code of every error in a GraphQL response, in order."""
    return [error["extensions"]["code"] for error in body.get("errors", [])]


def identifiers(profile: dict[str, Any]) -> set[tuple[str, str]]:
    """(type, value) of each identifier on a profile as the API returned it."""
    return {(i["type"], i["value"]) for i in profile["identifiers"]}


def api_settings(db: Path, **overrides: Any) -> Settings:
    """Settings for a test SQLite file; background loops off so nothing runs behind a test."""
    return settings_for(f"sqlite:///{db}", **overrides)


@asynccontextmanager
async def started_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    runtime = build_runtime(settings)
    await start_runtime(runtime)
    try:
        yield runtime
    finally:
        await stop_runtime(runtime)


def gql_on(http: httpx.AsyncClient) -> Gql:
    async def gql(
        query: str, variables: Json | None = None, *, key: str | None = ADMIN_KEY
    ) -> Json:
        headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
        response = await http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: Json = response.json()
        return body

    return gql
