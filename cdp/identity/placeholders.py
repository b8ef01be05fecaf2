"""Values that are typed to get past a required field, not to identify anybody.

They are stored on the profile but never used as match keys: linking on
"noemail@store.com" would merge every customer who refused to give an email.
"""

from __future__ import annotations

from cdp.identity.model import IdentifierKey, IdentifierType

PLACEHOLDER_LOCAL_PARTS = frozenset(
    {
        "test", "noemail", "no-email", "no.email", "nomail", "none", "no", "na", "n.a",
        "null", "nil", "email", "noreply", "no-reply", "donotreply", "unknown", "asdf",
        "declined", "refused", "customer", "guest", "x", "xx", "xxx",
    }
)  # fmt: skip
PLACEHOLDER_DOMAINS = frozenset(
    {"test.com", "email.com", "noemail.com", "none.com", "nomail.com", "invalid", "test.test"}
)  # fmt: skip
SEQUENCES = ("0123456789", "1234567890", "9876543210")


def _placeholder_email(value: str) -> bool:
    local, _, domain = value.partition("@")
    return (
        local in PLACEHOLDER_LOCAL_PARTS
        or local.startswith(("noemail", "nomail", "no-email"))
        or domain in PLACEHOLDER_DOMAINS
    )


def placeholder_phone(value: str) -> bool:
    """Digits no one dials: one or two digits repeated, or a run like 1234567890."""
    national = value.lstrip("+")[-10:]
    return len(set(national)) <= 2 or any(s in value for s in SEQUENCES)


def is_placeholder(key: IdentifierKey, denylist: frozenset[str]) -> bool:
    """True for throwaway values: built-in patterns, or the configured deny-list (which
    should hold each store's own phone number)."""
    if key.value.lower() in denylist:
        return True
    if key.type is IdentifierType.EMAIL:
        return _placeholder_email(key.value)
    if key.type is IdentifierType.PHONE:
        return placeholder_phone(key.value)
    return False
