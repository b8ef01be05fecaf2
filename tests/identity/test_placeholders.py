"""Throwaway values typed to get past a required field: stored, never a match key.

Linking on "noemail@store.com" would fold every customer who refused an email into one
profile, so two members with the same placeholder stay two.
"""

from __future__ import annotations

import pytest

from tests.api.helpers import codes, identifiers

from .support import PURCHASE, Api, Configure, event, ident, person

STORE_PHONE = "(415) 555-0199"  # the store's own number, as staff would configure it


@pytest.mark.parametrize(
    ("field", "typed", "stored"),
    [
        ("email", "test@test.com", ("EMAIL", "test@test.com")),
        ("email", " NoEmail@OurStore.com", ("EMAIL", "noemail@ourstore.com")),
        ("email", "none@example.com", ("EMAIL", "none@example.com")),
        ("phone", "0000000000", ("PHONE", "0000000000")),
        ("phone", "212-222-2222", ("PHONE", "+12122222222")),
    ],
)
async def test_two_members_with_one_placeholder_stay_two_profiles(
    api: Api, field: str, typed: str, stored: tuple[str, str]
) -> None:
    first = await api.enroll(person(0, **{field: typed}))
    second = await api.enroll(person(1, **{field: typed}))

    assert (first["created"], second["created"]) == (True, True)
    assert first["profile"]["id"] != second["profile"]["id"]
    assert stored in identifiers(first["profile"])
    assert stored in identifiers(second["profile"])
    assert await api.find(*stored) is None
    assert await api.search(**{field: typed}) == []


@pytest.mark.parametrize("typed", ["415-555-0199", "+1 415 555 0199", "FrontDesk@OurStore.com"])
async def test_configured_deny_list_values_never_match(
    api: Api, configure: Configure, typed: str
) -> None:
    configure(identity_denylist=f"frontdesk@ourstore.com, {STORE_PHONE}")
    field = "email" if "@" in typed else "phone"

    first = await api.enroll(person(0, **{field: typed}))
    second = await api.enroll(person(1, **{field: typed}))

    assert first["profile"]["id"] != second["profile"]["id"]
    assert second["created"] is True


async def test_a_purchase_on_a_placeholder_is_refused_and_creates_nothing(api: Api) -> None:
    body = await api.call(
        PURCHASE,
        {
            "input": {
                "channel": "POS",
                "orderId": "o-1",
                "identifier": ident("EMAIL", "test@test.com"),
                "lines": [{"amount": 10.0}],
            }
        },
    )

    assert codes(body) == ["BAD_USER_INPUT"]
    assert await api.ok('query { receipt(channel: POS, orderId: "o-1") { orderId } }') is None


async def test_events_never_stitch_on_a_placeholder(api: Api) -> None:
    member = await api.member(0)

    only_placeholder, with_member = await api.events(
        event("e-1", ident("EMAIL", "noemail@ourstore.com")),
        event("e-2", ident("EMAIL", "ada.lovelace@example.com"), ident("PHONE", "0000000000")),
    )

    assert (only_placeholder["accepted"], only_placeholder["profileId"]) == (True, None)
    assert (with_member["accepted"], with_member["profileId"]) == (True, member["id"])
    assert await api.find("PHONE", "0000000000") is None


async def test_a_placeholder_is_no_evidence_against_a_look_alike(api: Api) -> None:
    member = await api.member(0)

    # Names, postal code and birth date agree (1.0); a refused email and phone say nothing,
    # so they must not count as "another email" and "another phone" (-0.1 each).
    again = await api.enroll(
        person(0, email="noemail@ourstore.com", phone="0000000000", attributes=None)
    )

    assert again["created"] is False
    assert again["profile"]["id"] == member["id"]
    assert (again["match"]["method"], again["match"]["score"]) == ("PROBABILISTIC", 1.0)
