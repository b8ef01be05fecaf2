"""Merge protection: per-type identifier limits that no profile may break.

A merge, an enrollment linking to a member, or an event stitching identifiers onto a
profile that would break one goes to review instead.
"""

from __future__ import annotations

from cdp.errors import Conflict
from cdp.identity.model import IdentifierType, Profile


class MergeBlocked(Conflict):
    """The merge would break a per-type identifier limit (merge protection)."""


def check_limits(survivor: Profile, merged: Profile, max_emails: int) -> None:
    """Per-type limits: at most `max_emails` emails, one POS id per POS system.

    A POS id written "SYSTEM:ID" belongs to SYSTEM; without a prefix, to the default one.
    """
    identifiers = {i.key: i for i in (*survivor.identifiers, *merged.identifiers)}.values()
    emails = [i for i in identifiers if i.type is IdentifierType.EMAIL]
    if len(emails) > max_emails:
        raise MergeBlocked(
            f"the merged profile would hold {len(emails)} emails (limit {max_emails})"
        )
    systems: dict[str, str] = {}
    for identifier in identifiers:
        if identifier.type is not IdentifierType.POS_CUSTOMER_ID:
            continue
        system = identifier.value.split(":", 1)[0] if ":" in identifier.value else "default"
        if systems.setdefault(system, identifier.value) != identifier.value:
            raise MergeBlocked(f"the merged profile would hold two POS ids of system {system!r}")


# Identifiers that authenticate a customer: a customer token names its member by app user
# id, a till by card, the CRM by its contact id. Whoever attaches one to a profile can
# spend that profile's points, so only identity:admin callers (and the operator) may.
CREDENTIAL_TYPES = frozenset(
    {IdentifierType.APP_USER_ID, IdentifierType.CRM_CONTACT_ID, IdentifierType.LOYALTY_CARD}
)
CREDENTIAL_SCOPE = "identity:admin"


def credentials_of(profile: Profile) -> list[IdentifierType]:
    return sorted({i.type for i in profile.identifiers if i.type in CREDENTIAL_TYPES})


def check_credential_link(before: Profile, after: Profile) -> None:
    """A caller without identity:admin may not add a credential-grade identifier to an
    existing profile: the record goes to review beside it instead (as merge protection)."""
    held = {i.key for i in before.identifiers}
    added = sorted({i.type for i in after.identifiers if i.key not in held} & CREDENTIAL_TYPES)
    if added:
        raise MergeBlocked(
            f"linking {added[0].value} to an existing profile needs the {CREDENTIAL_SCOPE} scope"
        )


def check_credential_merge(survivor: Profile, merged: Profile) -> None:
    """A caller without identity:admin may not merge a profile holding credential-grade
    identifiers with one that has something to lose (points, a name, an enrollment, any
    identifier but cookies and devices): those credentials would reach it. An anonymous
    profile still joins a member's."""
    for holder, other in ((survivor, merged), (merged, survivor)):
        held = credentials_of(holder)
        if held and _has_something_to_lose(other):
            raise MergeBlocked(
                f"merging a profile holding {held[0].value} needs the {CREDENTIAL_SCOPE} scope"
            )


# What a browser or a device leaves behind: identifies no one by itself.
ANONYMOUS_TYPES = frozenset({IdentifierType.COOKIE_ID, IdentifierType.DEVICE_ID})


def _has_something_to_lose(profile: Profile) -> bool:
    personal = profile.personal
    return bool(
        profile.loyalty.balance
        or profile.loyalty.pending
        or profile.enrollment is not None
        or personal.first_name
        or personal.last_name
        or any(i.type not in ANONYMOUS_TYPES for i in profile.identifiers)
    )
