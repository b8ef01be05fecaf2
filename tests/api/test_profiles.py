"""Query.profile and Query.profiles: lookups by id and by every identifier type."""

from __future__ import annotations

import pytest

from cdp.identity.model import IdentifierType

from .helpers import PROFILE_FIELDS, Gql, ProfileFactory, codes

BY_IDENTIFIER = f"""
query ($type: IdentifierType!, $value: String!) {{
  profile(identifier: {{type: $type, value: $value}}) {{ {PROFILE_FIELDS} }}
}}
"""
BY_ID = f"query ($id: ID!) {{ profile(id: $id) {{ {PROFILE_FIELDS} }} }}"
MANY = "query ($ids: [ID!]!) { profiles(ids: $ids) { id } }"

# (type, value stored as sent, value looked up as sent, value as the API shows it)
EVERY_IDENTIFIER_TYPE = [
    (IdentifierType.EMAIL, " Ada.L@Example.COM ", "ada.l@EXAMPLE.com", "ada.l@example.com"),
    (IdentifierType.PHONE, "(415) 867-5309", "415.867.5309", "+14158675309"),
    (IdentifierType.PHONE, "+44 20 7946 0958", "+442079460958", "+442079460958"),
    (IdentifierType.DEVICE_ID, " device-A1B2 ", "device-A1B2", "device-A1B2"),
    (IdentifierType.COOKIE_ID, "ck_9f8e7d", " ck_9f8e7d", "ck_9f8e7d"),
    (IdentifierType.POS_CUSTOMER_ID, "store42/000123", "store42/000123 ", "store42/000123"),
    (IdentifierType.LOYALTY_CARD, "6037 1234-5678 9012", "6037-1234-5678-9012", "6037123456789012"),
    (IdentifierType.APP_USER_ID, "auth0|5f1c", "auth0|5f1c", "auth0|5f1c"),
    (IdentifierType.CRM_CONTACT_ID, "0035e00000AbCdE", "0035e00000AbCdE", "0035e00000AbCdE"),
]  # fmt: skip


async def test_profile_by_id_returns_the_stored_profile(
    gql: Gql, make_profile: ProfileFactory
) -> None:
    stored = await make_profile((IdentifierType.EMAIL, "grace@example.org"))

    body = await gql(BY_ID, {"id": stored.id})

    assert body == {
        "data": {
            "profile": {
                "id": stored.id,
                "version": 1,
                "status": "ALLOCATED",
                "identifiers": [
                    {
                        "type": "EMAIL",
                        "value": "grace@example.org",
                        "verified": False,
                        "source": "POS",
                    }
                ],
            }
        }
    }


@pytest.mark.parametrize(("type_", "stored", "looked_up", "shown"), EVERY_IDENTIFIER_TYPE)
async def test_profile_by_identifier_finds_it_whatever_the_format(
    gql: Gql,
    make_profile: ProfileFactory,
    type_: IdentifierType,
    stored: str,
    looked_up: str,
    shown: str,
) -> None:
    # given a profile holding the identifier as one channel typed it
    profile = await make_profile((type_, stored))

    # when another channel looks it up typed its own way
    body = await gql(BY_IDENTIFIER, {"type": type_.value, "value": looked_up})

    # then both normalize to one value, and that is what the profile shows
    assert "errors" not in body
    assert body["data"]["profile"]["id"] == profile.id
    assert body["data"]["profile"]["identifiers"] == [
        {"type": type_.value, "value": shown, "verified": False, "source": "POS"}
    ]


async def test_every_identifier_type_the_api_serves_is_covered(gql: Gql) -> None:
    body = await gql('{ __type(name: "IdentifierType") { enumValues { name } } }')

    served = {value["name"] for value in body["data"]["__type"]["enumValues"]}
    assert served == {row[0].value for row in EVERY_IDENTIFIER_TYPE}


async def test_identifier_lookup_is_per_type(gql: Gql, make_profile: ProfileFactory) -> None:
    await make_profile((IdentifierType.DEVICE_ID, "shared-123"))

    body = await gql(BY_IDENTIFIER, {"type": "COOKIE_ID", "value": "shared-123"})

    assert body == {"data": {"profile": None}}


@pytest.mark.parametrize(
    "arguments",
    [
        'id: "p_x", identifier: {type: EMAIL, value: "a@example.com"}',
        "",
    ],
    ids=["both", "neither"],
)
async def test_profile_needs_exactly_one_of_id_or_identifier(gql: Gql, arguments: str) -> None:
    selection = f"profile({arguments})" if arguments else "profile"

    body = await gql(f"{{ {selection} {{ id }} }}")

    assert body["data"] == {"profile": None}
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == "give exactly one of id or identifier"
    assert body["errors"][0]["path"] == ["profile"]


@pytest.mark.parametrize(
    ("type_", "value"),
    [("EMAIL", "not-an-email"), ("PHONE", "12345"), ("LOYALTY_CARD", "12AB"), ("DEVICE_ID", "  ")],
)
async def test_malformed_identifier_lookup_is_bad_user_input(
    gql: Gql, type_: str, value: str
) -> None:
    body = await gql(BY_IDENTIFIER, {"type": type_, "value": value})

    assert body["data"] == {"profile": None}
    assert codes(body) == ["BAD_USER_INPUT"]


async def test_unknown_id_is_null_without_error(gql: Gql) -> None:
    body = await gql(BY_ID, {"id": "p_00000000000000000000"})

    assert body == {"data": {"profile": None}}


async def test_unknown_identifier_is_null_without_error(gql: Gql) -> None:
    body = await gql(BY_IDENTIFIER, {"type": "EMAIL", "value": "nobody@example.com"})

    assert body == {"data": {"profile": None}}


async def test_profiles_keeps_the_order_of_ids_with_null_for_unknown(
    gql: Gql, make_profile: ProfileFactory
) -> None:
    first = await make_profile()
    second = await make_profile()

    body = await gql(MANY, {"ids": [second.id, "p_unknown", first.id, second.id]})

    assert body == {
        "data": {"profiles": [{"id": second.id}, None, {"id": first.id}, {"id": second.id}]}
    }


async def test_profiles_takes_up_to_100_ids(gql: Gql, make_profile: ProfileFactory) -> None:
    profile = await make_profile()

    body = await gql(MANY, {"ids": [profile.id] * 100})

    assert "errors" not in body
    assert body["data"]["profiles"] == [{"id": profile.id}] * 100


async def test_profiles_refuses_more_than_100_ids(gql: Gql) -> None:
    body = await gql(MANY, {"ids": [f"p_{i}" for i in range(101)]})

    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == "ids takes at most 100 items"


async def test_profiles_with_no_ids_is_an_empty_list(gql: Gql) -> None:
    assert await gql(MANY, {"ids": []}) == {"data": {"profiles": []}}
