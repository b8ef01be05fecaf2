"""Identifier normalization: one stored form per identifier, BadInput for anything else."""

from __future__ import annotations

import pytest

from cdp.errors import BadInput
from cdp.identity.model import IdentifierKey, IdentifierType
from cdp.identity.normalize import (
    MAX_IDENTIFIER_LENGTH,
    fold_name,
    normalize_card,
    normalize_email,
    normalize_identifier,
    normalize_phone,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ada@example.com", "ada@example.com"),
        ("Ada@Example.COM", "ada@example.com"),
        ("  ada@example.com\t\n", "ada@example.com"),
        ("ADA.LOVELACE+loyalty@mail.example.co.uk", "ada.lovelace+loyalty@mail.example.co.uk"),
    ],
)
def test_email_is_trimmed_and_lower_cased(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "ada@@example.com",
        "ada lovelace@example.com",
        "ada@exa mple.com",
        "a" * 250 + "@example.com",
    ],
)
def test_malformed_email_is_bad_input(raw: str) -> None:
    with pytest.raises(BadInput, match=r"^email is not a valid address$"):
        normalize_email(raw)


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("(415) 867-5309", "US", "+14158675309"),
        ("415.867.5309", "US", "+14158675309"),
        ("415 867 5309", "US", "+14158675309"),
        ("1-415-867-5309", "US", "+14158675309"),
        ("+1 (415) 867-5309", "US", "+14158675309"),
        ("  +14158675309  ", "US", "+14158675309"),
        ("+44 20 7946 0958", "US", "+442079460958"),  # a country code beats the region
        ("020 7946 0958", "GB", "+442079460958"),
        ("030 901820", "DE", "+4930901820"),
    ],
)
def test_phone_becomes_e164_reading_national_numbers_in_the_region(
    raw: str, region: str, expected: str
) -> None:
    assert normalize_phone(raw, region) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "12345", "call me", "(415) 867-530", "+1 415 867 53099", "020 7946 0958"],
)
def test_invalid_phone_is_bad_input(raw: str) -> None:
    # "020 7946 0958" is a London number: without +44 it is no US number
    with pytest.raises(BadInput, match=r"^phone is not a valid phone number$"):
        normalize_phone(raw, "US")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("6037123456789012", "6037123456789012"),
        ("6037 1234 5678 9012", "6037123456789012"),
        ("6037-1234-5678-9012", "6037123456789012"),
        (" 6037 - 1234\t5678 ", "603712345678"),
        ("123456", "123456"),  # the shortest card
        ("1" * 32, "1" * 32),  # the longest card
        ("000123", "000123"),  # leading zeros are part of the number
    ],
)
def test_card_keeps_only_its_digits(raw: str, expected: str) -> None:
    assert normalize_card(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "12345",
        "1" * 33,
        "6037 12AB 5678",
        "6037.1234.5678",
        # Digits str.isdigit accepts beyond ASCII would give one card a second key:
        "\uff16\uff10\uff13\uff17\uff11\uff12\uff13\uff14",  # full-width
        "\u00b2\u00b3\u2074\u2075\u2076\u2077",  # superscript
        "\u0666\u0660\u0663\u0667\u0661\u0662\u0663\u0664",  # Arabic-Indic
    ],
)
def test_malformed_card_is_bad_input(raw: str) -> None:
    with pytest.raises(BadInput, match=r"^loyalty card number must be 6 to 32 digits$"):
        normalize_card(raw)


OPAQUE_TYPES = [
    IdentifierType.DEVICE_ID,
    IdentifierType.COOKIE_ID,
    IdentifierType.POS_CUSTOMER_ID,
    IdentifierType.APP_USER_ID,
    IdentifierType.CRM_CONTACT_ID,
]


@pytest.mark.parametrize("type_", OPAQUE_TYPES)
def test_opaque_identifiers_are_trimmed_but_keep_their_case(type_: IdentifierType) -> None:
    assert normalize_identifier(type_, "  AbC-123 x ", "US") == IdentifierKey(type_, "AbC-123 x")


@pytest.mark.parametrize("type_", OPAQUE_TYPES)
def test_blank_opaque_identifier_is_bad_input(type_: IdentifierType) -> None:
    with pytest.raises(BadInput, match=rf"^{type_.value} identifier is empty$"):
        normalize_identifier(type_, " \t ", "US")


@pytest.mark.parametrize(
    ("type_", "raw", "value"),
    [
        (IdentifierType.EMAIL, " A@B.Example ", "a@b.example"),
        (IdentifierType.PHONE, "(415) 867-5309", "+14158675309"),
        (IdentifierType.LOYALTY_CARD, "6037 0000 1111", "603700001111"),
        (IdentifierType.DEVICE_ID, " d-1 ", "d-1"),
    ],
)
def test_normalize_identifier_dispatches_on_type(
    type_: IdentifierType, raw: str, value: str
) -> None:
    key = normalize_identifier(type_, raw, "US")

    assert key == IdentifierKey(type_, value)
    assert key.key == f"{type_.value}:{value}"


@pytest.mark.parametrize("type_", list(IdentifierType))
def test_identifier_longer_than_the_limit_is_bad_input(type_: IdentifierType) -> None:
    with pytest.raises(BadInput, match=rf"longer than {MAX_IDENTIFIER_LENGTH}$"):
        normalize_identifier(type_, "1" * (MAX_IDENTIFIER_LENGTH + 1), "US")


def test_identifier_of_exactly_the_limit_is_accepted() -> None:
    raw = "d" * MAX_IDENTIFIER_LENGTH

    assert normalize_identifier(IdentifierType.DEVICE_ID, raw, "US").value == raw


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("José", "jose"),
        ("  MÜLLER ", "muller"),
        ("Zoë", "zoe"),
        ("Straße", "strasse"),
        ("O'Brien", "o'brien"),
    ],
)
def test_fold_name_ignores_case_and_accents(raw: str, folded: str) -> None:
    assert fold_name(raw) == folded


@pytest.mark.parametrize(
    ("type_", "raw"),
    [
        (IdentifierType.EMAIL, "ada\u202e@example.com"),
        (IdentifierType.PHONE, "+1 415 555\x00 0100"),
        (IdentifierType.DEVICE_ID, "device\u2066-1"),
        (IdentifierType.POS_CUSTOMER_ID, "pos\x1b[31m-7"),
    ],
)
def test_control_and_bidi_characters_make_no_identifier(type_: IdentifierType, raw: str) -> None:
    # every way in (GraphQL, webhooks, import) normalizes here
    with pytest.raises(BadInput, match="a control or bidirectional character"):
        normalize_identifier(type_, raw, "US")


def test_control_characters_in_names_and_deep_attributes_are_refused() -> None:
    from datetime import date

    from cdp.identity.model import PersonalData
    from cdp.identity.normalize import clean_personal

    with pytest.raises(BadInput, match="firstName contains U\\+0000"):
        clean_personal(PersonalData(first_name="A\x00da"), "US", date(2026, 1, 1))
    deep: dict[str, object] = {}
    for _ in range(40):
        deep = {"inner": deep}
    with pytest.raises(BadInput, match="attributes nests deeper than"):
        clean_personal(PersonalData(attributes=deep), "US", date(2026, 1, 1))
