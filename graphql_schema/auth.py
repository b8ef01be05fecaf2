"""API keys as the contract shows them."""

from __future__ import annotations

import strawberry

from cdp.auth.model import ApiKey


@strawberry.type
class ApiKeyCreated:
    id: strawberry.ID
    key: str
    scopes: list[str]

    @classmethod
    def from_domain(cls, api_key: ApiKey, plain_key: str) -> ApiKeyCreated:
        return cls(
            id=strawberry.ID(api_key.id),
            key=plain_key,
            scopes=sorted(s.value for s in api_key.scopes),
        )
