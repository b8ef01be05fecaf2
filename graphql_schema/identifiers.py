"""Identifiers as the contract shows them, and as callers send them."""

from __future__ import annotations

from datetime import datetime

import strawberry

from cdp.identity import model
from graphql_schema.enums import Channel, IdentifierType


@strawberry.type
class Identifier:
    type: IdentifierType
    value: str
    verified: bool
    source: Channel
    linked_at: datetime

    @classmethod
    def from_domain(cls, identifier: model.Identifier) -> Identifier:
        return cls(
            type=identifier.type,
            value=identifier.value,
            verified=identifier.verified,
            source=identifier.source,
            linked_at=identifier.linked_at,
        )


@strawberry.input
class IdentifierInput:
    type: IdentifierType
    value: str
