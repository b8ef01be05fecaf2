"""Profiles, identifiers and their stored form."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from cdp.channel import Channel
from cdp.clock import from_iso, to_iso
from cdp.loyalty.model import Account
from cdp.store.port import Document
from cdp.store.schema import SCHEMA_VERSION


class IdentifierType(StrEnum):
    EMAIL = "EMAIL"
    PHONE = "PHONE"
    DEVICE_ID = "DEVICE_ID"
    COOKIE_ID = "COOKIE_ID"
    POS_CUSTOMER_ID = "POS_CUSTOMER_ID"
    LOYALTY_CARD = "LOYALTY_CARD"
    APP_USER_ID = "APP_USER_ID"
    CRM_CONTACT_ID = "CRM_CONTACT_ID"


class ProfileStatus(StrEnum):
    ALLOCATED = "ALLOCATED"
    ENROLLED = "ENROLLED"
    MERGED = "MERGED"
    FORGOTTEN = "FORGOTTEN"


@dataclass(frozen=True, slots=True)
class IdentifierKey:
    """An identifier after normalization: the unit of uniqueness (invariant 1)."""

    type: IdentifierType
    value: str

    @property
    def key(self) -> str:
        return f"{self.type.value}:{self.value}"


@dataclass(frozen=True, slots=True)
class Identifier:
    type: IdentifierType
    value: str
    verified: bool
    source: Channel
    linked_at: datetime

    @property
    def key(self) -> str:
        return IdentifierKey(self.type, self.value).key

    def to_doc(self) -> Document:
        return {
            "type": self.type.value,
            "value": self.value,
            "verified": self.verified,
            "source": self.source.value,
            "linked_at": to_iso(self.linked_at),
        }

    @classmethod
    def from_doc(cls, doc: Document) -> Identifier:
        return cls(
            type=IdentifierType(doc["type"]),
            value=doc["value"],
            verified=doc["verified"],
            source=Channel(doc["source"]),
            linked_at=from_iso(doc["linked_at"]),
        )


@dataclass(frozen=True, slots=True)
class PersonalData:
    """What a member tells us about themselves; every field optional."""

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    postal_code: str | None = None
    birth_date: date | None = None
    street_address: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    def to_doc(self) -> Document:
        return {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "phone": self.phone,
            "postal_code": self.postal_code,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "street_address": self.street_address,
            "attributes": self.attributes,
        }

    @classmethod
    def from_doc(cls, doc: Document) -> PersonalData:
        birth = doc.get("birth_date")
        return cls(
            first_name=doc.get("first_name"),
            last_name=doc.get("last_name"),
            email=doc.get("email"),
            phone=doc.get("phone"),
            postal_code=doc.get("postal_code"),
            birth_date=date.fromisoformat(birth) if birth else None,
            street_address=doc.get("street_address"),
            attributes=doc.get("attributes") or {},
        )


class EnrollmentMethod(StrEnum):
    STANDARD = "STANDARD"
    AUTO = "AUTO"
    ALLOCATION = "ALLOCATION"
    IMPORT = "IMPORT"


@dataclass(frozen=True, slots=True)
class Enrollment:
    method: EnrollmentMethod
    channel: Channel
    enrolled_at: datetime | None  # None while ALLOCATED

    def to_doc(self) -> Document:
        return {
            "method": self.method.value,
            "channel": self.channel.value,
            "enrolled_at": to_iso(self.enrolled_at) if self.enrolled_at else None,
        }

    @classmethod
    def from_doc(cls, doc: Document | None) -> Enrollment | None:
        if not doc:
            return None
        enrolled = doc.get("enrolled_at")
        return cls(
            EnrollmentMethod(doc["method"]),
            Channel(doc["channel"]),
            from_iso(enrolled) if enrolled else None,
        )


@dataclass(frozen=True, slots=True)
class Profile:
    id: str
    version: int
    status: ProfileStatus
    personal: PersonalData
    identifiers: tuple[Identifier, ...]
    created_at: datetime
    updated_at: datetime
    merged_into: str | None = None
    merged_from: tuple[str, ...] = ()
    enrollment: Enrollment | None = None
    loyalty: Account = field(default_factory=Account)
    # When the jobs next have work on this profile (pending release, expiry, tier review).
    due_at: datetime | None = None

    @property
    def history_ids(self) -> tuple[str, ...]:
        """Whose ledger and redemptions make up this profile's history."""
        return (self.id, *self.merged_from)

    def changed(self, at: datetime, **changes: Any) -> Profile:
        """The next version of this profile (invariant 6: +1 on every change)."""
        return replace(self, version=self.version + 1, updated_at=at, **changes)

    def with_identifier(self, identifier: Identifier, at: datetime) -> Profile:
        kept = tuple(i for i in self.identifiers if i.key != identifier.key)
        return self.changed(at, identifiers=(*kept, identifier))

    def to_doc(self) -> Document:
        return {
            "id": self.id,
            "version": self.version,
            "schema": SCHEMA_VERSION,
            "status": self.status.value,
            "personal": self.personal.to_doc(),
            "identifiers": [i.to_doc() for i in self.identifiers],
            "created_at": to_iso(self.created_at),
            "updated_at": to_iso(self.updated_at),
            "merged_into": self.merged_into,
            "merged_from": list(self.merged_from),
            "enrollment": self.enrollment.to_doc() if self.enrollment else None,
            "loyalty": self.loyalty.to_doc(),
            "due_at": to_iso(self.due_at) if self.due_at else None,
        }

    @classmethod
    def from_doc(cls, doc: Document) -> Profile:
        return cls(
            id=doc["id"],
            version=doc["version"],
            status=ProfileStatus(doc["status"]),
            personal=PersonalData.from_doc(doc["personal"]),
            identifiers=tuple(Identifier.from_doc(i) for i in doc["identifiers"]),
            created_at=from_iso(doc["created_at"]),
            updated_at=from_iso(doc["updated_at"]),
            merged_into=doc.get("merged_into"),
            merged_from=tuple(doc.get("merged_from") or ()),
            enrollment=Enrollment.from_doc(doc.get("enrollment")),
            loyalty=Account.from_doc(doc.get("loyalty")),
            due_at=from_iso(doc["due_at"]) if doc.get("due_at") else None,
        )


def identifier_link_doc(profile_id: str, key: IdentifierKey) -> Document:
    """The row in the identifiers collection that points one key at one profile."""
    return {"id": key.key, "type": key.type.value, "value": key.value, "profile_id": profile_id}
