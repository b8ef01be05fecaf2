"""The outbox: every committed change becomes deliveries, in the same commit (invariant 7).

A runtime commit hook turns the unit of work's ProfileUpdate events into one delivery per
subscribed endpoint and event type, staged beside the change: a rollback drops both, a
commit keeps both, and a crash after the commit loses nothing because the dispatcher
reads the deliveries from the store. Active endpoints are cached for a couple of seconds
per process; registering or disabling one refreshes this process at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator, Sequence

from cdp.clock import to_iso
from cdp.ids import new_id
from cdp.store.catalogue import DELIVERIES, WEBHOOK_ENDPOINTS
from cdp.store.port import Query, Store
from cdp.store.unit_of_work import UnitOfWork
from cdp.updates import ProfileUpdate, UpdateKind
from cdp.webhooks.model import Delivery, DeliveryStatus, Endpoint
from cdp.webhooks.payloads import webhook_payload

CACHE_SECONDS = 2.0

_KIND_EVENTS: dict[UpdateKind, str] = {
    UpdateKind.ENROLLED: "profile.updated",
    UpdateKind.PROFILE_CHANGED: "profile.updated",
    UpdateKind.IDENTIFIER_LINKED: "profile.updated",
    UpdateKind.POINTS_EARNED: "points.earned",
    UpdateKind.POINTS_REDEEMED: "points.redeemed",
    UpdateKind.POINTS_REVERSED: "points.reversed",
    UpdateKind.POINTS_EXPIRED: "points.expired",
    UpdateKind.POINTS_ADJUSTED: "points.adjusted",
    UpdateKind.TIER_CHANGED: "tier.changed",
    UpdateKind.MERGED: "profile.merged",
    UpdateKind.UNMERGED: "profile.unmerged",
    UpdateKind.FORGOTTEN: "profile.forgotten",
}


def event_types(update: ProfileUpdate) -> Iterator[str]:
    """The webhook events one update stands for (a first version is also a creation)."""
    if update.profile.version == 1:
        yield "profile.created"
    main = _KIND_EVENTS[update.kind]
    if not (main == "profile.updated" and update.profile.version == 1):
        yield main
    if update.tier_changed and main != "tier.changed":
        yield "tier.changed"


class Outbox:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._cached: list[Endpoint] = []
        self._expires = 0.0
        self._committed = asyncio.Event()

    def committed(self, events: Sequence[object]) -> None:
        """After a commit: wake this process's dispatcher if the change may have queued
        deliveries, so they leave now rather than at its next poll."""
        if self._cached and any(isinstance(e, ProfileUpdate) for e in events):
            self._committed.set()

    async def wait(self, poll_seconds: float) -> None:
        """Until a commit here may have queued deliveries, or `poll_seconds` have passed
        (other processes' commits, and retries that come due, are found by polling)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._committed.wait(), poll_seconds)
        self._committed.clear()

    def invalidate(self) -> None:
        self._expires = 0.0

    async def active_endpoints(self) -> list[Endpoint]:
        if time.monotonic() >= self._expires:
            docs = await self._store.find(Query(WEBHOOK_ENDPOINTS, {"active": True}))
            self._cached = [Endpoint.from_doc(d) for d in docs]
            self._expires = time.monotonic() + CACHE_SECONDS
        return self._cached

    async def stage(self, uow: UnitOfWork) -> None:
        """Commit hook: one delivery per endpoint that wants each event of this change."""
        updates = [e for e in uow.events if isinstance(e, ProfileUpdate)]
        if not updates:
            return
        endpoints = await self.active_endpoints()
        if not endpoints:
            return
        sequence = 0
        for update in updates:
            for event_type in event_types(update):
                for endpoint in endpoints:
                    if not endpoint.wants(event_type):
                        continue
                    sequence += 1
                    delivery_id = new_id("dlv")
                    delivery = Delivery(
                        id=delivery_id,
                        endpoint_id=endpoint.id,
                        event=event_type,
                        profile_id=update.profile.id,
                        payload=webhook_payload(update, event_type, delivery_id),
                        status=DeliveryStatus.PENDING,
                        attempts=0,
                        next_attempt_at=update.at,
                        created_at=update.at,
                        sort_key=f"{to_iso(update.at)}|{sequence:05d}|{delivery_id}",
                    )
                    uow.insert(DELIVERIES, delivery.to_doc())
