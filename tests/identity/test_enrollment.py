"""Enrollment: required fields, bonuses once, cards that earn before enrollment, and
auto-enrollment when an ALLOCATED profile's required fields become complete."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import codes, identifiers

from .support import (
    ALLOCATE,
    COFFEE,
    COMPLETION_BONUS,
    ENROLL,
    ENROLLMENT_BONUS,
    LINK,
    REDEEM,
    UPDATE,
    Api,
    Configure,
    Json,
    e164,
    ident,
    ledger,
    luhn_valid,
    person,
)

ALL_FIELDS = ["firstName", "lastName", "email", "phone", "postalCode", "birthDate"]


def bonuses(history: Json) -> list[tuple[int, str]]:
    return sorted((e["points"], e["reason"]) for e in ledger(history) if e["type"] == "BONUS")


async def allocate(api: Api, **input_: Any) -> Json:
    allocated: Json = await api.ok(ALLOCATE, {"input": {"channel": "POS", **input_}})
    return allocated


async def test_enroll_creates_an_enrolled_member_with_both_bonuses(api: Api) -> None:
    enrolled = await api.enroll(person(0), channel="KIOSK")

    profile = enrolled["profile"]
    assert (enrolled["created"], enrolled["match"]) == (True, None)
    assert profile["status"] == "ENROLLED"
    enrollment = profile["enrollment"]
    assert (enrollment["method"], enrollment["channel"]) == ("STANDARD", "KIOSK")
    assert enrollment["enrolledAt"] is not None
    assert (enrollment["profileComplete"], enrollment["missingFields"]) == (True, [])
    assert identifiers(profile) == {("EMAIL", "ada.lovelace@example.com"), ("PHONE", e164(0))}
    assert profile["loyalty"]["balance"] == ENROLLMENT_BONUS + COMPLETION_BONUS
    assert profile["loyalty"]["canRedeem"] is True
    assert bonuses(await api.history(profile["id"])) == [
        (COMPLETION_BONUS, "profile completion bonus"),
        (ENROLLMENT_BONUS, "enrollment bonus"),
    ]


async def test_completion_bonus_comes_once_when_the_profile_is_completed(api: Api) -> None:
    member = await api.member(0, postalCode=None, birthDate=None)
    assert member["loyalty"]["balance"] == ENROLLMENT_BONUS
    assert member["enrollment"]["missingFields"] == ["postalCode", "birthDate"]

    completed = await api.ok(
        UPDATE, {"id": member["id"], "input": {"postalCode": "94100", "birthDate": "1970-01-10"}}
    )
    changed_again = await api.ok(UPDATE, {"id": member["id"], "input": {"postalCode": "10001"}})

    assert completed["enrollment"]["profileComplete"] is True
    assert completed["loyalty"]["balance"] == ENROLLMENT_BONUS + COMPLETION_BONUS
    assert changed_again["loyalty"]["balance"] == ENROLLMENT_BONUS + COMPLETION_BONUS
    assert len(bonuses(await api.history(member["id"]))) == 2


async def test_enrolling_a_member_again_grants_no_second_bonus(api: Api) -> None:
    member = await api.member(0)

    again = await api.enroll(person(0), channel="ECOMMERCE")

    assert (again["created"], again["profile"]["id"]) == (False, member["id"])
    assert again["profile"]["enrollment"]["channel"] == "POS"  # the first enrollment stands
    assert again["profile"]["loyalty"]["balance"] == ENROLLMENT_BONUS + COMPLETION_BONUS
    assert len(bonuses(await api.history(member["id"]))) == 2


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        (["email"], "missing required fields: email"),
        (["firstName", "phone"], "missing required fields: firstName, phone"),
    ],
)
async def test_enroll_without_a_required_field_is_bad_input_and_creates_nothing(
    api: Api, missing: list[str], message: str
) -> None:
    body = await api.call(
        ENROLL, {"input": {"channel": "POS", "profile": person(0, **dict.fromkeys(missing))}}
    )

    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == message
    assert await api.search(firstName="Ada", lastName="Lovelace", postalCode="94100") == []
    assert await api.find("PHONE", e164(0)) is None


async def test_required_fields_are_configurable(api: Api, configure: Configure) -> None:
    configure(enrollment_required_fields="first_name,last_name,postal_code")

    no_contact = await api.enroll(person(0, email=None, phone=None))
    no_postal = await api.call(
        ENROLL, {"input": {"channel": "POS", "profile": person(1, postalCode=None)}}
    )

    assert no_contact["profile"]["status"] == "ENROLLED"
    assert codes(no_postal) == ["BAD_USER_INPUT"]
    assert no_postal["errors"][0]["message"] == "missing required fields: postalCode"


async def test_a_generated_card_is_unique_with_a_luhn_check_digit(api: Api) -> None:
    cards = [await allocate(api) for _ in range(3)]

    numbers = [c["identifiers"][0]["value"] for c in cards]
    assert len(set(numbers)) == 3
    for number in numbers:
        assert (len(number), number[:4]) == (16, "6037")  # settings.card_prefix
        assert luhn_valid(number), number
    profile = cards[0]
    assert profile["status"] == "ALLOCATED"
    assert profile["enrollment"]["method"] == "ALLOCATION"
    assert profile["enrollment"]["enrolledAt"] is None
    assert profile["enrollment"]["missingFields"] == ALL_FIELDS


async def test_an_allocated_card_earns_but_cannot_redeem_until_enrolled(api: Api) -> None:
    card = await allocate(api, cardNumber="6037 0000 0000 0001")
    await api.adjust(card["id"], 2 * COFFEE, "adj-1")

    receipt = await api.purchase(ident("LOYALTY_CARD", "6037000000000001"), 30.0, "o-1")
    redeem = await api.call(
        REDEEM,
        {
            "input": {
                "profileId": card["id"],
                "rewardId": "coffee",
                "channel": "POS",
                "idempotencyKey": "r-1",
            }
        },
    )

    assert receipt["profile"] == {"id": card["id"], "status": "ALLOCATED"}
    assert receipt["pendingPoints"] == 30
    assert codes(redeem) == ["NOT_REDEEMABLE"]
    after = await api.profile(card["id"])
    assert (after["loyalty"]["balance"], after["loyalty"]["canRedeem"]) == (2 * COFFEE, False)


async def test_update_completing_the_required_fields_auto_enrolls(api: Api) -> None:
    card = await allocate(api)
    await api.purchase(ident("LOYALTY_CARD", card["identifiers"][0]["value"]), 12.0, "o-1")
    contact = {k: person(0)[k] for k in ("firstName", "lastName", "email", "phone")}

    enrolled = await api.ok(UPDATE, {"id": card["id"], "input": contact})

    assert enrolled["status"] == "ENROLLED"
    assert enrolled["enrollment"]["method"] == "AUTO"
    assert enrolled["enrollment"]["missingFields"] == ["postalCode", "birthDate"]
    assert (enrolled["loyalty"]["balance"], enrolled["loyalty"]["pendingPoints"]) == (
        ENROLLMENT_BONUS,
        12,
    )
    assert (await api.find("EMAIL", "ada.lovelace@example.com"))["id"] == card["id"]


async def test_linking_the_last_missing_identifier_auto_enrolls(api: Api) -> None:
    card = await allocate(api)
    partial = {k: person(0)[k] for k in ("firstName", "lastName", "phone")}
    still_allocated = await api.ok(UPDATE, {"id": card["id"], "input": partial})
    assert still_allocated["status"] == "ALLOCATED"
    assert still_allocated["loyalty"]["balance"] == 0

    linked = await api.ok(
        LINK, {"id": card["id"], "identifier": ident("EMAIL", "Ada.Lovelace@example.com")}
    )

    assert (linked["status"], linked["enrollment"]["method"]) == ("ENROLLED", "AUTO")
    assert linked["email"] == "ada.lovelace@example.com"
    assert linked["loyalty"]["balance"] == ENROLLMENT_BONUS


async def test_checkout_then_enroll_is_one_profile_with_the_points(api: Api) -> None:
    # A guest checkout online: 40.00 earns 40 base x 1.25 (ECOMMERCE) = 50, pending.
    receipt = await api.purchase(
        ident("EMAIL", "ada.lovelace@example.com"), 40.0, "web-1", channel="ECOMMERCE"
    )
    guest = receipt["profile"]
    assert guest["status"] == "ALLOCATED"
    assert (receipt["pointsEarned"], receipt["bonusPoints"]) == (50, 10)

    enrolled = await api.enroll(person(0, email="ADA.LOVELACE@example.com"), channel="ECOMMERCE")

    assert (enrolled["created"], enrolled["profile"]["id"]) == (False, guest["id"])
    profile = enrolled["profile"]
    assert (profile["status"], profile["enrollment"]["method"]) == ("ENROLLED", "STANDARD")
    assert profile["loyalty"]["pendingPoints"] == 50
    assert profile["loyalty"]["balance"] == ENROLLMENT_BONUS + COMPLETION_BONUS
    assert (await api.find("PHONE", e164(0)))["id"] == guest["id"]


async def test_enrolling_with_identifiers_of_two_members_opens_a_review(api: Api) -> None:
    first = await api.member(0)
    second = await api.member(1)

    # Person 0's details with person 1's phone: one enrollment names two profiles.
    result = await api.enroll(person(0, phone=person(1)["phone"]))

    assert (result["created"], result["profile"]["id"]) == (False, first["id"])
    (item,) = await api.reviews()
    assert {p["id"] for p in item["profiles"]} == {first["id"], second["id"]}
    assert item["reasons"] == ["identifiers of both profiles given in one enrollment"]
    assert (await api.find("PHONE", e164(1)))["id"] == second["id"]  # nothing moved


@pytest.mark.parametrize(
    ("card", "code"),
    [("6037 0000 0000 0001", "CONFLICT"), ("12-34", "BAD_USER_INPUT")],
    ids=["taken", "too-short"],
)
async def test_allocating_a_bad_card_is_refused_and_changes_nothing(
    api: Api, card: str, code: str
) -> None:
    holder = await allocate(api, cardNumber="6037000000000001")

    body = await api.call(
        ALLOCATE,
        {
            "input": {
                "channel": "POS",
                "cardNumber": card,
                "identifiers": [ident("EMAIL", "new@example.com")],
            }
        },
    )

    assert codes(body) == [code]
    assert await api.profile(holder["id"]) == holder
    assert await api.find("EMAIL", "new@example.com") is None
