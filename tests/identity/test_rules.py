"""Rules the GraphQL surface cannot isolate: throwaway phones, and the identity settings
an operator configures. (The match model's rules: test_match_model.py.)"""

from __future__ import annotations

import pytest

from cdp.errors import BadInput
from cdp.identity.normalize import normalize_phone
from cdp.settings import SettingsError, load_settings


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
        ({"max_pos_ids_per_system": 0}, "CDP_MAX_POS_IDS_PER_SYSTEM"),
        ({"match_model_file": "/nonexistent/model.json"}, "CDP_MATCH_MODEL_FILE"),
    ],
)
def test_identity_settings_are_checked_at_start_up(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(**overrides)
