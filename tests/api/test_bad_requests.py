"""Requests refused before any GraphQL runs: 400 with a coded error, nothing changed."""

from __future__ import annotations

import httpx
import pytest

from .helpers import ADMIN_KEY

HEADERS = {"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "application/json"}


def refusal(message: str) -> dict[str, object]:
    return {"errors": [{"message": message, "extensions": {"code": "BAD_USER_INPUT"}}]}


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"query": "{ __typename }", "variables": {"x": NaN}}', "{}".encode("utf-16")],
    ids=["broken", "nan", "utf-16"],
)
async def test_a_body_that_is_not_json_is_refused_with_400(
    client: httpx.AsyncClient, body: bytes
) -> None:
    response = await client.post("/graphql", content=body, headers=HEADERS)

    assert response.status_code == 400
    assert response.json() == refusal("Unable to parse request body as JSON")


@pytest.mark.parametrize(
    "body",
    [b'[{"query": "{ tiers { id } }"}]', b'"{ tiers { id } }"', b"42", b"null", b"true"],
    ids=["array", "string", "number", "null", "boolean"],
)
async def test_a_json_body_that_is_not_an_object_is_refused_with_400(
    client: httpx.AsyncClient, body: bytes
) -> None:
    response = await client.post("/graphql", content=body, headers=HEADERS)

    assert response.status_code == 400
    assert response.json() == refusal("expected a JSON object")


async def test_get_variables_that_are_not_an_object_are_refused_with_400(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        "/graphql",
        params={"query": "{ tiers { id } }", "variables": "[1]"},
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    )

    assert response.status_code == 400
    assert response.json() == refusal("expected a JSON object")


async def test_a_subscription_over_post_is_refused_with_400(client: httpx.AsyncClient) -> None:
    query = 'subscription { receipts(storeId: "store-1") { orderId } }'

    response = await client.post("/graphql", json={"query": query}, headers=HEADERS)

    assert response.status_code == 400
    assert response.json() == refusal("subscriptions are not allowed when using POST")
