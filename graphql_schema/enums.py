"""Enums shared by several areas of the schema, taken from the domain."""

from __future__ import annotations

import strawberry

from cdp.channel import Channel as DomainChannel
from cdp.identity.model import IdentifierType as DomainIdentifierType
from cdp.identity.model import ProfileStatus as DomainProfileStatus

Channel = strawberry.enum(DomainChannel, name="Channel")
IdentifierType = strawberry.enum(DomainIdentifierType, name="IdentifierType")
ProfileStatus = strawberry.enum(DomainProfileStatus, name="ProfileStatus")
