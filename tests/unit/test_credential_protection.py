"""Credential protection: which links and merges a caller without identity:admin may not
make (cdp/identity/limits.py); the API tests in tests/loyalty/test_credentials.py show
what each way in does with the refusal."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from cdp.channel import Channel
from cdp.identity.limits import MergeBlocked, check_credential_link, check_credential_merge
from cdp.identity.model import IdentifierKey, IdentifierType, PersonalData, Profile
from cdp.identity.service import new_profile
from cdp.loyalty.model import Account

NOW = datetime(2026, 1, 1, tzinfo=UTC)
CARD = IdentifierKey(IdentifierType.LOYALTY_CARD, "6037000000000001")
APP_USER = IdentifierKey(IdentifierType.APP_USER_ID, "u-1")
COOKIE = IdentifierKey(IdentifierType.COOKIE_ID, "ck-1")
DEVICE = IdentifierKey(IdentifierType.DEVICE_ID, "dev-1")
EMAIL = IdentifierKey(IdentifierType.EMAIL, "a@example.com")


def holding(*keys: IdentifierKey, personal: PersonalData | None = None) -> Profile:
    return new_profile(now=NOW, channel=Channel.POS, keys=keys, personal=personal)


@pytest.mark.parametrize(
    "added", [CARD, APP_USER, IdentifierKey(IdentifierType.CRM_CONTACT_ID, "c")]
)
def test_adding_a_credential_to_an_existing_profile_is_blocked(added: IdentifierKey) -> None:
    before = holding(EMAIL)
    after = holding(EMAIL, added)

    with pytest.raises(MergeBlocked, match=f"^linking {added.type.value} to an existing"):
        check_credential_link(before, after)


def test_adding_other_identifiers_or_keeping_held_credentials_is_fine() -> None:
    before = holding(EMAIL, CARD)

    check_credential_link(before, holding(EMAIL, CARD, COOKIE, DEVICE))


@pytest.mark.parametrize(
    "other",
    [
        holding(EMAIL),  # an identifier that is not a cookie or a device
        holding(COOKIE, personal=PersonalData(first_name="Ada")),  # a name
        replace(holding(COOKIE), loyalty=Account(balance=10)),  # points
        replace(holding(COOKIE), loyalty=Account(pending=5)),  # pending points
        holding(APP_USER),  # credentials of its own
    ],
    ids=["email", "name", "balance", "pending", "credential"],
)
def test_a_credential_holder_is_not_merged_with_a_profile_with_something_to_lose(
    other: Profile,
) -> None:
    holder = holding(CARD)

    for survivor, merged in ((holder, other), (other, holder)):
        with pytest.raises(MergeBlocked, match=r"^merging a profile holding [A-Z_]+ needs"):
            check_credential_merge(survivor, merged)


def test_an_anonymous_profile_or_one_without_credentials_merges() -> None:
    check_credential_merge(holding(CARD, EMAIL), holding(COOKIE, DEVICE))
    check_credential_merge(holding(EMAIL), holding(COOKIE, personal=PersonalData(last_name="L")))
