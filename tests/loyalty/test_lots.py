"""Lots in their own collection: a lookup, a purchase and a settle read only the lots they
need, never the whole history; spending reads only enough to cover the points."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cdp.channel import Channel
from cdp.identity.model import IdentifierType, ProfileStatus
from cdp.identity.service import RawIdentifier, create_profile, get_profile
from cdp.loyalty.jobs import ALL_JOBS, run_jobs
from cdp.loyalty.lot_repository import SPEND_PAGE, held_lots
from cdp.loyalty.model import LineItem
from cdp.loyalty.purchases import Purchase, record_purchase
from cdp.loyalty.queries import EXPIRING_SHOWN, account_view, expiring
from cdp.loyalty.redemptions import redeem_reward
from cdp.runtime import Runtime
from cdp.store.catalogue import LOTS
from cdp.store.port import Document, Query, Store
from tests.realtime.support import MovableClock

from .books import assert_books_balance

CARD = RawIdentifier(IdentifierType.LOYALTY_CARD, "603700000000777")
HISTORY = 60  # purchases of 5 points, one a day: the last 13 days' still pending
POINTS = 5


class LotCountingStore:
    """The store, counting the lot documents each read hands back (a fake at the port)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.lots_read = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def _counted(self, collection: str, docs: Sequence[Document | None]) -> None:
        if collection == LOTS:
            self.lots_read += sum(1 for doc in docs if doc is not None)

    async def get(self, collection: str, doc_id: str) -> Document | None:
        doc = await self.store.get(collection, doc_id)
        self._counted(collection, [doc])
        return doc

    async def get_many(self, collection: str, ids: Sequence[str]) -> list[Document | None]:
        docs = await self.store.get_many(collection, ids)
        self._counted(collection, docs)
        return docs

    async def find(self, query: Query) -> list[Document]:
        docs = await self.store.find(query)
        self._counted(query.collection, docs)
        return docs


async def buy(rt: Runtime, order_id: str) -> None:
    lines = [LineItem("SKU-1", "grocery", 1, float(POINTS))]
    await record_purchase(rt, Purchase(Channel.POS, order_id, CARD, lines))


async def long_history(rt: Runtime, clock: MovableClock) -> str:
    """An enrolled member with HISTORY purchases, a day apart, up to now."""
    member = await create_profile(
        rt, channel=Channel.POS, identifiers=[CARD], status=ProfileStatus.ENROLLED
    )
    for day in range(HISTORY):
        await buy(rt, f"o-{day}")
        clock.advance(days=1)
    await run_jobs(rt, ALL_JOBS)  # what came due meanwhile
    return member.id


def counting(rt: Runtime) -> LotCountingStore:
    counter = LotCountingStore(rt.store)
    rt.store = counter
    return counter


async def test_a_purchase_and_a_lookup_read_no_lot_when_none_is_due(
    rt: Runtime, clock: MovableClock
) -> None:
    profile_id = await long_history(rt, clock)
    assert len(await held_lots(rt.store, profile_id)) == HISTORY
    counter = counting(rt)

    await buy(rt, "o-now")
    profile = await get_profile(rt.store, profile_id)
    assert profile is not None
    view = await account_view(rt.store, rt.program, profile, clock.now())

    assert counter.lots_read == 0
    assert view.balance + view.pending == profile.loyalty.balance + profile.loyalty.pending


async def test_a_settle_reads_the_due_lots_and_the_next_one_only(
    rt: Runtime, clock: MovableClock
) -> None:
    profile_id = await long_history(rt, clock)
    clock.advance(days=1)  # one more day's purchase leaves its return window
    counter = counting(rt)

    report = await run_jobs(rt, ALL_JOBS)

    assert (report.visited, report.changed) == (1, 1)
    assert counter.lots_read == 2  # the lot released, and the next one due
    (account,) = await assert_books_balance(rt, profile_id)
    assert account.pending == 12 * POINTS


async def test_spending_reads_only_enough_lots_to_cover_the_points(
    rt: Runtime, clock: MovableClock
) -> None:
    profile_id = await long_history(rt, clock)
    counter = counting(rt)

    await redeem_reward(
        rt,
        profile_id=profile_id,
        reward_id="coffee",  # 150 points: thirty of the oldest lots
        channel=Channel.POS,
        idempotency_key="k-1",
    )

    assert counter.lots_read <= SPEND_PAGE < HISTORY
    await assert_books_balance(rt, profile_id)
    lots = await held_lots(rt.store, profile_id)
    assert len(lots) == HISTORY - 30


async def test_expiring_points_read_only_the_soonest_lots(rt: Runtime, clock: MovableClock) -> None:
    profile_id = await long_history(rt, clock)
    first_expiry = min(lot.expires_at for lot in await held_lots(rt.store, profile_id))
    counter = counting(rt)

    shown = await expiring(rt.store, profile_id)

    assert counter.lots_read == EXPIRING_SHOWN + 1  # one more: the ten moments are whole
    assert [points for points, _ in shown] == [POINTS] * EXPIRING_SHOWN
    assert shown[0][1] == first_expiry
