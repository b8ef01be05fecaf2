"""Normalization of identifiers and personal data before they are stored or matched."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import date

import phonenumbers

from cdp.errors import BadInput
from cdp.identity.model import IdentifierKey, IdentifierType, PersonalData
from cdp.identity.placeholders import placeholder_phone
from cdp.text import require_plain_text, require_plain_value

MAX_IDENTIFIER_LENGTH = 200
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CARD_SEPARATORS = re.compile(r"[\s-]")
_PHONE_SEPARATORS = re.compile(r"[\s().-]")


def normalize_email(raw: str) -> str:
    require_plain_text("email", raw)
    value = raw.strip().lower()
    if len(value) > 254 or not _EMAIL.match(value):
        raise BadInput("email is not a valid address")
    return value


def normalize_phone(raw: str, default_region: str) -> str:
    """E.164; a number without a country code is read in the configured region.

    A throwaway such as 0000000000 is no valid number, yet tills type it to get past a
    required phone: it is kept as its digits, stored but never a match key.
    """
    require_plain_text("phone", raw)
    try:
        number = phonenumbers.parse(raw.strip(), default_region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    digits = _PHONE_SEPARATORS.sub("", raw)
    if (
        digits.isascii()
        and digits.isdigit()
        and 7 <= len(digits) <= 15
        and placeholder_phone(digits)
    ):
        return digits
    raise BadInput("phone is not a valid phone number")


def normalize_card(raw: str) -> str:
    value = _CARD_SEPARATORS.sub("", raw)
    # isdigit alone takes full-width or superscript digits: a second key for one card.
    if not (value.isascii() and value.isdigit()) or not 6 <= len(value) <= 32:
        raise BadInput("loyalty card number must be 6 to 32 digits")
    return value


def _trimmed(raw: str, type_: IdentifierType) -> str:
    require_plain_text(f"{type_.value} identifier", raw)
    value = raw.strip()
    if not value:
        raise BadInput(f"{type_.value} identifier is empty")
    return value


def normalize_identifier(type_: IdentifierType, raw: str, default_region: str) -> IdentifierKey:
    """The stored, matched form of an identifier; BadInput when it cannot be one."""
    if len(raw) > MAX_IDENTIFIER_LENGTH:
        raise BadInput(f"{type_.value} identifier is longer than {MAX_IDENTIFIER_LENGTH}")
    if type_ is IdentifierType.EMAIL:
        value = normalize_email(raw)
    elif type_ is IdentifierType.PHONE:
        value = normalize_phone(raw, default_region)
    elif type_ is IdentifierType.LOYALTY_CARD:
        value = normalize_card(raw)
    else:
        value = _trimmed(raw, type_)
    return IdentifierKey(type_, value)


def fold_name(raw: str) -> str:
    """Case- and accent-folded, for matching names typed on different tills."""
    decomposed = unicodedata.normalize("NFKD", raw.strip())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


MAX_NAME = 100
MAX_POSTAL = 20
MAX_STREET = 200
MAX_ATTRIBUTES_BYTES = 16_384


def _text(name: str, value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    require_plain_text(name, value)
    text = " ".join(value.split())
    if len(text) > limit:
        raise BadInput(f"{name} is longer than {limit} characters")
    return text or None


def clean_personal(raw: PersonalData, default_region: str, today: date) -> PersonalData:
    """Personal data as stored: trimmed, email and phone normalized, dates plausible."""
    if raw.birth_date is not None and not date(1900, 1, 1) <= raw.birth_date <= today:
        raise BadInput("birthDate must be between 1900-01-01 and today")
    require_plain_value("attributes", raw.attributes)
    if len(json.dumps(raw.attributes, default=str)) > MAX_ATTRIBUTES_BYTES:
        raise BadInput(f"attributes must be at most {MAX_ATTRIBUTES_BYTES} bytes of JSON")
    street = raw.street_address
    if street is None and isinstance(raw.attributes.get("streetAddress"), str):
        street = raw.attributes["streetAddress"]
    postal = _text("postalCode", raw.postal_code, MAX_POSTAL)
    return PersonalData(
        first_name=_text("firstName", raw.first_name, MAX_NAME),
        last_name=_text("lastName", raw.last_name, MAX_NAME),
        email=normalize_email(raw.email) if raw.email else None,
        phone=normalize_phone(raw.phone, default_region) if raw.phone else None,
        postal_code=postal.upper() if postal else None,
        birth_date=raw.birth_date,
        street_address=_text("streetAddress", street, MAX_STREET),
        attributes=dict(raw.attributes),
    )
