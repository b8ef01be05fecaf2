"""Normalization of identifiers and personal data before they are stored or matched."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

from cdp.errors import BadInput
from cdp.identity.model import IdentifierKey, IdentifierType

MAX_IDENTIFIER_LENGTH = 200
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CARD_SEPARATORS = re.compile(r"[\s-]")


def normalize_email(raw: str) -> str:
    value = raw.strip().lower()
    if len(value) > 254 or not _EMAIL.match(value):
        raise BadInput("email is not a valid address")
    return value


def normalize_phone(raw: str, default_region: str) -> str:
    """E.164; a number without a country code is read in the configured region."""
    try:
        number = phonenumbers.parse(raw.strip(), default_region)
    except phonenumbers.NumberParseException as exc:
        raise BadInput("phone is not a valid phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise BadInput("phone is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_card(raw: str) -> str:
    value = _CARD_SEPARATORS.sub("", raw)
    if not value.isdigit() or not 6 <= len(value) <= 32:
        raise BadInput("loyalty card number must be 6 to 32 digits")
    return value


def _trimmed(raw: str, type_: IdentifierType) -> str:
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
