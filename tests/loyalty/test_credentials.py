"""Credential-grade identifiers (app user ids, loyalty cards, CRM ids) reach a member's
profile only through identity:admin: whoever attaches one can spend that member's points.

Each way in is tried with surface keys (kiosk, pos, app): linkIdentifier is FORBIDDEN;
enroll, allocateCard and recordEvents keep the credential off the member (its own
profile, beside the member in review), so the attacker's customer token gets nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import KeyFactory, codes

from .shop import Shop, card_id, ok
from .support import customer_token

CARD = "6037000000000021"
EMAIL = "victim@example.com"
ATTACKER = {"type": "APP_USER_ID", "value": "attacker-1"}
ME = "{ me { id loyalty { balance } } }"
LINK = """
mutation ($id: ID!, $type: IdentifierType!, $value: String!) {
  linkIdentifier(profileId: $id, identifier: {type: $type, value: $value}, verified: true) {
    id identifiers { type value }
  }
}
"""
PROFILE = "query ($id: ID!) { profile(id: $id) { version identifiers { type value } } }"
ENROLL = """
mutation ($input: EnrollInput!) { enroll(input: $input) { created profile { id } } }
"""
ALLOCATE = "mutation ($input: AllocateCardInput!) { allocateCard(input: $input) { id } }"
EVENTS = """
mutation ($events: [EventInput!]!) {
  recordEvents(events: $events) { results { accepted profileId error } }
}
"""
REVIEWS = "{ reviewQueue { edges { node { profiles { id } reasons } } } }"


async def victim(shop: Shop) -> str:
    """An enrolled member with 300 points, a card and an email."""
    profile_id = await shop.member(CARD, email=EMAIL)
    ok(await shop.adjust(profile_id, 200))
    return profile_id


async def held_by(shop: Shop, profile_id: str) -> set[tuple[str, str]]:
    found = ok(await shop.gql(PROFILE, {"id": profile_id}))
    return {(i["type"], i["value"]) for i in found["identifiers"]}


async def record(shop: Shop, key: str, event: dict[str, Any]) -> dict[str, Any]:
    """The result of one event, recorded with `key`."""
    result: dict[str, Any] = ok(await shop.gql(EVENTS, {"events": [event]}, key=key))
    return result["results"][0]


async def reviews_of(shop: Shop, profile_id: str) -> list[str]:
    edges = ok(await shop.gql(REVIEWS))["edges"]
    return [
        reason
        for edge in edges
        if profile_id in {p["id"] for p in edge["node"]["profiles"]}
        for reason in edge["node"]["reasons"]
    ]


@pytest.mark.parametrize(
    ("type_", "value"),
    [("APP_USER_ID", "attacker-1"), ("LOYALTY_CARD", "6037000000000039"), ("CRM_CONTACT_ID", "c9")],
)
@pytest.mark.parametrize("preset", ["kiosk", "pos", "crm"])
async def test_a_surface_key_cannot_link_a_credential(
    shop: Shop, make_key: KeyFactory, preset: str, type_: str, value: str
) -> None:
    profile_id = await victim(shop)
    before = ok(await shop.gql(PROFILE, {"id": profile_id}))

    body = await shop.gql(
        LINK, {"id": profile_id, "type": type_, "value": value}, key=await make_key(preset)
    )

    assert body["data"] is None
    assert codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["message"] == (
        f"linking or verifying {type_} needs the identity:admin scope"
    )
    assert ok(await shop.gql(PROFILE, {"id": profile_id})) == before
    assert ok(await shop.gql(ME, key=customer_token("attacker-1"))) is None


async def test_an_identity_admin_links_an_app_user_who_then_reads_their_account(
    shop: Shop, make_key: KeyFactory
) -> None:
    profile_id = await victim(shop)
    identity_admin = await make_key("identity:admin", "profiles:read", "profiles:write")

    ok(
        await shop.gql(
            LINK, {"id": profile_id, **{"type": "APP_USER_ID", "value": "a-1"}}, key=identity_admin
        )
    )

    assert ok(await shop.gql(ME, key=customer_token("a-1"))) == {
        "id": profile_id,
        "loyalty": {"balance": 300},
    }


async def test_enroll_by_a_surface_key_keeps_a_credential_off_the_member_it_finds(
    shop: Shop, make_key: KeyFactory
) -> None:
    profile_id = await victim(shop)
    pos = await make_key("pos")

    enrolled = await shop.enroll("6037000000000047", ATTACKER, email=EMAIL, key=pos)

    result = ok(enrolled)
    assert result["created"] is True
    assert result["profile"]["id"] != profile_id
    assert ("APP_USER_ID", "attacker-1") not in await held_by(shop, profile_id)
    assert ok(await shop.gql(ME, key=customer_token("attacker-1")))["id"] != profile_id
    assert await reviews_of(shop, profile_id) == [
        "matched on email; linking APP_USER_ID to an existing profile needs the "
        "identity:admin scope"
    ]


async def test_allocate_card_by_a_kiosk_starts_its_own_profile_beside_the_member(
    shop: Shop, make_key: KeyFactory
) -> None:
    profile_id = await victim(shop)
    kiosk = await make_key("kiosk")
    allocation = {
        "channel": "KIOSK",
        "cardNumber": "6037000000000054",
        "identifiers": [{"type": "EMAIL", "value": EMAIL}],
    }

    allocated = ok(await shop.gql(ALLOCATE, {"input": allocation}, key=kiosk))

    assert allocated["id"] != profile_id
    assert ("LOYALTY_CARD", "6037000000000054") not in await held_by(shop, profile_id)
    assert len(await reviews_of(shop, profile_id)) == 1


async def test_an_event_from_a_surface_key_neither_links_nor_merges_a_credential_in(
    shop: Shop, make_key: KeyFactory
) -> None:
    profile_id = await victim(shop)
    app = await make_key("app")
    email = {"type": "EMAIL", "value": EMAIL}
    login = {"eventId": "e-1", "type": "login", "channel": "MOBILE_APP"}
    attackers_own = ok(await shop.enroll("6037000000000062", ATTACKER))["profile"]["id"]

    new_app_user = {"type": "APP_USER_ID", "value": "new-user"}
    linked = await record(shop, app, {**login, "identifiers": [email, new_app_user]})
    merged = await record(shop, app, {**login, "eventId": "e-2", "identifiers": [email, ATTACKER]})

    assert (linked["accepted"], merged["accepted"]) == (True, True)
    assert {("APP_USER_ID", "new-user"), ("APP_USER_ID", "attacker-1")}.isdisjoint(
        await held_by(shop, profile_id)
    )
    assert ok(await shop.gql(ME, key=customer_token("new-user")))["id"] != profile_id
    assert ok(await shop.gql(ME, key=customer_token("attacker-1")))["id"] == attackers_own
    assert len(await reviews_of(shop, profile_id)) == 2


async def test_an_anonymous_profile_still_joins_a_card_holder_through_an_event(
    shop: Shop, make_key: KeyFactory
) -> None:
    profile_id, app = await victim(shop), await make_key("app")
    visit = {"eventId": "e-1", "type": "visit", "channel": "ECOMMERCE"}
    cookie = {"type": "COOKIE_ID", "value": "ck-1"}
    await record(shop, app, {**visit, "identifiers": [cookie]})

    login = {**visit, "eventId": "e-2", "identifiers": [cookie, card_id(CARD)]}
    result = await record(shop, app, login)

    assert result["profileId"] == profile_id
    assert ("COOKIE_ID", "ck-1") in await held_by(shop, profile_id)
    assert await reviews_of(shop, profile_id) == []
