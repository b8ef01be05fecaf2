"""Registering endpoints and looking after their deliveries."""

from __future__ import annotations

import secrets
from dataclasses import replace
from urllib.parse import urlsplit

from cdp.errors import BadInput, NotFound
from cdp.ids import new_id
from cdp.runtime import Runtime
from cdp.store.catalogue import DELIVERIES, WEBHOOK_ENDPOINTS
from cdp.store.port import Query
from cdp.store.unit_of_work import UnitOfWork
from cdp.webhooks.model import EVENT_TYPES, Delivery, DeliveryStatus, Endpoint
from cdp.webhooks.targets import check_target

MAX_URL = 2048
MAX_LISTED = 100


def _checked_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > MAX_URL:
        raise BadInput("url must be an absolute http(s) URL")
    return url


def _checked_events(events: list[str]) -> tuple[str, ...]:
    if not events:
        raise BadInput("events must name at least one event type (or *)")
    unknown = sorted(set(events) - {*EVENT_TYPES, "*"})
    if unknown:
        raise BadInput(f"unknown event types {unknown}; known: {', '.join(EVENT_TYPES)}")
    return tuple(dict.fromkeys(events))


async def register_webhook(rt: Runtime, *, url: str, events: list[str]) -> Endpoint:
    """A new endpoint with its own signing secret (returned once, by the caller).

    Only public targets, unless the settings allow private ones (cdp/webhooks/targets.py).
    """
    checked = _checked_url(url)
    await check_target(checked, allow_private=rt.settings.webhook_allow_private_targets)
    endpoint = Endpoint(
        id=new_id("wh"),
        url=checked,
        events=_checked_events(events),
        secret=secrets.token_hex(32),
        active=True,
        created_at=rt.clock.now(),
    )

    async def use_case(uow: UnitOfWork) -> Endpoint:
        uow.insert(WEBHOOK_ENDPOINTS, endpoint.to_doc())
        return endpoint

    created = await rt.transaction(use_case)
    rt.outbox.invalidate()
    return created


async def disable_webhook(rt: Runtime, *, endpoint_id: str) -> Endpoint:
    """No new deliveries from now on; queued ones are given up by the dispatcher."""

    async def use_case(uow: UnitOfWork) -> Endpoint:
        doc = await uow.get(WEBHOOK_ENDPOINTS, endpoint_id)
        if doc is None:
            raise NotFound(f"webhook endpoint {endpoint_id} not found")
        endpoint = Endpoint.from_doc(doc)
        if not endpoint.active:
            return endpoint
        disabled = replace(endpoint, active=False, version=endpoint.version + 1)
        uow.replace(WEBHOOK_ENDPOINTS, disabled.to_doc(), endpoint.version)
        return disabled

    endpoint = await rt.transaction(use_case)
    rt.outbox.invalidate()
    return endpoint


async def get_endpoint(rt: Runtime, endpoint_id: str) -> Endpoint | None:
    doc = await rt.store.get(WEBHOOK_ENDPOINTS, endpoint_id)
    return Endpoint.from_doc(doc) if doc else None


async def list_endpoints(rt: Runtime) -> list[Endpoint]:
    return [Endpoint.from_doc(d) for d in await rt.store.find(Query(WEBHOOK_ENDPOINTS, {}))]


async def redeliver(rt: Runtime, *, delivery_id: str) -> Delivery:
    """Send a delivery again as soon as possible (a DEAD one included)."""

    async def use_case(uow: UnitOfWork) -> Delivery:
        doc = await uow.get(DELIVERIES, delivery_id)
        if doc is None:
            raise NotFound(f"delivery {delivery_id} not found")
        delivery = Delivery.from_doc(doc)
        again = delivery.next(
            status=DeliveryStatus.PENDING, next_attempt_at=rt.clock.now(), lease_until=None
        )
        uow.replace(DELIVERIES, again.to_doc(), delivery.version)
        return again

    return await rt.transaction(use_case)


async def deliveries(
    rt: Runtime, *, endpoint_id: str | None, status: str | None, first: int
) -> list[Delivery]:
    """Newest first, for one endpoint (or all) and one status (or any)."""
    if not 1 <= first <= MAX_LISTED:
        raise BadInput(f"first must be 1 to {MAX_LISTED}")
    if status is not None and status not in DeliveryStatus.__members__:
        raise BadInput(f"status must be one of {', '.join(DeliveryStatus.__members__)}")
    where: dict[str, object] = {}
    if endpoint_id is not None:
        where["endpoint_id"] = endpoint_id
    if status is not None:
        where["status"] = status
    docs = await rt.store.find(
        Query(DELIVERIES, where, order_by="sort_key", descending=True, limit=first)
    )
    return [Delivery.from_doc(d) for d in docs]
