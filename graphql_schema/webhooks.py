"""Webhook endpoints, deliveries and sync health as the contract shows them."""

from __future__ import annotations

from datetime import datetime

import strawberry

from cdp.webhooks import model
from cdp.webhooks.health import SyncHealth as DomainSyncHealth


@strawberry.type
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    events: list[str]
    active: bool
    created_at: datetime

    @classmethod
    def from_domain(cls, endpoint: model.Endpoint) -> WebhookEndpoint:
        return cls(
            id=strawberry.ID(endpoint.id),
            url=endpoint.url,
            events=list(endpoint.events),
            active=endpoint.active,
            created_at=endpoint.created_at,
        )


@strawberry.type
class WebhookEndpointCreated:
    endpoint: WebhookEndpoint
    secret: str


@strawberry.type
class WebhookDelivery:
    id: strawberry.ID
    endpoint: WebhookEndpoint
    event: str
    status: str
    attempts: int
    response_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def from_domain(cls, delivery: model.Delivery, endpoint: WebhookEndpoint) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(delivery.id),
            endpoint=endpoint,
            event=delivery.event,
            status=delivery.status.value,
            attempts=delivery.attempts,
            response_code=delivery.response_code,
            last_error=delivery.last_error,
            created_at=delivery.created_at,
            delivered_at=delivery.delivered_at,
        )


@strawberry.type
class SyncPoint:
    name: str
    attempts: int
    failures: int
    failure_rate: float
    alerting: bool
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_error: str | None


@strawberry.type
class SyncHealth:
    window_hours: int
    threshold: float
    points: list[SyncPoint]

    @classmethod
    def from_domain(cls, health: DomainSyncHealth) -> SyncHealth:
        return cls(
            window_hours=health.window_hours,
            threshold=health.threshold,
            points=[
                SyncPoint(
                    name=p.name,
                    attempts=p.attempts,
                    failures=p.failures,
                    failure_rate=p.failure_rate,
                    alerting=p.alerting,
                    last_success_at=p.last_success_at,
                    last_failure_at=p.last_failure_at,
                    last_error=p.last_error,
                )
                for p in health.points
            ],
        )
