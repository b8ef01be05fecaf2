"""Resolution inline in enroll, allocateCard and recordPurchase, and searchProfiles.

Deterministic first: any linked identifier, exact after normalization. Then the match
model scores look-alikes, 0..1 (docs/identity.md; its rules: test_match_model.py), and
the thresholds decide: auto 0.9, review 0.1.
"""

from __future__ import annotations

import pytest

from tests.api.helpers import identifiers

from .support import ALLOCATE, AUTO, ELSEWHERE, FORGET, REVIEW, Api, Configure, e164, ident, person

NAMES = ("firstName", "lastName")


@pytest.mark.parametrize(
    ("typed", "matched_on"),
    [
        ({"email": "  ADA.Lovelace@EXAMPLE.com "}, "email"),
        ({"phone": "(415) 555-0100"}, "phone"),
        ({"phone": "+1.415.555.0100"}, "phone"),
    ],
)
async def test_enroll_finds_a_member_by_a_contact_typed_differently(
    api: Api, typed: dict[str, str], matched_on: str
) -> None:
    member = await api.member(0)

    # Another person's details but person 0's email or phone: the identifier wins.
    again = await api.enroll(person(1, **{"email": "x1@example.com", **typed}))

    assert again["created"] is False
    assert again["profile"]["id"] == member["id"]
    match = again["match"]
    assert (match["method"], match["score"], match["matchedOn"]) == (
        "DETERMINISTIC",
        1.0,
        [matched_on],
    )
    assert match["profile"]["id"] == member["id"]


async def test_enroll_finds_a_member_by_a_card_typed_with_separators(api: Api) -> None:
    member = (await api.enroll(person(0), identifiers=[ident("LOYALTY_CARD", "6037000011112222")]))[
        "profile"
    ]

    again = await api.enroll(
        person(1), identifiers=[ident("LOYALTY_CARD", " 6037-0000 1111-2222 ")]
    )

    assert again["created"] is False
    assert again["profile"]["id"] == member["id"]
    assert again["match"]["matchedOn"] == ["loyaltyCard"]


async def test_purchase_earns_on_the_member_an_identifier_names(api: Api) -> None:
    member = await api.member(0)

    receipt = await api.purchase(ident("PHONE", "415.555.0100"), 25.0, "o-1")

    assert receipt["profile"]["id"] == member["id"]
    assert receipt["pendingPoints"] == 25  # 1 point per unit on POS, pending 14 days
    assert (await api.profile(member["id"]))["loyalty"]["pendingPoints"] == 25


async def test_allocating_a_card_to_a_known_customer_links_it_to_their_profile(
    api: Api,
) -> None:
    member = await api.member(0)

    allocated = await api.ok(
        ALLOCATE,
        {
            "input": {
                "channel": "KIOSK",
                "cardNumber": "6037 1234 5678 9012",
                "identifiers": [ident("EMAIL", "Ada.Lovelace@example.com")],
            }
        },
    )

    assert allocated["id"] == member["id"]
    assert ("LOYALTY_CARD", "6037123456789012") in identifiers(allocated)
    assert (await api.find("LOYALTY_CARD", "6037123456789012"))["id"] == member["id"]


@pytest.mark.parametrize(
    ("changes", "matched_on"),
    [
        ({}, [*NAMES, "postalCode", "birthDate", "streetAddress"]),
        ({"firstName": "ADA", "lastName": "lovelace"}, None),
        ({"firstName": "Adà"}, None),
        ({"firstName": "Lovelace", "lastName": "Ada"}, None),  # swapped on entry
        ({"birthDate": "1970-01-11"}, [*NAMES, "postalCode", "streetAddress"]),  # a typo
    ],
)
async def test_enroll_links_a_look_alike_at_or_above_the_auto_threshold(
    api: Api, changes: dict[str, str], matched_on: list[str] | None
) -> None:
    member = await api.member(0)

    # Another email and phone: a work address and a second number.
    again = await api.enroll(person(0, **ELSEWHERE, **changes))

    assert again["created"] is False
    assert again["profile"]["id"] == member["id"]
    assert again["match"]["method"] == "PROBABILISTIC"
    assert AUTO <= again["match"]["score"] <= 1
    if matched_on is not None:
        assert again["match"]["matchedOn"] == matched_on
    # The identifiers nobody held are linked to the member; nothing is overwritten.
    assert identifiers(again["profile"]) == {
        ("EMAIL", "ada.lovelace@example.com"),
        ("PHONE", e164(0)),
        ("EMAIL", "ada@work.example.org"),
        ("PHONE", "+14155550199"),
    }
    assert again["profile"]["email"] == "ada.lovelace@example.com"
    assert await api.reviews() == []


async def test_enroll_between_the_thresholds_creates_a_profile_and_opens_a_review(
    api: Api,
) -> None:
    member = await api.member(0)

    # Everything but the given name: a twin, or a name replaced at the till.
    again = await api.enroll(person(0, **ELSEWHERE, firstName="Mary"))

    assert again["created"] is True
    assert again["profile"]["id"] != member["id"]
    match = again["match"]
    assert match["profile"]["id"] == member["id"]
    assert REVIEW <= match["score"] < AUTO
    assert match["matchedOn"] == ["lastName", "postalCode", "birthDate", "streetAddress"]
    (item,) = await api.reviews()
    assert item["score"] == match["score"]
    assert {p["id"] for p in item["profiles"]} == {member["id"], again["profile"]["id"]}
    assert item["reasons"] == ["matched on lastName, postalCode, birthDate, streetAddress"]


