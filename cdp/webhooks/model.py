"""Webhook endpoints, deliveries (the outbox) and the event types they carry."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from cdp.clock import from_iso, to_iso
from cdp.store.port import Document

EVENT_TYPES = (
    "profile.created",
    "profile.updated",
    "profile.merged",
    "profile.unmerged",
    "profile.forgotten",
    "points.earned",
    "points.redeemed",
    "points.reversed",
    "points.expired",
    "points.adjusted",
    "tier.changed",
)


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"  # the last attempt failed; another is scheduled
    DEAD = "DEAD"  # gave up after the configured attempts or age


def _dt(text: str | None) -> datetime | None:
    return from_iso(text) if text else None


@dataclass(frozen=True, slots=True)
class Endpoint:
    id: str
    url: str
    events: tuple[str, ...]
    secret: str
    active: bool
    created_at: datetime
    version: int = 0

    def wants(self, event_type: str) -> bool:
        return self.active and ("*" in self.events or event_type in self.events)

    def to_doc(self) -> Document:
        return {
            "id": self.id,
            "version": self.version,
            "url": self.url,
            "events": list(self.events),
            "secret": self.secret,
            "active": self.active,
            "created_at": to_iso(self.created_at),
        }

    @classmethod
    def from_doc(cls, doc: Document) -> Endpoint:
        return cls(
            id=doc["id"],
            version=doc["version"],
            url=doc["url"],
            events=tuple(doc["events"]),
            secret=doc["secret"],
            active=doc["active"],
            created_at=from_iso(doc["created_at"]),
        )


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str
    endpoint_id: str
    event: str
    profile_id: str | None
    payload: dict[str, Any]
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    sort_key: str
    response_code: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    lease_until: datetime | None = None
    version: int = 0

    def next(self, **changes: Any) -> Delivery:
        return replace(self, version=self.version + 1, **changes)

    def to_doc(self) -> Document:
        return {
            "id": self.id,
            "version": self.version,
            "endpoint_id": self.endpoint_id,
            "event": self.event,
            "profile_id": self.profile_id,
            "payload": self.payload,
            "status": self.status.value,
            "attempts": self.attempts,
            "next_attempt_at": to_iso(self.next_attempt_at),
            "created_at": to_iso(self.created_at),
            "sort_key": self.sort_key,
            "response_code": self.response_code,
            "last_error": self.last_error,
            "delivered_at": to_iso(self.delivered_at) if self.delivered_at else None,
            "lease_until": to_iso(self.lease_until) if self.lease_until else None,
        }

    @classmethod
    def from_doc(cls, doc: Document) -> Delivery:
        return cls(
            id=doc["id"],
            version=doc["version"],
            endpoint_id=doc["endpoint_id"],
            event=doc["event"],
            profile_id=doc.get("profile_id"),
            payload=doc["payload"],
            status=DeliveryStatus(doc["status"]),
            attempts=doc["attempts"],
            next_attempt_at=from_iso(doc["next_attempt_at"]),
            created_at=from_iso(doc["created_at"]),
            sort_key=doc["sort_key"],
            response_code=doc.get("response_code"),
            last_error=doc.get("last_error"),
            delivered_at=_dt(doc.get("delivered_at")),
            lease_until=_dt(doc.get("lease_until")),
        )
