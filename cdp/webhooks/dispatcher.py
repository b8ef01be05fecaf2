"""Sends queued deliveries: signed, retried with backoff, in order per profile.

Several dispatchers may run at once (inside `cdp serve`, or `cdp webhooks dispatch` as a
worker): a delivery is claimed by a versioned write that sets a lease, so only one of
them sends it; if that one dies mid-send, the lease runs out and another sends it again
with the same Idempotency-Key, which is how the receiver drops the duplicate. For one
endpoint, a profile's deliveries go out in the order their changes committed: a delivery
waits while an older one for the same profile is still queued.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from datetime import timedelta

import httpx
import structlog

from cdp.clock import to_iso
from cdp.errors import BadInput
from cdp.runtime import Runtime
from cdp.store.catalogue import DELIVERIES
from cdp.store.port import OneOf, Query, Range, Replace, StaleVersion
from cdp.store.unit_of_work import UnitOfWork
from cdp.webhooks.health import outbound_point, stage_attempt
from cdp.webhooks.model import Delivery, DeliveryStatus
from cdp.webhooks.service import get_endpoint
from cdp.webhooks.signing import SIGNATURE_HEADER, sign
from cdp.webhooks.targets import pinned

log = structlog.get_logger(__name__)
BATCH = 100
CONCURRENCY = 16
MAX_BACKOFF_SECONDS = 3600.0
QUEUED = OneOf((DeliveryStatus.PENDING.value, DeliveryStatus.FAILED.value))


def backoff(attempts: int, base: float) -> float:
    """Exponential with jitter (half to full), so a recovering receiver is not stampeded."""
    ceiling = min(MAX_BACKOFF_SECONDS, base * 2 ** (attempts - 1))
    return random.uniform(ceiling / 2, ceiling)


class Dispatcher:
    def __init__(self, rt: Runtime, client: httpx.AsyncClient) -> None:
        self.rt = rt
        self.client = client
        self._limit = asyncio.Semaphore(CONCURRENCY)

    async def run_once(self) -> int:
        """Attempt every delivery that is due now; returns how many were attempted."""
        now = self.rt.clock.now()
        docs = await self.rt.store.find(
            Query(
                DELIVERIES,
                {"status": QUEUED, "next_attempt_at": Range(lte=to_iso(now))},
                "next_attempt_at",
                limit=BATCH,
            )
        )
        due = [Delivery.from_doc(d) for d in docs]
        first_per_profile: dict[tuple[str, str | None], Delivery] = {}
        for delivery in sorted(due, key=lambda d: d.sort_key):
            first_per_profile.setdefault((delivery.endpoint_id, delivery.profile_id), delivery)
        results = await asyncio.gather(*(self._attempt(d) for d in first_per_profile.values()))
        return sum(results)

    async def run_forever(self, interval: float) -> None:
        while True:
            try:
                attempted = await self.run_once()
            except Exception:
                log.exception("dispatch_round_failed")
                attempted = 0
            if not attempted:
                await self.rt.outbox.wait(interval)

    async def _older_queued(self, delivery: Delivery) -> bool:
        if delivery.profile_id is None:
            return False
        older = await self.rt.store.find(
            Query(
                DELIVERIES,
                {
                    "endpoint_id": delivery.endpoint_id,
                    "profile_id": delivery.profile_id,
                    "status": QUEUED,
                    "sort_key": Range(lt=delivery.sort_key),
                },
                "sort_key",
                limit=1,
            )
        )
        return bool(older)

    async def _claim(self, delivery: Delivery) -> Delivery | None:
        lease = self.rt.clock.now() + timedelta(
            seconds=self.rt.settings.webhook_timeout_seconds + 5
        )
        claimed = delivery.next(lease_until=lease, next_attempt_at=lease)
        try:
            await self.rt.store.commit([Replace(DELIVERIES, claimed.to_doc(), delivery.version)])
        except StaleVersion:
            return None  # another dispatcher has it
        return claimed

    async def _attempt(self, delivery: Delivery) -> int:
        async with self._limit:
            if await self._older_queued(delivery):
                return 0
            claimed = await self._claim(delivery)
            if claimed is None:
                return 0
            endpoint = await get_endpoint(self.rt, claimed.endpoint_id)
            if endpoint is None or not endpoint.active:
                await self._finish(
                    claimed,
                    ok=False,
                    code=None,
                    error="endpoint disabled",
                    latency=0.0,
                    give_up=True,
                )
                return 1
            try:
                target = await pinned(
                    endpoint.url, allow_private=self.rt.settings.webhook_allow_private_targets
                )
            except BadInput as refused:
                # Never sent: the host is, or now resolves to, an address we may not reach.
                await self._finish(claimed, ok=False, code=None, error=refused.message, latency=0)
                return 1
            body = json.dumps(claimed.payload, separators=(",", ":")).encode()
            headers = {
                **target.headers,
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(endpoint.secret, body, int(time.time())),
                "Idempotency-Key": claimed.id,
                "X-CDP-Event": claimed.event,
                "User-Agent": "cdp-webhooks/1",
            }
            started = time.perf_counter()
            try:
                response = await self.client.post(
                    target.url,
                    content=body,
                    headers=headers,
                    timeout=self.rt.settings.webhook_timeout_seconds,
                    extensions=target.extensions,
                )
                ok, code, error = response.is_success, response.status_code, None
                if not ok:
                    error = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                ok, code, error = False, None, f"{type(exc).__name__}: {exc}"[:500]
            latency = (time.perf_counter() - started) * 1000
            await self._finish(claimed, ok=ok, code=code, error=error, latency=latency)
            return 1

    async def _finish(
        self,
        claimed: Delivery,
        *,
        ok: bool,
        code: int | None,
        error: str | None,
        latency: float,
        give_up: bool = False,
    ) -> None:
        rt = self.rt
        now = rt.clock.now()
        attempts = claimed.attempts + 1
        too_old = now - claimed.created_at > timedelta(hours=rt.settings.webhook_max_age_hours)
        if ok:
            status, next_at = DeliveryStatus.DELIVERED, now
        elif give_up or attempts >= rt.settings.webhook_max_attempts or too_old:
            status, next_at = DeliveryStatus.DEAD, now
        else:
            status, next_at = (
                DeliveryStatus.FAILED,
                now + timedelta(seconds=backoff(attempts, rt.settings.webhook_backoff_seconds)),
            )
        done = claimed.next(
            status=status,
            attempts=attempts,
            next_attempt_at=next_at,
            response_code=code,
            last_error=error,
            delivered_at=now if ok else None,
            lease_until=None,
        )

        # One commit, no retry: a stale version means the lease was lost, not a race to win.
        uow = UnitOfWork(rt.store)
        uow.replace(DELIVERIES, done.to_doc(), claimed.version)
        stage_attempt(
            uow,
            point=outbound_point(claimed.endpoint_id),
            ok=ok,
            at=now,
            status_code=code,
            latency_ms=latency,
            error=error,
            reference=claimed.id,
        )
        try:
            await uow.commit()
        except StaleVersion:
            # Our lease ran out and another dispatcher took over: its outcome stands.
            log.warning("delivery_lease_lost", delivery=claimed.id)
        log.info(
            "webhook_attempt",
            delivery=claimed.id,
            endpoint=claimed.endpoint_id,
            status=status.value,
            code=code,
            latency_ms=round(latency, 1),
            error=error,
        )


async def dispatch_loop(rt: Runtime, interval: float) -> None:
    """The dispatcher as a long-running task (inside `cdp serve`, or its own worker)."""
    async with httpx.AsyncClient(follow_redirects=False) as client:
        await Dispatcher(rt, client).run_forever(interval)