@pytest.mark.parametrize(
    "changes",
    [
        {"birthDate": None, "attributes": None, "postalCode": None},  # names alone
        {"firstName": "Mary", "birthDate": "1990-05-05"},  # another member of the household
    ],
    ids=["names-alone", "household"],
)
async def test_enroll_below_the_review_threshold_creates_a_profile_quietly(
    api: Api, changes: dict[str, object]
) -> None:
    member = await api.member(0)

    again = await api.enroll(person(0, **ELSEWHERE, **changes))

    assert again["created"] is True
    assert again["profile"]["id"] != member["id"]
    assert again["match"] is None
    assert await api.reviews() == []


# Person 0 again with no birth date, email or phone: names and address are all (a
# till that asks for names only: CDP_ENROLLMENT_REQUIRED_FIELDS).
NAMES_AND_ADDRESS = {"birthDate": None, "email": None, "phone": None}
NAMES_REQUIRED = "first_name,last_name"


async def test_names_and_address_alone_go_to_review_by_default(
    api: Api, configure: Configure
) -> None:
    configure(enrollment_required_fields=NAMES_REQUIRED)
    member = await api.member(0)

    again = await api.enroll(person(0, **NAMES_AND_ADDRESS))

    assert again["created"] is True
    assert again["match"]["profile"]["id"] == member["id"]
    assert REVIEW <= again["match"]["score"] < AUTO
    (item,) = await api.reviews()
    assert {p["id"] for p in item["profiles"]} == {member["id"], again["profile"]["id"]}


async def test_names_and_address_alone_merge_when_configured_and_nothing_else_matches(
    api: Api, configure: Configure
) -> None:
    configure(match_auto_on_names_and_address=True, enrollment_required_fields=NAMES_REQUIRED)
    member = await api.member(0)

    again = await api.enroll(person(0, **NAMES_AND_ADDRESS))

    assert again["created"] is False
    assert again["profile"]["id"] == member["id"]
    assert again["match"]["score"] >= AUTO
    assert await api.reviews() == []


async def test_names_and_address_alone_go_to_review_where_a_household_lives(
    api: Api, configure: Configure
) -> None:
    configure(match_auto_on_names_and_address=True, enrollment_required_fields=NAMES_REQUIRED)
    member = await api.member(0)
    # Another member of the household: same surname and address, another given name.
    await api.member(0, firstName="Mary", birthDate="1999-04-04", email=None, phone=None)

    again = await api.enroll(person(0, **NAMES_AND_ADDRESS))

    assert again["created"] is True
    assert again["match"]["profile"]["id"] == member["id"]
    assert REVIEW <= again["match"]["score"] < AUTO


async def test_a_record_matching_two_profiles_goes_to_review(
    api: Api, configure: Configure
) -> None:
    configure(match_auto_on_names_and_address=True, enrollment_required_fields=NAMES_REQUIRED)
    # A father and his junior: one name, one address, two birth dates.
    father = await api.member(0)
    junior = await api.member(0, birthDate="1999-04-04", email=None, phone="+1 415 555 0188")

    again = await api.enroll(person(0, **NAMES_AND_ADDRESS))

    assert again["created"] is True
    assert again["match"]["profile"]["id"] in {father["id"], junior["id"]}
    assert again["match"]["score"] >= AUTO  # each alone would merge: together, a person decides
    # The question is about both: one review item beside each of them.
    pairs = [{p["id"] for p in item["profiles"]} for item in await api.reviews()]
    assert sorted(pairs, key=lambda ids: junior["id"] in ids) == [
        {again["profile"]["id"], father["id"]},
        {again["profile"]["id"], junior["id"]},
    ]


@pytest.mark.parametrize(
    ("above", "created"),
    [(0.0, False), (0.0001, True)],
    ids=["score-equal-to-auto-links", "score-just-below-auto-does-not"],
)
async def test_the_auto_threshold_is_inclusive_and_configurable(
    api: Api, configure: Configure, above: float, created: bool
) -> None:
    member = await api.member(0)
    twin = person(0, **ELSEWHERE, firstName="Mary")
    first = await api.enroll(twin)  # a review: learn the pair's score
    await api.ok(FORGET, {"id": first["profile"]["id"]})
    configure(match_auto_threshold=first["match"]["score"] + above)

    again = await api.enroll(twin)

    assert again["created"] is created
    assert (again["profile"]["id"] == member["id"]) is not created
    assert again["match"]["score"] == first["match"]["score"]


async def test_search_returns_exact_matches_first_then_scored_look_alikes(api: Api) -> None:
    member = await api.member(0)
    look_alike = await api.member(0, **ELSEWHERE, attributes=None, birthDate=None)
    await api.member(1)

    # The look-alike shares names and postal code, not the email searched.
    matches = await api.search(
        email="ADA.LOVELACE@example.com ", firstName="Ada", lastName="Lovelace", postalCode="94100"
    )

    assert [(m["profile"]["id"], m["method"], m["matchedOn"]) for m in matches] == [
        (member["id"], "DETERMINISTIC", ["email"]),
        (look_alike["id"], "PROBABILISTIC", [*NAMES, "postalCode"]),
    ]
    assert matches[0]["score"] == 1.0
    assert 0 < matches[1]["score"] < AUTO


async def test_search_by_names_and_birth_date_scores_each_field(api: Api) -> None:
    member = await api.member(0)

    (match,) = await api.search(
        firstName="ada", lastName="LOVELACE", postalCode="94100", birthDate="1970-01-10"
    )

    assert (match["profile"]["id"], match["method"], match["matchedOn"]) == (
        member["id"],
        "PROBABILISTIC",
        [*NAMES, "postalCode", "birthDate"],
    )
    assert match["score"] >= AUTO


async def test_search_by_phone_in_any_format(api: Api) -> None:
    member = await api.member(0)

    (match,) = await api.search(phone="415 555 0100")

    assert (match["profile"]["id"], match["matchedOn"]) == (member["id"], ["phone"])
