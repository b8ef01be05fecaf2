"""Requests refused before any GraphQL runs: 400 with a coded error, nothing changed."""

from __future__ import annotations

import httpx
import pytest

from .helpers import ADMIN_KEY

HEADERS = {"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "application/json"}


def refusal(message: str) -> dict[str, object]:
    return {"errors": [{"message": message, "extensions": {"code": "BAD_USER_INPUT"}}]}


NOT_JSON = "Unable to parse request body as JSON"
NOT_AN_OBJECT = "expected a JSON object"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", NOT_JSON),
        (b'{"query": "{ __typename }", "variables": {"x": NaN}}', NOT_JSON),
        ("{}".encode("utf-16"), NOT_JSON),
        (b'[{"query": "{ tiers { id } }"}]', NOT_AN_OBJECT),
        (b'"{ tiers { id } }"', NOT_AN_OBJECT),
        (b"42", NOT_AN_OBJECT),
        (b"null", NOT_AN_OBJECT),
        (b"true", NOT_AN_OBJECT),
    ],
    ids=["broken", "nan", "utf-16", "array", "string", "number", "null", "boolean"],
)
async def test_a_body_that_is_not_a_json_object_is_refused_with_400(
    client: httpx.AsyncClient, body: bytes, message: str
) -> None:
    response = await client.post("/graphql", content=body, headers=HEADERS)

    assert response.status_code == 400
    assert response.json() == refusal(message)


async def test_get_variables_that_are_not_an_object_are_refused_with_400(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        "/graphql",
        params={"query": "{ tiers { id } }", "variables": "[1]"},
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    )

    assert response.status_code == 400
    assert response.json() == refusal(NOT_AN_OBJECT)


async def test_a_subscription_over_post_is_refused_with_400(client: httpx.AsyncClient) -> None:
    query = 'subscription { receipts(storeId: "store-1") { orderId } }'

    response = await client.post("/graphql", json={"query": query}, headers=HEADERS)

    assert response.status_code == 400
    assert response.json() == refusal("subscriptions are not allowed when using POST")
