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
