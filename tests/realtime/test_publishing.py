"""Every write path publishes after its commit, and only then.

The in-process broker delivers while `publish` runs, so when a use case returns its
messages are already queued: each test reads exactly what was published, no sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from cdp.broker.port import Broker
from cdp.channel import Channel
from cdp.enrollment.service import enroll
from cdp.errors import Conflict
from cdp.identity.merge import merge_profiles, unmerge_profile
from cdp.identity.model import IdentifierType, PersonalData, Profile, ProfileStatus
from cdp.identity.privacy import forget_profile
from cdp.identity.service import RawIdentifier, link_identifier
from cdp.loyalty.adjustments import adjust_points
from cdp.loyalty.jobs import ALL_JOBS, run_jobs
from cdp.loyalty.model import LineItem
from cdp.loyalty.purchases import Return, record_return
from cdp.loyalty.redemptions import redeem_reward, void_redemption
from cdp.realtime.messages import (
    PushedUpdate,
    decode_receipt,
    decode_update,
    profile_topic,
    receipts_topic,
)
from cdp.runtime import Runtime
from cdp.store.catalogue import PROFILES
from cdp.store.unit_of_work import UnitOfWork
from cdp.updates import ProfileUpdate, UpdateKind

from .support import MovableClock, change_personal, member, purchase


class Heard:
    """Messages published on some topics, in the order they arrived."""

    def __init__(self) -> None:
        self.buffers: dict[str, list[str]] = {}

    async def take(self, topic: str) -> list[str]:
        """Everything delivered on `topic` since the last take."""
        for _ in range(10):  # let the draining tasks run: delivery happened in publish
            await asyncio.sleep(0)
        taken = list(self.buffers[topic])
        self.buffers[topic].clear()
        return taken

    async def updates(self, profile_id: str) -> list[PushedUpdate]:
        return [decoded(m) for m in await self.take(profile_topic(profile_id))]


def decoded(message: str) -> PushedUpdate:
    update = decode_update(message)
    assert update is not None, "a message of our own version"
    return update


async def _drain_into(stream: AsyncIterator[str], buffer: list[str]) -> None:
    async for message in stream:
        buffer.append(message)


@asynccontextmanager
async def listening(rt: Runtime, *topics: str) -> AsyncIterator[Heard]:
    heard = Heard()
    async with AsyncExitStack() as stack:
        for topic in topics:
            stream = await stack.enter_async_context(rt.broker.subscribe(topic))
            heard.buffers[topic] = []
            task = asyncio.create_task(_drain_into(stream, heard.buffers[topic]))
            stack.callback(task.cancel)
        yield heard


def kinds(updates: list[PushedUpdate]) -> list[tuple[UpdateKind, int]]:
    return [(u.kind, u.version) for u in updates]


async def enrolled(rt: Runtime, email: str = "grace@example.com") -> Profile:
    done = await enroll(
        rt,
        channel=Channel.POS,
        personal=PersonalData(
            first_name="Grace", last_name="Hopper", email=email, phone="+12025550143"
        ),
    )
    return done.profile


# -- one message per committed change, on every write path -------------------------------


class RecordingBroker:
    """The runtime's broker, with every publish recorded (a fake at the port)."""

    def __init__(self, inner: Broker) -> None:
        self.inner = inner
        self.published: list[tuple[str, str]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def listened(self, topic: str) -> bool:
        return True  # it records every message

    async def publish(self, topic: str, message: str) -> None:
        self.published.append((topic, message))
        await self.inner.publish(topic, message)


async def test_enrollment_publishes_the_new_member(rt: Runtime) -> None:
    recorder = RecordingBroker(rt.broker)
    rt.broker = recorder

    profile = await enrolled(rt)

    assert [(t, decoded(m).kind, decoded(m).version) for t, m in recorder.published] == [
        (profile_topic(profile.id), UpdateKind.ENROLLED, profile.version)
    ]


async def test_profile_change_publishes(rt: Runtime) -> None:
    profile = await enrolled(rt)
    async with listening(rt, profile_topic(profile.id)) as heard:
        await change_personal(rt, profile.id, postal_code="10001")
        changed = await heard.updates(profile.id)

    assert kinds(changed) == [(UpdateKind.PROFILE_CHANGED, profile.version + 1)]
    assert changed[0].profile_id == profile.id
    assert changed[0].profile is None  # the message names the change, not the profile


async def test_enrollment_of_a_known_card_holder_publishes_enrolled(rt: Runtime) -> None:
    holder = await member(rt, "5000000000000001")
    async with listening(rt, profile_topic(holder.id)) as heard:
        await enroll(
            rt,
            channel=Channel.POS,
            personal=PersonalData(
                first_name="Ada",
                last_name="Lovelace",
                email="ada@example.com",
                phone="+12025550100",
            ),
            identifiers=[RawIdentifier(IdentifierType.LOYALTY_CARD, "5000000000000001")],
        )
        updates = await heard.updates(holder.id)

    assert [u.kind for u in updates] == [UpdateKind.ENROLLED]
    assert updates[0].status is ProfileStatus.ENROLLED
    assert updates[0].version == holder.version + 1


async def test_identifier_link_publishes(rt: Runtime) -> None:
    holder = await member(rt, "5000000000000002")
    async with listening(rt, profile_topic(holder.id)) as heard:
        await link_identifier(
            rt,
            profile_id=holder.id,
            identifier=RawIdentifier(IdentifierType.APP_USER_ID, "app-7"),
            verified=True,
            may_link_credentials=True,  # the operator, in process
            channel=Channel.MOBILE_APP,
        )
        updates = await heard.updates(holder.id)

    assert kinds(updates) == [(UpdateKind.IDENTIFIER_LINKED, holder.version + 1)]


async def test_purchase_publishes_the_update_and_the_receipt_per_store_and_register(
    rt: Runtime,
) -> None:
    holder = await member(rt, "5000000000000003")
    topics = (
        profile_topic(holder.id),
        receipts_topic("store-9"),
        receipts_topic("store-9", "till-2"),
        receipts_topic("store-9", "till-3"),
    )
    async with listening(rt, *topics) as heard:
        receipt = await purchase(
            rt, "5000000000000003", 30.0, store_id="store-9", register_id="till-2"
        )
        updates = await heard.updates(holder.id)
        per_store = [decode_receipt(m) for m in await heard.take(topics[1])]
        per_register = [decode_receipt(m) for m in await heard.take(topics[2])]
        other_register = await heard.take(topics[3])

    assert kinds(updates) == [(UpdateKind.POINTS_EARNED, holder.version + 1)]
    assert updates[0].pending == 30
    assert [p.receipt for p in per_store] == [receipt]
    assert [p.receipt for p in per_register] == [receipt]
    assert per_store[0].member is not None
    assert per_store[0].member == updates[0]  # the member's change committed with it
    assert other_register == []


async def test_a_receipt_without_a_store_goes_to_no_receipt_topic(rt: Runtime) -> None:
    holder = await member(rt, "5000000000000004")
    async with listening(rt, profile_topic(holder.id)) as heard:
        await purchase(rt, "5000000000000004", 10.0)
        updates = await heard.updates(holder.id)

    assert kinds(updates) == [(UpdateKind.POINTS_EARNED, holder.version + 1)]


async def test_return_publishes_the_reversal_and_its_receipt(rt: Runtime) -> None:
    holder = await member(rt, "5000000000000005")
    bought = await purchase(rt, "5000000000000005", 50.0, store_id="store-r", register_id="1")
    async with listening(rt, profile_topic(holder.id), receipts_topic("store-r", "1")) as heard:
        await record_return(
            rt,
            Return(
                channel=Channel.POS,
                order_id=bought.order_id,
                return_id=f"ret-{bought.order_id}",
                lines=[LineItem(sku="sku-1", category="general", quantity=1, amount=50.0)],
            ),
        )
        updates = await heard.updates(holder.id)
        receipts = [decode_receipt(m) for m in await heard.take(receipts_topic("store-r", "1"))]

    assert kinds(updates) == [(UpdateKind.POINTS_REVERSED, holder.version + 2)]
    assert updates[0].entry is not None
    assert updates[0].entry.points == -50
    assert [r.receipt.points_earned for r in receipts] == [-50]


async def test_adjustment_redemption_and_void_each_publish(rt: Runtime) -> None:
    profile = await enrolled(rt)
    async with listening(rt, profile_topic(profile.id)) as heard:
        await adjust_points(
            rt,
            profile_id=profile.id,
            points=400,
            reason="goodwill",
            idempotency_key="adj-1",
            channel=Channel.CALL_CENTER,
        )
        redemption = await redeem_reward(
            rt,
            profile_id=profile.id,
            reward_id="coffee",
            channel=Channel.POS,
            idempotency_key="redeem-1",
        )
        await void_redemption(
            rt, redemption_id=redemption.id, reason="till error", channel=Channel.POS
        )
        updates = await heard.updates(profile.id)

    v = profile.version
    assert kinds(updates) == [
        (UpdateKind.POINTS_ADJUSTED, v + 1),
        (UpdateKind.POINTS_REDEEMED, v + 2),
        (UpdateKind.POINTS_ADJUSTED, v + 3),  # the void gives the points back
    ]
    assert [u.balance for u in updates] == [
        profile.loyalty.balance + 400,
        profile.loyalty.balance + 250,
        profile.loyalty.balance + 400,
    ]


async def test_jobs_publish_pending_release_tier_change_and_expiry(
    rt: Runtime, clock: MovableClock
) -> None:
    clock.moment = datetime(2026, 3, 15, 12, tzinfo=UTC)
    holder = await member(rt, "5000000000000006")
    await purchase(rt, "5000000000000006", 600.0)  # silver at once (threshold 500)
    async with listening(rt, profile_topic(holder.id)) as heard:
        clock.moment = datetime(2026, 4, 1, 12, tzinfo=UTC)  # past the 14-day return window
        await run_jobs(rt, ALL_JOBS)
        clock.moment = datetime(2027, 3, 2, 12, tzinfo=UTC)  # March 2026 left the tier window
        await run_jobs(rt, ALL_JOBS)
        clock.moment = datetime(2027, 3, 16, 12, tzinfo=UTC)  # the lot is 12 months old
        await run_jobs(rt, ALL_JOBS)
        updates = await heard.updates(holder.id)

    v = holder.version + 1
    assert kinds(updates) == [
        (UpdateKind.PROFILE_CHANGED, v + 1),
        (UpdateKind.TIER_CHANGED, v + 2),
        (UpdateKind.POINTS_EXPIRED, v + 3),
    ]
    assert [u.balance for u in updates] == [600, 600, 0]
    assert [u.tier_changed for u in updates] == [False, True, False]


async def test_merge_unmerge_and_forget_publish_on_both_profiles(rt: Runtime) -> None:
    survivor = await member(rt, "5000000000000007", first_name="Sam")
    merged = await member(rt, "5000000000000008", first_name="Sam")
    topics = (profile_topic(survivor.id), profile_topic(merged.id))
    async with listening(rt, *topics) as heard:
        await merge_profiles(
            rt, survivor_id=survivor.id, merged_id=merged.id, reason="dupe", actor="t"
        )
        after_merge = (await heard.updates(survivor.id), await heard.updates(merged.id))
        await unmerge_profile(rt, merged_id=merged.id, reason="not the same", actor="t")
        after_unmerge = (await heard.updates(survivor.id), await heard.updates(merged.id))
        await forget_profile(rt, profile_id=merged.id, actor="t")
        after_forget = await heard.updates(merged.id)

    assert kinds(after_merge[0]) == [(UpdateKind.MERGED, survivor.version + 1)]
    assert kinds(after_merge[1]) == [(UpdateKind.MERGED, merged.version + 1)]
    assert after_merge[1][0].merged_into == survivor.id
    assert kinds(after_unmerge[0]) == [(UpdateKind.UNMERGED, survivor.version + 2)]
    assert kinds(after_unmerge[1]) == [(UpdateKind.UNMERGED, merged.version + 2)]
    assert kinds(after_forget) == [(UpdateKind.FORGOTTEN, merged.version + 3)]


# -- nothing for a change that did not commit -----------------------------------------------


async def test_a_rolled_back_transaction_publishes_nothing(rt: Runtime) -> None:
    holder = await member(rt, "5000000000000009")

    async def records_then_fails(uow: UnitOfWork) -> None:
        doc = await uow.get(PROFILES, holder.id)
        assert doc is not None
        changed = holder.changed(rt.clock.now())
        uow.replace(PROFILES, changed.to_doc(), holder.version)
        uow.record(ProfileUpdate(UpdateKind.PROFILE_CHANGED, changed, rt.clock.now()))
        raise Conflict("changed my mind")

    async with listening(rt, profile_topic(holder.id)) as heard:
        with pytest.raises(Conflict):
            await rt.transaction(records_then_fails)
        updates = await heard.updates(holder.id)

    assert updates == []


async def test_a_commit_refused_by_the_store_publishes_nothing(rt: Runtime) -> None:
    holder = await member(rt, "5000000000000010")
    other = await member(rt, "5000000000000011")
    async with listening(rt, profile_topic(holder.id)) as heard:
        # The card is another profile's: the unique index refuses the link at commit.
        with pytest.raises(Conflict):
            await link_identifier(
                rt,
                profile_id=holder.id,
                identifier=RawIdentifier(IdentifierType.LOYALTY_CARD, "5000000000000011"),
                verified=False,
                may_link_credentials=True,  # the operator, in process
                channel=Channel.POS,
            )
        updates = await heard.updates(holder.id)

    assert updates == []
    assert other.id != holder.id


async def test_a_use_case_rerun_after_a_stale_read_publishes_once_per_commit(rt: Runtime) -> None:
    profile = await enrolled(rt)
    async with listening(rt, profile_topic(profile.id)) as heard:
        # Concurrent adjustments of one profile: all but one read a stale version and re-run.
        await asyncio.gather(
            *(
                adjust_points(
                    rt,
                    profile_id=profile.id,
                    points=10,
                    reason="race",
                    idempotency_key=f"race-{n}",
                    channel=Channel.ADMIN,
                )
                for n in range(5)
            )
        )
        updates = await heard.updates(profile.id)

    assert sorted(u.version for u in updates) == [profile.version + n for n in range(1, 6)]
    assert max(u.balance for u in updates) == profile.loyalty.balance + 50
