"""Merge protection: per-type identifier limits that no profile may break.

A merge, an enrollment linking to a member, or an event stitching identifiers onto a
profile that would break one goes to review instead.

Emails and POS ids per POS system are bounded by settings: a legacy POS export gives a
person one id per visit or per till, so several ids of one system are one person's
history and the default lets the merges imports and audits propose go through. An app
account (APP_USER_ID) is what a member logs in with, and a customer token reads the
profile its account belongs to: two in one profile would let either login read and
spend the other's points, so a profile holds one, and a pair holding two goes to a
person. (Loyalty cards are not limited: a member who lost a card and got another is
one member with two cards.)
"""

from __future__ import annotations

from collections import Counter

from cdp.errors import Conflict
from cdp.identity.model import IdentifierType, Profile
from cdp.settings import Settings


class MergeBlocked(Conflict):
    """The merge would break a per-type identifier limit (merge protection)."""


def pos_system(value: str) -> str:
    """A POS id written "SYSTEM:ID" belongs to SYSTEM; without a prefix, to the default one."""
    return value.split(":", 1)[0] if ":" in value else "default"


def check_limits(survivor: Profile, merged: Profile, settings: Settings) -> None:
    """At most `max_emails_per_profile` emails, `max_pos_ids_per_system` POS ids of each
    POS system, and one app account."""
    identifiers = {i.key: i for i in (*survivor.identifiers, *merged.identifiers)}.values()
    counts = Counter(i.type for i in identifiers)
    if counts[IdentifierType.EMAIL] > settings.max_emails_per_profile:
        raise MergeBlocked(
            f"the merged profile would hold {counts[IdentifierType.EMAIL]} emails "
            f"(limit {settings.max_emails_per_profile})"
        )
    if counts[IdentifierType.APP_USER_ID] > 1:
        raise MergeBlocked(
            f"the merged profile would hold {counts[IdentifierType.APP_USER_ID]} app accounts"
        )
    systems = Counter(
        pos_system(i.value) for i in identifiers if i.type is IdentifierType.POS_CUSTOMER_ID
    )
    for system, held in sorted(systems.items()):
        if held > settings.max_pos_ids_per_system:
            limit = settings.max_pos_ids_per_system
            raise MergeBlocked(
                f"the merged profile would hold {held} POS ids of system {system!r} (limit {limit})"
            )


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
