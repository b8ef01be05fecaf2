"""What an outbound webhook carries: a documented, versioned contract with the receiver.

It is built field by field from the change, never copied from the stored documents, so
the storage format can change (lots moving out of the profile, internal bookkeeping)
without the CRM noticing. docs/webhooks.md documents every field and event, and a test
checks every event type against its documented example. A breaking change bumps
`SCHEMA_VERSION`; new fields may be added within one.
"""

from __future__ import annotations

from typing import Any

from cdp.clock import to_iso
from cdp.identity.model import Identifier, PersonalData, Profile
from cdp.loyalty.model import LedgerEntry
from cdp.updates import ProfileUpdate

SCHEMA_VERSION = 2
# The person in a payload: what erasure blanks (with the identifiers).
PERSONAL_FIELDS = ("first_name", "last_name", "email", "phone", "postal_code", "birth_date")

Json = dict[str, Any]


def _when(moment: Any) -> str | None:
    return to_iso(moment) if moment is not None else None


def _personal(personal: PersonalData) -> Json:
    birth = personal.birth_date
    return {
        "first_name": personal.first_name,
        "last_name": personal.last_name,
        "email": personal.email,
        "phone": personal.phone,
        "postal_code": personal.postal_code,
        "birth_date": birth.isoformat() if birth else None,
    }


def _identifier(identifier: Identifier) -> Json:
    return {
        "type": identifier.type.value,
        "value": identifier.value,
        "verified": identifier.verified,
        "source": identifier.source.value,
    }


def _profile(profile: Profile) -> Json:
    enrollment = profile.enrollment
    return {
        "id": profile.id,
        "version": profile.version,
        "status": profile.status.value,
        "merged_into": profile.merged_into,
        "merged_from": list(profile.merged_from),
        "enrollment_method": enrollment.method.value if enrollment else None,
        "enrollment_channel": enrollment.channel.value if enrollment else None,
        "enrolled_at": _when(enrollment.enrolled_at) if enrollment else None,
        **_personal(profile.personal),
        "identifiers": [_identifier(i) for i in profile.identifiers],
    }


def _entry(entry: LedgerEntry) -> Json:
    return {
        "id": entry.id,
        "type": entry.type.value,
        "points": entry.points,
        "balance_after": entry.balance_after,
        "channel": entry.channel.value,
        "order_id": entry.order_id,
        "reason": entry.reason,
        "created_at": to_iso(entry.created_at),
        "available_at": _when(entry.available_at),
        "expires_at": _when(entry.expires_at),
    }


def webhook_payload(update: ProfileUpdate, event_type: str, delivery_id: str) -> Json:
    """The body of one delivery (schema version 2, docs/webhooks.md)."""
    profile = update.profile
    account = profile.loyalty
    balance, pending = account.balance, account.pending  # as committed: see PushedUpdate
    return {
        "schema_version": SCHEMA_VERSION,
        "id": delivery_id,
        "type": event_type,
        "occurred_at": to_iso(update.at),
        "profile": _profile(profile),
        "loyalty": {
            "balance": balance,
            "pending": pending,
            "lifetime": account.lifetime,
            "tier": account.tier_id,
            "tier_changed": update.tier_changed,
        },
        "entry": _entry(update.entry) if update.entry else None,
    }


def redacted(payload: Json) -> Json | None:
    """The payload without the person (for erasure), or None when there is no one in it.

    Deliveries queued before schema version 2 (kept for redelivery) hold the person
    under `profile.personal`; those are blanked too.
    """
    held: Json = payload.get("profile") or {}
    if payload.get("schema_version") == SCHEMA_VERSION:
        erased = {**held, **dict.fromkeys(PERSONAL_FIELDS), "identifiers": []}
    else:
        erased = {**held, "personal": PersonalData().to_doc(), "identifiers": []}
    if erased == held:
        return None
    return {**payload, "profile": erased}
