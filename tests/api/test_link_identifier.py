"""Mutation.linkIdentifier: one version per change, nothing changed on refusal."""

from __future__ import annotations

from typing import Any

import pytest

from cdp.identity.model import IdentifierType

from .helpers import PROFILE_FIELDS, Gql, KeyFactory, ProfileFactory, codes, identifiers

LINK = f"""
mutation ($profileId: ID!, $type: IdentifierType!, $value: String!, $verified: Boolean) {{
  linkIdentifier(
    profileId: $profileId, identifier: {{type: $type, value: $value}}, verified: $verified
  ) {{ {PROFILE_FIELDS} email }}
}}
"""
READ = f"query ($id: ID!) {{ profile(id: $id) {{ {PROFILE_FIELDS} }} }}"


async def read(gql: Gql, profile_id: str) -> dict[str, Any]:
    body = await gql(READ, {"id": profile_id})
    assert "errors" not in body
    profile: dict[str, Any] = body["data"]["profile"]
    return profile


async def test_link_adds_the_normalized_identifier_and_bumps_version_by_one(
    gql: Gql, make_profile: ProfileFactory, make_key: KeyFactory
) -> None:
    profile = await make_profile((IdentifierType.LOYALTY_CARD, "6037000011112222"))
    pos_key = await make_key("pos")

    body = await gql(
        LINK,
        {"profileId": profile.id, "type": "EMAIL", "value": " Linus@Example.ORG "},
        key=pos_key,
    )

    assert "errors" not in body
    linked = body["data"]["linkIdentifier"]
    assert linked["version"] == profile.version + 1
    assert identifiers(linked) == {
        ("LOYALTY_CARD", "6037000011112222"),
        ("EMAIL", "linus@example.org"),
    }
    email = next(i for i in linked["identifiers"] if i["type"] == "EMAIL")
    assert email == {
        "type": "EMAIL",
        "value": "linus@example.org",
        "verified": False,
        "source": "POS",  # the channel of the key that linked it
    }
    assert linked["email"] == "linus@example.org"  # an empty contact field is filled
    assert await read(gql, profile.id) == {k: v for k, v in linked.items() if k != "email"}
    found = await gql('{ profile(identifier: {type: EMAIL, value: "LINUS@example.org"}) { id } }')
    assert found == {"data": {"profile": {"id": profile.id}}}


async def test_relinking_an_identifier_the_profile_holds_is_a_no_op(
    gql: Gql, make_profile: ProfileFactory
) -> None:
    profile = await make_profile((IdentifierType.PHONE, "(415) 867-5309"))
    before = await read(gql, profile.id)

    body = await gql(LINK, {"profileId": profile.id, "type": "PHONE", "value": "+1 415 867 5309"})

    assert "errors" not in body
    assert body["data"]["linkIdentifier"]["version"] == before["version"]
    assert await read(gql, profile.id) == before


async def test_relinking_as_verified_marks_it_verified_in_one_version(
    gql: Gql, make_profile: ProfileFactory
) -> None:
    profile = await make_profile((IdentifierType.APP_USER_ID, "auth0|42"))

    body = await gql(
        LINK,
        {"profileId": profile.id, "type": "APP_USER_ID", "value": "auth0|42", "verified": True},
    )

    assert "errors" not in body
    linked = body["data"]["linkIdentifier"]
    assert linked["version"] == profile.version + 1
    assert [(i["value"], i["verified"]) for i in linked["identifiers"]] == [("auth0|42", True)]


async def test_identifier_held_by_another_profile_is_a_conflict_and_changes_nothing(
    gql: Gql, make_profile: ProfileFactory
) -> None:
    holder = await make_profile((IdentifierType.EMAIL, "shared@example.com"))
    other = await make_profile((IdentifierType.DEVICE_ID, "device-7"))
    holder_before = await read(gql, holder.id)
    other_before = await read(gql, other.id)

    body = await gql(LINK, {"profileId": other.id, "type": "EMAIL", "value": "SHARED@example.com"})

    assert body["data"] is None
    assert codes(body) == ["CONFLICT"]
    assert body["errors"][0]["path"] == ["linkIdentifier"]
    assert await read(gql, holder.id) == holder_before
    assert await read(gql, other.id) == other_before
    assert holder_before["version"] == 1
    assert identifiers(other_before) == {("DEVICE_ID", "device-7")}


@pytest.mark.parametrize(
    ("type_", "value", "message"),
    [
        ("EMAIL", "not an email", "email is not a valid address"),
        ("EMAIL", "a@b", "email is not a valid address"),
        ("PHONE", "12345", "phone is not a valid phone number"),
        ("PHONE", "call me", "phone is not a valid phone number"),
        ("LOYALTY_CARD", "1234", "loyalty card number must be 6 to 32 digits"),
    ],
)
async def test_malformed_identifier_is_bad_user_input_and_changes_nothing(
    gql: Gql, make_profile: ProfileFactory, type_: str, value: str, message: str
) -> None:
    profile = await make_profile((IdentifierType.DEVICE_ID, "device-1"))
    before = await read(gql, profile.id)

    body = await gql(LINK, {"profileId": profile.id, "type": type_, "value": value})

    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == message
    assert await read(gql, profile.id) == before


async def test_linking_to_an_unknown_profile_is_not_found(gql: Gql) -> None:
    body = await gql(
        LINK, {"profileId": "p_00000000000000000000", "type": "EMAIL", "value": "a@example.com"}
    )

    assert body["data"] is None
    assert codes(body) == ["NOT_FOUND"]
    found = await gql('{ profile(identifier: {type: EMAIL, value: "a@example.com"}) { id } }')
    assert found == {"data": {"profile": None}}
