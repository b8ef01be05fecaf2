"""Rules the GraphQL surface cannot isolate: the score table, throwaway phones, and the
identity settings an operator configures."""

from __future__ import annotations

from datetime import date

import pytest

from cdp.errors import BadInput
from cdp.identity.matching import MatchRecord, score
from cdp.identity.model import PersonalData
from cdp.identity.normalize import normalize_phone
from cdp.settings import SettingsError, load_settings

ADA = PersonalData(
    first_name="Ada",
    last_name="Lovelace",
    postal_code="94100",
    birth_date=date(1970, 1, 10),
    street_address="1 Main Street",
    email="ada@example.com",
)


def scored(other: PersonalData) -> tuple[float, list[str]]:
    return score(MatchRecord.of(ADA), MatchRecord.of(other))


@pytest.mark.parametrize(
    ("other", "expected"),
    [
        (PersonalData("ada", "LOVELACE"), 0.45),
        (PersonalData("Ada", "Lovelace", postal_code="94 100"), 0.45 + 0.25),
        (PersonalData("Ada", "Lovelace", birth_date=date(1970, 1, 10)), 0.45 + 0.3),
        (PersonalData("Ada", "Lovelace", birth_date=date(1970, 10, 1)), 0.45 + 0.1),
        (PersonalData("Ada", "Lovelace", street_address="1 main st"), 0.45 + 0.15),
        (PersonalData("Ada", "Lovelace", postal_code="10001"), 0.45 - 0.05),
        (PersonalData("Ada", "Lovelace", email="other@example.com"), 0.45 - 0.1),
        (PersonalData("Ada", "Lovelace", birth_date=date(1980, 5, 5)), 0.0),  # -0.5, floored
        (PersonalData("Ada", "Hopper", postal_code="94100"), 0.0),  # names must agree first
    ],
    ids=[
        "names",
        "postal",
        "birth",
        "birth-day-month-swapped",
        "street-suffix",
        "other-postal",
        "other-email",
        "other-birth",
        "other-name",
    ],
)
def test_each_field_adds_or_takes_what_the_table_says(other: PersonalData, expected: float) -> None:
    assert scored(other)[0] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("0000000000", "0000000000"),
        ("000-000-0000", "0000000000"),
        ("(123) 456-7890", "1234567890"),
    ],
)
def test_a_throwaway_phone_is_kept_as_its_digits(raw: str, stored: str) -> None:
    assert normalize_phone(raw, "US") == stored


@pytest.mark.parametrize("raw", ["415-000-0000", "12345", "0000"])
def test_an_invalid_phone_that_is_no_throwaway_stays_bad_input(raw: str) -> None:
    with pytest.raises(BadInput):
        normalize_phone(raw, "US")


def test_the_deny_list_holds_values_as_identifiers_are_stored() -> None:
    settings = load_settings(identity_denylist=" (415) 555-0199 , FrontDesk@Store.com,,pos-9 ")

    assert settings.denylist == {"+14155550199", "frontdesk@store.com", "pos-9"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"match_auto_threshold": 0.7, "match_review_threshold": 0.8},
            "CDP_MATCH_REVIEW_THRESHOLD must not exceed CDP_MATCH_AUTO_THRESHOLD",
        ),
        ({"enrollment_required_fields": "first_name,nickname"}, "CDP_ENROLLMENT_REQUIRED_FIELDS"),
        ({"max_emails_per_profile": 0}, "CDP_MAX_EMAILS_PER_PROFILE"),
    ],
)
def test_identity_settings_are_checked_at_start_up(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(**overrides)
