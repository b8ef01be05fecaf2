"""Retention: old sync logs, finished deliveries, idempotency records and audit entries
are deleted, in bounded batches, by the jobs loop and `cdp jobs run`.

What is never deleted, however old:
- a delivery not yet final (PENDING or FAILED): only DELIVERED and DEAD ones age out, and
  each is deleted at the version it was read, so one redelivered meanwhile stays;
- an idempotency record younger than its retention, which settings keep longer than any
  replay window; import markers carry no time and stay (a file may be imported again);
- an `unmerge` audit entry (the duplicate audit reads it to keep that pair apart), and a
  `merge` entry while its merge can still be undone (its merge record exists).

Each batch is one commit of deletes, found through an index on the age field, so a run
costs a few indexed reads and writes per batch whatever the collections' size. Two runs
at once are safe: deleting what the other deleted is a no-op, and a delivery changed
under a run fails that batch's version check and waits for the next run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

import structlog

from cdp.clock import to_iso
from cdp.runtime import Runtime
from cdp.settings import Settings
from cdp.store.catalogue import AUDIT, DELIVERIES, IDEMPOTENCY, INBOUND, MERGES, SYNC_LOG
from cdp.store.port import Delete, Document, OneOf, Query, Range, StaleVersion, Store
from cdp.webhooks.model import DeliveryStatus

BATCH = 500
MAX_BATCHES = 20  # per rule and run: a backlog is worked off over several runs
log = structlog.get_logger(__name__)

Keep = Callable[[Store, list[Document]], Awaitable[set[str]]]


async def _keep_none(store: Store, docs: list[Document]) -> set[str]:
    return set()


async def _merges_still_undoable(store: Store, docs: list[Document]) -> set[str]:
    """Ids of `merge` entries whose merge record still exists."""
    merged = [doc["details"]["merged"] for doc in docs]
    records = await store.get_many(MERGES, list(dict.fromkeys(merged)))
    live = {record["id"] for record in records if record is not None}
    return {doc["id"] for doc in docs if doc["details"]["merged"] in live}


@dataclass(frozen=True, slots=True)
class Rule:
    """One kind of record that ages out: where it lives, which field dates it, which
    records of it may go at all, and how long settings keep it."""

    name: str
    collection: str
    dated_by: str
    days: Callable[[Settings], float]
    where: dict[str, object] = field(default_factory=dict)
    keep: Keep = _keep_none
    versioned: bool = False  # delete at the version read


RULES: tuple[Rule, ...] = (
    Rule("sync_log", SYNC_LOG, "at", lambda s: s.retention_sync_log_days),
    Rule(
        "deliveries",
        DELIVERIES,
        "next_attempt_at",  # when a final delivery was finished
        lambda s: s.retention_deliveries_days,
        where={"status": OneOf((DeliveryStatus.DELIVERED.value, DeliveryStatus.DEAD.value))},
        versioned=True,
    ),
    Rule("idempotency", IDEMPOTENCY, "at", lambda s: s.retention_idempotency_days),
    Rule("inbound_events", INBOUND, "at", lambda s: s.retention_idempotency_days),
    Rule("audit_forget", AUDIT, "at", lambda s: s.retention_audit_days, {"action": "forget"}),
    Rule(
        "audit_merge",
        AUDIT,
        "at",
        lambda s: s.retention_audit_days,
        where={"action": "merge"},
        keep=_merges_still_undoable,
    ),
)


@dataclass(slots=True)
class RetentionReport:
    """Per rule, how many records it deleted (a run beside another may also count some
    that the other deleted first)."""

    deleted: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.deleted.values())


async def _apply_rule(rt: Runtime, rule: Rule, batch: int, max_batches: int) -> int:
    store = rt.store
    cutoff = to_iso(rt.clock.now() - timedelta(days=rule.days(rt.settings)))
    deleted = 0
    lower: str | None = None
    seen: set[str] = set()
    for _ in range(max_batches):
        where = {**rule.where, rule.dated_by: Range(gte=lower, lt=cutoff)}
        docs = await store.find(Query(rule.collection, where, rule.dated_by, limit=batch))
        fresh = [doc for doc in docs if doc["id"] not in seen]
        if not fresh:
            break
        seen.update(doc["id"] for doc in fresh)
        kept = await rule.keep(store, fresh)
        doomed = [doc for doc in fresh if doc["id"] not in kept]
        try:
            await store.commit(
                [
                    Delete(rule.collection, doc["id"], doc["version"] if rule.versioned else None)
                    for doc in doomed
                ]
            )
        except StaleVersion:
            log.info("retention_batch_changed", rule=rule.name)  # next run tries again
            break
        deleted += len(doomed)
        if len(docs) < batch:
            break
        lower = docs[-1][rule.dated_by]
    return deleted


async def apply_retention(
    rt: Runtime, *, batch: int = BATCH, max_batches: int = MAX_BATCHES
) -> RetentionReport:
    """Delete what every rule lets go of now, at most `batch` x `max_batches` per rule."""
    report = RetentionReport()
    for rule in RULES:
        report.deleted[rule.name] = await _apply_rule(rt, rule, batch, max_batches)
    return report
