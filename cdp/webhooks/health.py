"""Sync health: every inbound delivery and outbound attempt, counted per sync point."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client import Counter

from cdp.clock import from_iso, to_iso
from cdp.errors import BadInput
from cdp.ids import new_id
from cdp.runtime import Runtime
from cdp.store.catalogue import SYNC_LOG
from cdp.store.port import Query, Range
from cdp.store.unit_of_work import UnitOfWork
from cdp.webhooks.service import list_endpoints

SYNC_ATTEMPTS = Counter("cdp_sync_attempts_total", "Sync attempts per sync point", ["point"])
SYNC_FAILURES = Counter("cdp_sync_failures_total", "Failed sync attempts per sync point", ["point"])
MAX_WINDOW_HOURS = 24 * 31


def inbound_point(source: str) -> str:
    return f"inbound:{source}"


def outbound_point(endpoint_id: str) -> str:
    return f"outbound:{endpoint_id}"


def stage_attempt(
    uow: UnitOfWork,
    *,
    point: str,
    ok: bool,
    at: datetime,
    status_code: int | None = None,
    latency_ms: float | None = None,
    error: str | None = None,
    reference: str | None = None,
) -> None:
    """Log one attempt with the change it belongs to (and count it for /metrics)."""
    uow.insert(
        SYNC_LOG,
        {
            "id": new_id("att"),
            "point": point,
            "ok": ok,
            "at": to_iso(at),
            "status_code": status_code,
            "latency_ms": round(latency_ms, 2) if latency_ms is not None else None,
            "error": error,
            "reference": reference,
        },
    )
    SYNC_ATTEMPTS.labels(point).inc()
    if not ok:
        SYNC_FAILURES.labels(point).inc()


@dataclass(frozen=True, slots=True)
class SyncPoint:
    name: str
    attempts: int
    failures: int
    failure_rate: float
    alerting: bool
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class SyncHealth:
    window_hours: int
    threshold: float
    points: list[SyncPoint]


async def _point(rt: Runtime, name: str, since: str, threshold: float) -> SyncPoint:
    store = rt.store
    attempts = await store.count(SYNC_LOG, {"point": name, "at": Range(gte=since)})
    failures = await store.count(SYNC_LOG, {"point": name, "ok": False, "at": Range(gte=since)})
    last_ok = await store.find(Query(SYNC_LOG, {"point": name, "ok": True}, "at", True, 1))
    last_bad = await store.find(Query(SYNC_LOG, {"point": name, "ok": False}, "at", True, 1))
    rate = failures / attempts if attempts else 0.0
    return SyncPoint(
        name=name,
        attempts=attempts,
        failures=failures,
        failure_rate=round(rate, 4),
        alerting=rate > threshold,
        last_success_at=from_iso(last_ok[0]["at"]) if last_ok else None,
        last_failure_at=from_iso(last_bad[0]["at"]) if last_bad else None,
        last_error=last_bad[0]["error"] if last_bad else None,
    )


async def sync_health(rt: Runtime, *, window_hours: int) -> SyncHealth:
    """Per inbound source and outbound endpoint, over the last `window_hours`."""
    if not 1 <= window_hours <= MAX_WINDOW_HOURS:
        raise BadInput(f"windowHours must be 1 to {MAX_WINDOW_HOURS}")
    since = to_iso(rt.clock.now() - timedelta(hours=window_hours))
    threshold = rt.settings.sync_alert_threshold
    names = [inbound_point(s) for s in sorted(rt.settings.webhook_sources)]
    names += [outbound_point(e.id) for e in await list_endpoints(rt)]
    points = [await _point(rt, name, since, threshold) for name in names]
    return SyncHealth(window_hours, threshold, points)
