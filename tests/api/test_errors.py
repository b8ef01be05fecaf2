"""Unexpected failures reach the client as INTERNAL, with none of their detail."""

from __future__ import annotations

from typing import NoReturn

import httpx
import pytest

from cdp.identity import service
from cdp.identity.model import IdentifierType

from .helpers import ADMIN_KEY, ProfileFactory

LINK = """
mutation ($id: ID!) {
  linkIdentifier(profileId: $id, identifier: {type: EMAIL, value: "x.y@example.com"}) { id }
}
"""


async def test_unexpected_exception_is_masked_as_internal(
    client: httpx.AsyncClient, make_profile: ProfileFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = await make_profile((IdentifierType.DEVICE_ID, "device-9"))

    async def broken(*args: object, **kwargs: object) -> NoReturn:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(service, "link_identifier", broken)

    response = await client.post(
        "/graphql",
        json={"query": LINK, "variables": {"id": profile.id}},
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    )

    assert response.status_code == 200
    assert response.json() == {
        "data": None,
        "errors": [
            {
                "message": "Internal error.",
                "locations": [{"line": 3, "column": 3}],
                "path": ["linkIdentifier"],
                "extensions": {"code": "INTERNAL"},
            }
        ],
    }
    assert "secret detail" not in response.text
    assert "RuntimeError" not in response.text
    assert "Traceback" not in response.text
