"""API keys over GraphQL: who may call, what with, and keys managed through the API."""

from __future__ import annotations

import pytest

from cdp.auth.service import list_api_keys
from cdp.identity.model import IdentifierType
from cdp.runtime import Runtime

from .helpers import Gql, KeyFactory, ProfileFactory, codes

READ = "query ($id: ID!) { profile(id: $id) { id } }"
CREATE_KEY = """
mutation ($name: String!, $scopes: [String!]!) {
  createApiKey(name: $name, scopes: $scopes) { id key scopes }
}
"""
REVOKE_KEY = "mutation ($id: ID!) { revokeApiKey(id: $id) }"
LINK_DEVICE = """
mutation ($id: ID!) {
  linkIdentifier(profileId: $id, identifier: {type: DEVICE_ID, value: "kiosk-device"}) {
    version
  }
}
"""


async def test_no_key_is_unauthenticated(gql: Gql) -> None:
    body = await gql(READ, {"id": "p_x"}, key=None)

    assert body["data"] == {"profile": None}
    assert codes(body) == ["UNAUTHENTICATED"]
    assert body["errors"][0]["message"] == ("an API key is required (Authorization: Bearer <key>)")


@pytest.mark.parametrize(
    "key",
    [
        "not-a-key",
        "cdp_key_00000000000000000000_" + "0" * 64,  # well formed, never issued
        "test-admin-key-0123456789abcdeX",  # one character off the admin key
    ],
)
async def test_bad_key_is_unauthenticated(gql: Gql, key: str) -> None:
    body = await gql(READ, {"id": "p_x"}, key=key)

    assert body["data"] == {"profile": None}
    assert codes(body) == ["UNAUTHENTICATED"]
    assert body["errors"][0]["message"] == "the API key is not valid"


async def test_issued_key_with_a_wrong_secret_is_unauthenticated(
    gql: Gql, make_key: KeyFactory
) -> None:
    key = await make_key("pos")
    tampered = key[:-1] + ("0" if key[-1] != "0" else "1")

    body = await gql(READ, {"id": "p_x"}, key=tampered)

    assert codes(body) == ["UNAUTHENTICATED"]


async def test_kiosk_key_reads_and_links_but_cannot_create_keys(
    gql: Gql, make_key: KeyFactory, make_profile: ProfileFactory
) -> None:
    kiosk = await make_key("kiosk")
    profile = await make_profile((IdentifierType.EMAIL, "kiosk.user@example.com"))

    read = await gql(READ, {"id": profile.id}, key=kiosk)
    linked = await gql(LINK_DEVICE, {"id": profile.id}, key=kiosk)
    refused = await gql(CREATE_KEY, {"name": "escalate", "scopes": ["admin"]}, key=kiosk)

    assert read == {"data": {"profile": {"id": profile.id}}}
    assert linked == {"data": {"linkIdentifier": {"version": 2}}}
    assert refused["data"] is None
    assert codes(refused) == ["FORBIDDEN"]
    assert refused["errors"][0]["message"] == "this caller lacks the keys:admin scope"


async def test_key_without_profiles_write_cannot_link(
    gql: Gql, make_key: KeyFactory, make_profile: ProfileFactory
) -> None:
    reader = await make_key("profiles:read")
    profile = await make_profile()

    body = await gql(LINK_DEVICE, {"id": profile.id}, key=reader)

    assert body["data"] is None
    assert codes(body) == ["FORBIDDEN"]
    assert await gql(READ, {"id": profile.id}, key=reader) == {
        "data": {"profile": {"id": profile.id}}
    }
    version = await gql("query ($id: ID!) { profile(id: $id) { version } }", {"id": profile.id})
    assert version == {"data": {"profile": {"version": 1}}}


