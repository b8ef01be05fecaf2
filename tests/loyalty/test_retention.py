"""Retention: old sync logs, final deliveries, idempotency records and audit entries go;
what a replay, a redelivery, an unmerge or the duplicate audit still needs stays."""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from cdp.channel import Channel
from cdp.identity.merge import merge_profiles, unmerge_profile
from cdp.identity.model import IdentifierType
from cdp.identity.privacy import forget_profile
from cdp.identity.service import RawIdentifier, create_profile
from cdp.loyalty.adjustments import adjust_points
from cdp.loyalty.jobs import Job, run_jobs
from cdp.retention import apply_retention
from cdp.runtime import Runtime
from cdp.settings import WebhookSource
from cdp.store.catalogue import AUDIT, DELIVERIES, IDEMPOTENCY, INBOUND, LEDGER, SYNC_LOG
from cdp.store.port import Insert, Query
from cdp.webhooks.dispatcher import Dispatcher
from cdp.webhooks.inbound import receive
from cdp.webhooks.service import redeliver, register_webhook
from cdp.webhooks.signing import SIGNATURE_HEADER, sign
from tests.realtime.support import MovableClock
from tests.webhooks.receiver import Receiver

from .support import run_processes

POS_SECRET = "pos-secret-0123456789"


def with_webhooks(rt: Runtime) -> None:
    source = WebhookSource(secret=POS_SECRET, format="cdp")
    rt.settings = rt.settings.model_copy(
        update={
            "webhook_sources": {"pos": source},
            "webhook_max_attempts": 1,  # one failure is final (DEAD)
            "webhook_timeout_seconds": 0.5,
            "webhook_allow_private_targets": True,  # the receivers are on 127.0.0.1
        }
    )


async def member(rt: Runtime, email: str) -> str:
    identifier = RawIdentifier(IdentifierType.EMAIL, email)
    return (await create_profile(rt, channel=Channel.POS, identifiers=[identifier])).id


async def adjust(rt: Runtime, profile_id: str, key: str) -> None:
    await adjust_points(
        rt,
        profile_id=profile_id,
        points=10,
        reason="goodwill",
        idempotency_key=key,
        channel=Channel.ADMIN,
    )


async def inbound(rt: Runtime, event_id: str) -> None:
    body = json.dumps(
        {"id": event_id, "type": "profile", "data": {"email": f"{event_id}@mail.com"}}
    ).encode()
    headers = {SIGNATURE_HEADER.lower(): sign(POS_SECRET, body, int(time.time()))}
    outcome = await receive(rt, source_name="pos", headers=headers, body=body)
    assert outcome.status == 202, outcome


async def ids(rt: Runtime, collection: str) -> set[str]:
    return {doc["id"] for doc in await rt.store.find(Query(collection, {}))}


async def history_of_a_while_ago(rt: Runtime, clock: MovableClock) -> dict[str, Any]:
    """Two years of activity ending `clock` days ago, written on the moved clock."""
    with_webhooks(rt)
    ada = await member(rt, "ada@mail.com")
    with Receiver() as ok, Receiver(fail_share=1.0) as failing:
        await register_webhook(rt, url=ok.url, events=["points.adjusted"])
        await register_webhook(rt, url=failing.url, events=["points.adjusted"])
        await adjust(rt, ada, "old-1")
        async with httpx.AsyncClient() as http:
            await Dispatcher(rt, http).run_once()  # one DELIVERED, one DEAD
    await adjust(rt, ada, "old-2")  # its deliveries are never attempted: PENDING
    await inbound(rt, "evt-old")
    bob, carl, dan = [await member(rt, f"{n}@mail.com") for n in ("bob", "carl", "dan")]
    await merge_profiles(rt, survivor_id=ada, merged_id=bob, reason="dupe", actor="t")
    await unmerge_profile(rt, merged_id=bob, reason="not the same", actor="t")
    await merge_profiles(rt, survivor_id=ada, merged_id=carl, reason="dupe", actor="t")
    await forget_profile(rt, profile_id=dan, actor="t")
    # An import marker (no time: a file may be imported again whenever).
    await rt.store.commit([Insert(IDEMPOTENCY, {"id": "import:abc:1", "profile_id": ada})])
    return {"ada": ada, "bob": bob, "carl": carl}


async def test_old_records_go_and_what_is_still_needed_stays(
    rt: Runtime, clock: MovableClock
) -> None:
    # given a year-old history, then a recent day of the same
    clock.moment = datetime(2024, 1, 10, tzinfo=UTC)
    old = await history_of_a_while_ago(rt, clock)
    old_deliveries = {d["id"]: d["status"] for d in await rt.store.find(Query(DELIVERIES, {}))}
    old_sync_log = await ids(rt, SYNC_LOG)
    clock.moment = datetime(2026, 1, 10, tzinfo=UTC)
    await adjust(rt, old["ada"], "recent-1")
    await inbound(rt, "evt-recent")
    recent_sync_log = await ids(rt, SYNC_LOG) - old_sync_log

    # when retention runs on the default settings
    report = await apply_retention(rt)

    # then final deliveries went, queued ones stayed
    assert sorted(old_deliveries.values()) == ["DEAD", "DELIVERED", "PENDING", "PENDING"]
    kept = {d["id"]: d["status"] for d in await rt.store.find(Query(DELIVERIES, {}))}
    assert {i: s for i, s in old_deliveries.items() if s == "PENDING"}.items() <= kept.items()
    assert not {i for i, s in old_deliveries.items() if s != "PENDING"} & kept.keys()
    # the sync log and idempotency records of two years ago went; recent ones stayed
    assert await ids(rt, SYNC_LOG) == recent_sync_log
    assert await ids(rt, IDEMPOTENCY) == {"adjust:recent-1", "import:abc:1"}
    assert await ids(rt, INBOUND) == {"pos:evt-recent"}
    # audit: the undone merge's entries and the erasure went; the unmerge stays (the
    # duplicate audit reads it), and so does the merge that can still be undone
    audit = await rt.store.find(Query(AUDIT, {}))
    assert sorted((a["action"], a["profile_id"]) for a in audit) == sorted(
        [
            ("unmerge", old["ada"]),
            ("unmerge", old["bob"]),
            ("merge", old["ada"]),
            ("merge", old["carl"]),
        ]
    )
    assert all(a["details"]["merged"] in (old["bob"], old["carl"]) for a in audit)
    assert report.deleted == {
        "sync_log": 3,  # one delivered attempt, one failed, one inbound event
        "deliveries": 2,
        "idempotency": 2,
        "inbound_events": 1,
        "audit_forget": 1,
        "audit_merge": 2,
    }
    # and running again finds nothing more to do
    assert (await apply_retention(rt)).total == 0
    # the unmerge can still be done; a recent replay still returns its first result
    await unmerge_profile(rt, merged_id=old["carl"], reason="not the same", actor="t")
    entries = len(await rt.store.find(Query(LEDGER, {"profile_id": old["ada"]})))
    await adjust(rt, old["ada"], "recent-1")
    assert len(await rt.store.find(Query(LEDGER, {"profile_id": old["ada"]}))) == entries


