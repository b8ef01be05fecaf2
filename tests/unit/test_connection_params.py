"""Where a WebSocket client may put its key in connection_init."""

from __future__ import annotations

import pytest

from graphql_schema.app import bearer_from_params


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"Authorization": "Bearer cdp_key_a_b"}, "cdp_key_a_b"),
        ({"authorization": "bearer  cdp_key_a_b "}, "cdp_key_a_b"),
        ({"Authorization": "cdp_key_a_b"}, "cdp_key_a_b"),
        ({"apiKey": " cdp_key_a_b"}, "cdp_key_a_b"),
        ({"token": "cdp_key_a_b"}, "cdp_key_a_b"),
        ({"Authorization": "Bearer first", "apiKey": "second"}, "first"),
        ({"Authorization": 42, "apiKey": "second"}, "second"),
        ({}, None),
        (None, None),
        ({"other": "x"}, None),
    ],
)
def test_bearer_from_params(params: dict[str, object] | None, key: str | None) -> None:
    assert bearer_from_params(params) == key