async def test_create_api_key_returns_a_working_key_with_expanded_scopes(gql: Gql) -> None:
    body = await gql(CREATE_KEY, {"name": "store-42 kiosk", "scopes": ["kiosk"]})

    assert "errors" not in body
    created = body["data"]["createApiKey"]
    assert created["id"].startswith("key_")
    assert created["key"].startswith(f"cdp_{created['id']}_")
    assert created["scopes"] == ["loyalty:read", "profiles:read", "profiles:write"]
    assert await gql(READ, {"id": "p_x"}, key=created["key"]) == {"data": {"profile": None}}


async def test_keys_admin_scope_may_create_keys_with_scopes_it_holds(
    gql: Gql, make_key: KeyFactory
) -> None:
    keys_admin = await make_key("keys:admin", "crm")

    body = await gql(CREATE_KEY, {"name": "crm", "scopes": ["crm"]}, key=keys_admin)

    assert "errors" not in body
    assert body["data"]["createApiKey"]["scopes"] == [
        "events:write",
        "loyalty:read",
        "profiles:read",
        "profiles:write",
    ]


@pytest.mark.parametrize(
    ("holds", "asks", "lacking"),
    [
        (["keys:admin"], ["admin"], "admin"),
        (["keys:admin", "kiosk"], ["admin"], "admin"),
        (["keys:admin"], ["keys:admin", "profiles:read"], "profiles:read"),
        (["keys:admin", "kiosk"], ["pos"], "events:write, loyalty:write"),
        (["keys:admin", "pos"], ["kiosk", "loyalty:admin"], "loyalty:admin"),
    ],
)
async def test_a_key_cannot_grant_scopes_it_does_not_hold(
    rt: Runtime, gql: Gql, make_key: KeyFactory, holds: list[str], asks: list[str], lacking: str
) -> None:
    creator = await make_key(*holds)
    before = await list_api_keys(rt)

    body = await gql(CREATE_KEY, {"name": "escalate", "scopes": asks}, key=creator)

    assert body["data"] is None
    assert codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["message"] == (
        f"a key can only grant scopes its creator holds; this caller lacks {lacking}"
    )
    assert await list_api_keys(rt) == before


async def test_an_admin_key_may_grant_any_scope(gql: Gql, make_key: KeyFactory) -> None:
    admin = await make_key("admin")

    body = await gql(CREATE_KEY, {"name": "second admin", "scopes": ["admin"]}, key=admin)

    assert body["data"]["createApiKey"]["scopes"] == ["admin"]


async def test_revoked_key_is_unauthenticated_and_revoking_again_returns_false(
    gql: Gql,
) -> None:
    created = (await gql(CREATE_KEY, {"name": "till 3", "scopes": ["pos"]}))["data"]["createApiKey"]
    assert await gql(READ, {"id": "p_x"}, key=created["key"]) == {"data": {"profile": None}}

    first = await gql(REVOKE_KEY, {"id": created["id"]})
    after = await gql(READ, {"id": "p_x"}, key=created["key"])
    second = await gql(REVOKE_KEY, {"id": created["id"]})

    assert first == {"data": {"revokeApiKey": True}}
    assert codes(after) == ["UNAUTHENTICATED"]
    assert after["data"] == {"profile": None}
    assert second == {"data": {"revokeApiKey": False}}


async def test_revoking_an_unknown_key_is_not_found(gql: Gql) -> None:
    body = await gql(REVOKE_KEY, {"id": "key_00000000000000000000"})

    assert body["data"] is None
    assert codes(body) == ["NOT_FOUND"]


@pytest.mark.parametrize(
    ("name", "scopes"),
    [
        ("till", ["pos", "superuser"]),  # unknown scope
        ("till", []),  # no scope at all
        ("   ", ["pos"]),  # blank name
        ("x" * 101, ["pos"]),  # name too long
    ],
)
async def test_create_api_key_refuses_bad_input(gql: Gql, name: str, scopes: list[str]) -> None:
    body = await gql(CREATE_KEY, {"name": name, "scopes": scopes})

    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]


async def test_unknown_scope_message_names_it(gql: Gql) -> None:
    body = await gql(CREATE_KEY, {"name": "till", "scopes": ["superuser"]})

    assert body["errors"][0]["message"].startswith("unknown scope 'superuser'; known: pos,")
