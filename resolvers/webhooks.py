"""Outbound webhooks and sync health (scope webhooks:admin)."""

from __future__ import annotations

import strawberry

from cdp.auth.model import Scope
from cdp.errors import NotFound
from cdp.webhooks import service
from cdp.webhooks.health import sync_health as health
from graphql_schema.webhooks import (
    SyncHealth,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointCreated,
)
from resolvers.context import Info
from resolvers.inputs import capped
from resolvers.permissions import require


async def _endpoint(info: Info, endpoint_id: str) -> WebhookEndpoint:
    found = await service.get_endpoint(info.context.runtime, endpoint_id)
    if found is None:
        raise NotFound(f"webhook endpoint {endpoint_id} not found")
    return WebhookEndpoint.from_domain(found)


async def sync_health(info: Info, window_hours: int | None = 24) -> SyncHealth:
    await require(info, Scope.WEBHOOKS_ADMIN)
    report = await health(
        info.context.runtime, window_hours=24 if window_hours is None else window_hours
    )
    return SyncHealth.from_domain(report)


async def webhook_deliveries(
    info: Info,
    endpoint_id: strawberry.ID | None = None,
    status: str | None = None,
    first: int | None = 20,
) -> list[WebhookDelivery]:
    await require(info, Scope.WEBHOOKS_ADMIN)
    found = await service.deliveries(
        info.context.runtime,
        endpoint_id=str(endpoint_id) if endpoint_id else None,
        status=status,
        first=20 if first is None else first,
    )
    endpoints: dict[str, WebhookEndpoint] = {}
    listed = []
    for delivery in found:
        if delivery.endpoint_id not in endpoints:
            endpoints[delivery.endpoint_id] = await _endpoint(info, delivery.endpoint_id)
        listed.append(WebhookDelivery.from_domain(delivery, endpoints[delivery.endpoint_id]))
    return listed


async def register_webhook(info: Info, url: str, events: list[str]) -> WebhookEndpointCreated:
    await require(info, Scope.WEBHOOKS_ADMIN)
    capped("events", events)
    endpoint = await service.register_webhook(info.context.runtime, url=url, events=events)
    return WebhookEndpointCreated(
        endpoint=WebhookEndpoint.from_domain(endpoint), secret=endpoint.secret
    )


async def disable_webhook(info: Info, id: strawberry.ID) -> WebhookEndpoint:
    await require(info, Scope.WEBHOOKS_ADMIN)
    endpoint = await service.disable_webhook(info.context.runtime, endpoint_id=str(id))
    return WebhookEndpoint.from_domain(endpoint)


async def redeliver_webhook(info: Info, delivery_id: strawberry.ID) -> WebhookDelivery:
    await require(info, Scope.WEBHOOKS_ADMIN)
    delivery = await service.redeliver(info.context.runtime, delivery_id=str(delivery_id))
    return WebhookDelivery.from_domain(delivery, await _endpoint(info, delivery.endpoint_id))
