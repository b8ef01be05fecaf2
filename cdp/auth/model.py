"""Scopes, callers and stored API keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cdp.channel import Channel
from cdp.clock import from_iso, to_iso
from cdp.store.port import Document


class Scope(StrEnum):
    PROFILES_READ = "profiles:read"
    PROFILES_WRITE = "profiles:write"
    LOYALTY_READ = "loyalty:read"
    LOYALTY_WRITE = "loyalty:write"
    LOYALTY_ADMIN = "loyalty:admin"
    IDENTITY_ADMIN = "identity:admin"
    EVENTS_WRITE = "events:write"
    WEBHOOKS_ADMIN = "webhooks:admin"
    KEYS_ADMIN = "keys:admin"
    ADMIN = "admin"


_READ = {Scope.PROFILES_READ, Scope.LOYALTY_READ}
_SHOP = _READ | {Scope.PROFILES_WRITE, Scope.LOYALTY_WRITE, Scope.EVENTS_WRITE}

PRESETS: dict[str, frozenset[Scope]] = {
    "pos": frozenset(_SHOP),
    "ecommerce": frozenset(_SHOP),
    "app": frozenset(_SHOP),
    "kiosk": frozenset(_READ | {Scope.PROFILES_WRITE}),
    "crm": frozenset(_READ | {Scope.PROFILES_WRITE, Scope.EVENTS_WRITE}),
    "admin": frozenset({Scope.ADMIN}),
}


PRESET_CHANNELS: dict[str, Channel] = {
    "pos": Channel.POS,
    "ecommerce": Channel.ECOMMERCE,
    "app": Channel.MOBILE_APP,
    "kiosk": Channel.KIOSK,
    "crm": Channel.CRM,
}


def channel_of(names: list[str]) -> Channel:
    """The channel a key's writes are recorded under: its first surface preset, else ADMIN."""
    return next((PRESET_CHANNELS[n] for n in names if n in PRESET_CHANNELS), Channel.ADMIN)


def expand_scopes(names: list[str]) -> frozenset[Scope]:
    """Scope names and surface presets (pos, app, ...) to scopes; ValueError on an unknown one."""
    scopes: set[Scope] = set()
    for name in names:
        if name in PRESETS:
            scopes |= PRESETS[name]
            continue
        try:
            scopes.add(Scope(name))
        except ValueError:
            known = ", ".join([*PRESETS, *(s.value for s in Scope)])
            raise ValueError(f"unknown scope {name!r}; known: {known}") from None
    return frozenset(scopes)


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated party behind one request or WebSocket connection."""

    key_id: str
    name: str
    scopes: frozenset[Scope]
    channel: Channel
    # Set for a customer token: the member it speaks for (None when no profile holds
    # the token's app user id yet).
    customer_profile_id: str | None = None
    is_customer: bool = False
    # A customer token's `exp` (seconds since the epoch): its authority ends there.
    expires_at: float | None = None

    def allows(self, scope: Scope) -> bool:
        return Scope.ADMIN in self.scopes or scope in self.scopes

    def lacks(self, scopes: frozenset[Scope]) -> list[Scope]:
        """Those of `scopes` this caller does not hold (`admin` only an admin holds)."""
        return sorted(s for s in scopes if not self.allows(s))


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    scopes: frozenset[Scope]
    secret_hash: str
    channel: Channel
    created_at: datetime
    revoked_at: datetime | None = None
    version: int = 0

    def to_doc(self) -> Document:
        return {
            "id": self.id,
            "version": self.version,
            "name": self.name,
            "scopes": sorted(s.value for s in self.scopes),
            "secret_hash": self.secret_hash,
            "channel": self.channel.value,
            "created_at": to_iso(self.created_at),
            "revoked_at": to_iso(self.revoked_at) if self.revoked_at else None,
        }

    @classmethod
    def from_doc(cls, doc: Document) -> ApiKey:
        revoked = doc.get("revoked_at")
        return cls(
            id=doc["id"],
            version=doc["version"],
            name=doc["name"],
            scopes=frozenset(Scope(s) for s in doc["scopes"]),
            secret_hash=doc["secret_hash"],
            channel=Channel(doc["channel"]),
            created_at=from_iso(doc["created_at"]),
            revoked_at=from_iso(revoked) if revoked else None,
        )