async def test_retention_works_in_bounded_batches(rt: Runtime, clock: MovableClock) -> None:
    clock.moment = datetime(2024, 1, 10, tzinfo=UTC)
    ada = await member(rt, "ada@mail.com")
    for n in range(7):
        await adjust(rt, ada, f"k-{n}")
    clock.moment = datetime(2026, 1, 10, tzinfo=UTC)

    first = await apply_retention(rt, batch=2, max_batches=2)
    second = await apply_retention(rt, batch=2, max_batches=2)
    third = await apply_retention(rt, batch=2, max_batches=2)

    assert [r.deleted["idempotency"] for r in (first, second, third)] == [4, 3, 0]
    assert await ids(rt, IDEMPOTENCY) == set()


async def test_retention_keeps_what_settings_say_is_young(rt: Runtime, clock: MovableClock) -> None:
    clock.moment = datetime(2026, 1, 1, tzinfo=UTC)
    ada = await member(rt, "ada@mail.com")
    await adjust(rt, ada, "k-1")
    rt.settings = rt.settings.model_copy(update={"retention_idempotency_days": 30})

    clock.moment = datetime(2026, 1, 30, tzinfo=UTC)
    young = await apply_retention(rt)
    clock.moment = datetime(2026, 2, 1, tzinfo=UTC)
    old = await apply_retention(rt)

    assert (young.deleted["idempotency"], old.deleted["idempotency"]) == (0, 1)


async def test_jobs_run_applies_retention_from_the_cli(rt: Runtime, clock: MovableClock) -> None:
    # written on a clock far enough back to be past retention on the system clock now
    clock.moment = datetime.now(UTC) - timedelta(days=100)
    ada = await member(rt, "ada@mail.com")
    await adjust(rt, ada, "cli-1")
    env = {"CDP_STORE_URL": rt.settings.store_url}
    argv = ["-c", "from cdp.cli import main; main()", "jobs", "run"]

    [(code, out, err)] = await run_processes([*argv, "--only", "retention"], copies=1, env=env)

    assert code == 0, err
    assert re.search(r"^retention deleted: .*idempotency 1\b", out, re.M), out
    assert await ids(rt, IDEMPOTENCY) == set()
    assert Job.RETENTION.value == "retention"
    assert (await run_jobs(rt, frozenset({Job.RETENTION}))).visited == 0


async def test_two_runs_at_once_delete_everything_once_and_fail_nothing(
    rt: Runtime, clock: MovableClock
) -> None:
    clock.moment = datetime(2024, 1, 10, tzinfo=UTC)
    await history_of_a_while_ago(rt, clock)
    clock.moment = datetime(2026, 1, 10, tzinfo=UTC)

    await asyncio.gather(apply_retention(rt, batch=3), apply_retention(rt, batch=3))

    assert await ids(rt, IDEMPOTENCY) == {"import:abc:1"}
    assert await ids(rt, SYNC_LOG) == set()
    statuses = [d["status"] for d in await rt.store.find(Query(DELIVERIES, {}))]
    assert statuses == ["PENDING", "PENDING"]
    assert {a["action"] for a in await rt.store.find(Query(AUDIT, {}))} == {"merge", "unmerge"}
    assert (await apply_retention(rt)).total == 0


class RedeliveringStore:
    """The real store; right after retention reads the final deliveries, an operator
    redelivers them (a fake at the port, to land in that gap every time)."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.inner = rt.store

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def find(self, query: Query) -> list[dict[str, Any]]:
        found = await self.inner.find(query)
        if query.collection == DELIVERIES and "status" in query.where:
            self.rt.store = self.inner  # once
            for doc in found:
                await redeliver(self.rt, delivery_id=doc["id"])
        return found


async def test_a_delivery_redelivered_meanwhile_is_kept(rt: Runtime, clock: MovableClock) -> None:
    clock.moment = datetime(2024, 1, 10, tzinfo=UTC)
    await history_of_a_while_ago(rt, clock)
    clock.moment = datetime(2026, 1, 10, tzinfo=UTC)
    rt.store = RedeliveringStore(rt)  # type: ignore[assignment]

    report = await apply_retention(rt)

    assert report.deleted["deliveries"] == 0
    statuses = [d["status"] for d in await rt.store.find(Query(DELIVERIES, {}))]
    assert statuses == ["PENDING"] * 4  # the two redelivered, and the two never sent
