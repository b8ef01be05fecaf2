"""Inbound payloads -> the same service calls the GraphQL mutations make.

Two mappings ship: our own format (docs/webhooks.md) and a Shopify-shaped one
(customers/create, orders/paid, refunds/create). Each returns the work to do as a
coroutine factory, so rules never diverge between the webhook and the GraphQL path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

from cdp.channel import Channel
from cdp.enrollment.service import enroll
from cdp.errors import BadInput
from cdp.events.service import Event, record_events
from cdp.identity.model import IdentifierType, PersonalData
from cdp.identity.service import RawIdentifier
from cdp.loyalty.model import LineItem
from cdp.loyalty.purchases import Purchase, Return, record_purchase, record_return
from cdp.runtime import Runtime

Work = Callable[[Runtime], Awaitable[str | None]]  # returns the profile id it touched


def _field(data: dict[str, Any], name: str, kind: type, required: bool = True) -> Any:
    value = data.get(name)
    if value is None:
        if required:
            raise BadInput(f"{name} is required")
        return None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is float and isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise BadInput(f"{name} must be a number") from None
    if not isinstance(value, kind):
        raise BadInput(f"{name} must be a {kind.__name__}")
    return value


def _moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise BadInput("timestamps must be ISO-8601 with an offset") from None


def _lines(items: Any) -> list[LineItem]:
    if not isinstance(items, list) or not items:
        raise BadInput("lines must be a non-empty list")
    lines = []
    for item in items:
        if not isinstance(item, dict):
            raise BadInput("each line must be an object")
        lines.append(
            LineItem(
                sku=_field(item, "sku", str, False),
                category=_field(item, "category", str, False),
                quantity=_field(item, "quantity", int, False) or 1,
                amount=_field(item, "amount", float),
            )
        )
    return lines


def _identifier(data: dict[str, Any]) -> RawIdentifier:
    raw = _field(data, "identifier", dict)
    try:
        kind = IdentifierType(_field(raw, "type", str))
    except ValueError:
        raise BadInput("identifier.type is not an identifier type") from None
    return RawIdentifier(kind, _field(raw, "value", str))


def _personal(data: dict[str, Any]) -> PersonalData:
    birth = _field(data, "birth_date", str, False)
    try:
        birth_date = date.fromisoformat(birth) if birth else None
    except ValueError:
        raise BadInput("birth_date must be YYYY-MM-DD") from None
    return PersonalData(
        first_name=_field(data, "first_name", str, False),
        last_name=_field(data, "last_name", str, False),
        email=_field(data, "email", str, False),
        phone=_field(data, "phone", str, False),
        postal_code=_field(data, "postal_code", str, False),
        birth_date=birth_date,
        street_address=_field(data, "street_address", str, False),
    )


def _profile_work(channel: Channel, personal: PersonalData, event_id: str) -> Work:
    """Enroll when the required fields are there; otherwise stitch what identifies them."""

    async def work(rt: Runtime) -> str | None:
        if all(getattr(personal, f) for f in rt.settings.required_fields):
            return (await enroll(rt, channel=channel, personal=personal)).profile.id
        identifiers = [
            RawIdentifier(kind, value)
            for kind, value in (
                (IdentifierType.EMAIL, personal.email),
                (IdentifierType.PHONE, personal.phone),
            )
            if value
        ]
        if not identifiers:
            raise BadInput("a profile needs an email or a phone")
        event = Event(event_id, "profile_received", channel, identifiers)
        result = (await record_events(rt, [event], actor="webhook"))[0]
        if not result.accepted:
            raise BadInput(result.error or "profile not accepted")
        return result.profile_id

    return work


def cdp_format(body: dict[str, Any], channel: Channel) -> tuple[str, Work]:
    """{"id": ..., "type": "purchase"|"return"|"profile", "data": {...}} (docs/webhooks.md)."""
    event_id = _field(body, "id", str)
    kind = _field(body, "type", str)
    data = _field(body, "data", dict)
    if kind == "purchase":
        purchase = Purchase(
            channel=channel,
            order_id=_field(data, "order_id", str),
            identifier=_identifier(data),
            lines=_lines(data.get("lines")),
            store_id=_field(data, "store_id", str, False),
            register_id=_field(data, "register_id", str, False),
            occurred_at=_moment(data.get("occurred_at")),
        )

        async def purchase_work(rt: Runtime) -> str | None:
            return (await record_purchase(rt, purchase)).profile_id

        return event_id, purchase_work
    if kind == "return":
        returned = Return(
            channel=channel,
            order_id=_field(data, "order_id", str),
            return_id=_field(data, "return_id", str),
            lines=_lines(data.get("lines")),
            occurred_at=_moment(data.get("occurred_at")),
        )

        async def return_work(rt: Runtime) -> str | None:
            return (await record_return(rt, returned)).profile_id

        return event_id, return_work
    if kind == "profile":
        return event_id, _profile_work(channel, _personal(data), event_id)
    raise BadInput(f"unknown event type {kind!r}; known: purchase, return, profile")


def _shopify_lines(items: Any, amount_key: str, nested: bool = False) -> list[LineItem]:
    if not isinstance(items, list) or not items:
        raise BadInput("no line items")
    lines = []
    for item in items:
        line = item.get("line_item", {}) if nested else item
        quantity = int(item.get("quantity") or 1)
        price = item.get(amount_key)
        amount = float(price) * (1 if nested else quantity) if price is not None else None
        if amount is None:
            raise BadInput(f"line item without {amount_key}")
        lines.append(
            LineItem(line.get("sku") or None, line.get("product_type") or None, quantity, amount)
        )
    return lines


def shopify_format(topic: str, event_id: str, body: dict[str, Any], channel: Channel) -> Work:
    """Shopify-shaped: customers/create, orders/paid, refunds/create."""
    if topic == "customers/create":
        address = body.get("default_address") or {}
        personal = PersonalData(
            first_name=body.get("first_name"),
            last_name=body.get("last_name"),
            email=body.get("email"),
            phone=body.get("phone"),
            postal_code=address.get("zip"),
            street_address=address.get("address1"),
        )
        return _profile_work(channel, personal, event_id)
    if topic == "orders/paid":
        customer = body.get("customer") or {}
        email = body.get("email") or customer.get("email")
        if not email:
            raise BadInput("order without a customer email")
        purchase = Purchase(
            channel=channel,
            order_id=str(_field(body, "id", int if isinstance(body.get("id"), int) else str)),
            identifier=RawIdentifier(IdentifierType.EMAIL, email),
            lines=_shopify_lines(body.get("line_items"), "price"),
            occurred_at=_moment(body.get("processed_at") or body.get("created_at")),
        )

        async def order_work(rt: Runtime) -> str | None:
            return (await record_purchase(rt, purchase)).profile_id

        return order_work
    if topic == "refunds/create":
        returned = Return(
            channel=channel,
            order_id=str(body.get("order_id") or ""),
            return_id=str(body.get("id") or ""),
            lines=_shopify_lines(body.get("refund_line_items"), "subtotal", nested=True),
        )

        async def refund_work(rt: Runtime) -> str | None:
            return (await record_return(rt, returned)).profile_id

        return refund_work
    raise BadInput(
        f"unsupported topic {topic!r}; supported: customers/create, orders/paid, refunds/create"
    )
