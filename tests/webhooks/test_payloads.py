"""Outbound payloads: every event type has the shape docs/webhooks.md documents for it,
and none carries the stored document (no lots, no internal bookkeeping)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cdp.channel import Channel
from cdp.enrollment.service import enroll
from cdp.identity.merge import merge_profiles, unmerge_profile
from cdp.identity.model import IdentifierType, PersonalData, Profile
from cdp.identity.privacy import forget_profile
from cdp.identity.service import RawIdentifier, create_profile
from cdp.loyalty.adjustments import adjust_points
from cdp.loyalty.jobs import ALL_JOBS, run_jobs
from cdp.loyalty.model import LineItem
from cdp.loyalty.purchases import Purchase, Return, record_purchase, record_return
from cdp.loyalty.redemptions import redeem_reward
from cdp.runtime import Runtime
from cdp.store.catalogue import DELIVERIES
from cdp.store.port import Insert, Query
from cdp.webhooks.model import EVENT_TYPES
from cdp.webhooks.payloads import SCHEMA_VERSION
from cdp.webhooks.service import register_webhook
from tests.realtime.support import MovableClock, change_personal

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
# A heading per event type, one paragraph, then the example.
EXAMPLE = re.compile(
    r"^#### `(?P<event>[a-z.]+)`\n\n[^\n]+\n\n```json\n(?P<body>.*?)\n```", re.M | re.S
)
LINE = [LineItem("sku-1", "coffee", 1, 600.0)]


def documented_examples() -> dict[str, Any]:
    return {m["event"]: json.loads(m["body"]) for m in EXAMPLE.finditer(DOCS.read_text())}


def shape(value: Any) -> Any:
    """The structure of a JSON value: keys, nesting and scalar types, not the values."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


async def enrolled_ada(rt: Runtime, email: str) -> Profile:
    personal = PersonalData(
        first_name="Ada", last_name="Lovelace", email=email, phone="+14155552671"
    )
    return (await enroll(rt, channel=Channel.POS, personal=personal)).profile


async def every_event(rt: Runtime) -> dict[str, dict[str, Any]]:
    """Each event type's first payload, from one member's life, a merge and an erasure."""
    clock = MovableClock()
    clock.moment = datetime(2026, 3, 15, 12, tzinfo=UTC)
    rt.clock = clock
    # Deliveries sort by commit time: a minute between steps keeps their order certain.
    tick = lambda: clock.advance(minutes=1)  # noqa: E731
    await register_webhook(rt, url="http://127.0.0.1:9/hook", events=["*"])
    ada = await enrolled_ada(rt, "ada@mail.com")
    tick()
    await change_personal(rt, ada.id, postal_code="94110")
    tick()
    email = RawIdentifier(IdentifierType.EMAIL, "ada@mail.com")
    await record_purchase(rt, Purchase(Channel.POS, "o-1", email, LINE))
    tick()
    await adjust_points(
        rt,
        profile_id=ada.id,
        points=400,
        reason="goodwill",
        idempotency_key="adj-1",
        channel=Channel.ADMIN,
    )
    tick()
    await redeem_reward(
        rt, profile_id=ada.id, reward_id="coffee", channel=Channel.POS, idempotency_key="rd-1"
    )
    tick()
    await record_return(rt, Return(Channel.POS, "o-1", "r-1", LINE))
    tick()
    await record_purchase(rt, Purchase(Channel.POS, "o-2", email, LINE))
    clock.moment = datetime(2027, 3, 16, 12, tzinfo=UTC)  # o-2's points are a year old
    await run_jobs(rt, ALL_JOBS)
    card = RawIdentifier(IdentifierType.LOYALTY_CARD, "6037000000000001")
    sam = await create_profile(rt, channel=Channel.POS, identifiers=[card])
    tick()
    await merge_profiles(rt, survivor_id=ada.id, merged_id=sam.id, reason="dupe", actor="t")
    tick()
    await unmerge_profile(rt, merged_id=sam.id, reason="not the same", actor="t")
    tick()
    await forget_profile(rt, profile_id=sam.id, actor="t")
    first: dict[str, dict[str, Any]] = {}
    for doc in await rt.store.find(Query(DELIVERIES, {}, order_by="sort_key")):
        first.setdefault(doc["event"], doc["payload"])
    return first


async def test_every_event_type_has_its_documented_shape(rt: Runtime) -> None:
    payloads = await every_event(rt)
    documented = documented_examples()

    assert sorted(payloads) == sorted(EVENT_TYPES)
    assert sorted(documented) == sorted(EVENT_TYPES)
    for event, payload in payloads.items():
        assert payload["schema_version"] == SCHEMA_VERSION
        assert payload["type"] == event
        assert shape(payload) == shape(documented[event]), event


async def test_a_payload_holds_no_stored_document(rt: Runtime) -> None:
    payloads = await every_event(rt)

    for payload in payloads.values():
        text = json.dumps(payload)
        for internal in ("lots", "ledger_seq", "qualifying_by_month", "sort_key", "due_at"):
            assert f'"{internal}"' not in text
    earned = payloads["points.earned"]
    # 100 enrollment bonus; 600 base + 600 coffee bonus pending through the return window
    assert earned["loyalty"] == {
        "balance": 100,
        "pending": 1200,
        "lifetime": 1300,
        "tier": "silver",
        "tier_changed": True,
    }
    assert (earned["entry"]["type"], earned["entry"]["points"]) == ("BONUS", 600)
    assert earned["profile"]["identifiers"][0] == {
        "type": "EMAIL",
        "value": "ada@mail.com",
        "verified": False,
        "source": "POS",
    }


async def test_erasure_blanks_a_delivery_queued_before_this_schema_version(rt: Runtime) -> None:
    await register_webhook(rt, url="http://127.0.0.1:9/hook", events=["*"])
    ada = await enrolled_ada(rt, "old@mail.com")
    [queued] = await rt.store.find(Query(DELIVERIES, {}))
    version_1 = {
        "version": "1",
        "type": "profile.created",
        "profile": {
            "id": ada.id,
            "personal": {"first_name": "Ada", "email": "old@mail.com"},
            "identifiers": [{"type": "EMAIL", "value": "old@mail.com"}],
        },
    }
    await rt.store.commit([Insert(DELIVERIES, {**queued, "id": "dlv_old", "payload": version_1})])

    await forget_profile(rt, profile_id=ada.id, actor="t")

    after = {d["id"]: d["payload"] for d in await rt.store.find(Query(DELIVERIES, {}))}
    assert "old@mail.com" not in json.dumps(after)
    assert "Ada" not in json.dumps(after)
    assert after["dlv_old"]["profile"]["identifiers"] == []
    assert after[queued["id"]]["profile"]["first_name"] is None
