"""The request body size limit on /graphql: 413 with a coded error, decided while the
body streams in, before any GraphQL runs."""

from __future__ import annotations

from collections.abc import AsyncIterator

from cdp.auth.service import list_api_keys

from .helpers import ADMIN_KEY, AppFactory

HEADERS = {"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "application/json"}
LIMIT = 2048


def create_key_body(padding: int) -> bytes:
    """A createApiKey request padded with spaces to `padding` more bytes."""
    query = 'mutation { createApiKey(name: "padded", scopes: ["pos"]) { id } }'
    return b'{"query": "' + query.replace('"', '\\"').encode() + b'"' + b" " * padding + b"}"


async def test_a_body_declared_over_the_limit_is_refused_with_413(app_with: AppFactory) -> None:
    rt, http = await app_with(max_body_bytes=LIMIT)

    response = await http.post("/graphql", content=create_key_body(LIMIT), headers=HEADERS)

    assert response.status_code == 413
    assert response.json() == {
        "errors": [
            {
                "message": f"the request body is over {LIMIT} bytes",
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ]
    }
    assert await list_api_keys(rt) == []


async def test_a_streamed_body_is_refused_once_it_passes_the_limit(app_with: AppFactory) -> None:
    # given a body sent in 512-byte chunks with no declared length, 64 KB in all
    rt, http = await app_with(max_body_bytes=LIMIT)
    body = create_key_body(64 * 1024)
    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 512):
            sent.append(start)
            yield body[start : start + 512]

    # when it is posted
    response = await http.post("/graphql", content=chunks(), headers=HEADERS)

    # then it is refused after the chunk that passed the limit, not after the whole body
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert len(sent) == LIMIT // 512 + 1
    assert await list_api_keys(rt) == []


async def test_a_body_within_the_limit_runs(app_with: AppFactory) -> None:
    rt, http = await app_with(max_body_bytes=LIMIT)
    body = create_key_body(LIMIT - len(create_key_body(0)))
    assert len(body) == LIMIT

    response = await http.post("/graphql", content=body, headers=HEADERS)

    assert response.status_code == 200
    assert "errors" not in response.json()
    assert [key.name for key in await list_api_keys(rt)] == ["padded"]
