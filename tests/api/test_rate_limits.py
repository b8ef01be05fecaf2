"""Rate limits over HTTP: per key, per client address, and wrong keys per address.

A request over a limit gets 429 with Retry-After and a RATE_LIMITED error before any
GraphQL runs; other keys and other addresses keep their own allowance.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from cdp.auth.service import create_api_key
from cdp.runtime import Runtime
from graphql_schema.app import create_app

from .helpers import ADMIN_KEY, api_settings, started_runtime

TIERS = {"query": "{ tiers { id } }"}
Post = Callable[..., Awaitable[httpx.Response]]
Serve = Callable[..., Awaitable[tuple[Runtime, Post]]]


@pytest.fixture
async def limited(tmp_path: Path) -> AsyncIterator[Serve]:
    """`rt, post = await limited(**settings)`; `await post(key, address)` POSTs TIERS."""
    async with AsyncExitStack() as stack:

        async def make(**overrides: Any) -> tuple[Runtime, Post]:
            settings = api_settings(tmp_path / "limited.db", **overrides)
            rt = await stack.enter_async_context(started_runtime(settings))
            app = create_app(runtime=rt)
            clients: dict[str, httpx.AsyncClient] = {}

            async def post(
                key: str | None = ADMIN_KEY, address: str = "10.0.0.1"
            ) -> httpx.Response:
                if address not in clients:
                    transport = httpx.ASGITransport(app=app, client=(address, 40000))
                    http = httpx.AsyncClient(transport=transport, base_url="http://cdp.test")
                    clients[address] = await stack.enter_async_context(http)
                headers = {"Authorization": f"Bearer {key}"} if key else {}
                return await clients[address].post("/graphql", json=TIERS, headers=headers)

            return rt, post

        yield make


def assert_rate_limited(response: httpx.Response) -> None:
    assert response.status_code == 429
    assert 1 <= int(response.headers["retry-after"]) <= 60
    body = response.json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["RATE_LIMITED"]


async def test_a_key_over_its_rate_is_refused_and_other_keys_are_not(limited: Serve) -> None:
    rt, post = await limited(rate_limit_per_key="3/minute", rate_limit_per_address="")
    _, other = await create_api_key(rt, name="other till", scopes=["pos"])

    passed = [(await post()).status_code for _ in range(3)]
    refused = await post()
    # from another address too: the window is the key's
    refused_elsewhere = await post(address="10.0.0.2")
    other_key = await post(other)

    assert passed == [200, 200, 200]
    assert_rate_limited(refused)
    assert refused.json()["errors"][0]["message"] == (
        "rate limit of 3 per 1 minute per key exceeded; retry later"
    )
    assert_rate_limited(refused_elsewhere)
    assert other_key.status_code == 200
    assert other_key.json() == {
        "data": {"tiers": [{"id": "member"}, {"id": "silver"}, {"id": "gold"}]}
    }


async def test_an_address_over_its_rate_is_refused_whatever_the_key(limited: Serve) -> None:
    rt, post = await limited(rate_limit_per_address="2/minute", rate_limit_per_key="")
    _, other = await create_api_key(rt, name="other till", scopes=["pos"])

    passed = [(await post()).status_code, (await post(other)).status_code]
    refused = [await post(), await post(other), await post(None)]
    elsewhere = await post(address="10.0.0.2")

    assert passed == [200, 200]
    for response in refused:
        assert_rate_limited(response)
    assert elsewhere.status_code == 200


async def test_wrong_keys_from_one_address_lock_it_out_even_with_the_right_key(
    limited: Serve,
) -> None:
    _, post = await limited(rate_limit_auth_failures="3/minute")

    guesses = [await post(f"cdp_key_guess_{n}") for n in range(3)]
    right_key_after = await post(ADMIN_KEY)
    no_key_from_elsewhere = await post(None, address="10.0.0.2")
    right_key_elsewhere = await post(ADMIN_KEY, address="10.0.0.2")

    for guess in guesses:
        assert guess.status_code == 200
        assert [e["extensions"]["code"] for e in guess.json()["errors"]] == ["UNAUTHENTICATED"]
    assert_rate_limited(right_key_after)
    assert "failed authentications" in right_key_after.json()["errors"][0]["message"]
    # a request without a key is no guess: it does not count
    assert no_key_from_elsewhere.status_code == 200
    assert right_key_elsewhere.status_code == 200
    assert "errors" not in right_key_elsewhere.json()


async def test_without_a_key_only_the_address_counts(limited: Serve) -> None:
    _, post = await limited(rate_limit_per_key="1/minute", rate_limit_per_address="")

    responses = [await post(None) for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 200]
