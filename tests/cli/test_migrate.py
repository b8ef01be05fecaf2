"""`cdp migrate` on a store the previous version wrote (schema 1: lots inside profiles).

`store_v1.json` is every document of a SQLite store that the code of commit 11521e9 (the
last with lots inside profiles) wrote through its services on a fixed clock: Ada's six
purchases over five months and a return, three purchases each for Bo and Cy, then Cy
merged into Bo. The tests insert those documents as they are into each store, migrate,
and check that every lot moved once, the books still balance, and the product carries on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from cdp.channel import Channel
from cdp.clock import from_iso
from cdp.identity.merge import unmerge_profile
from cdp.identity.model import IdentifierType
from cdp.identity.service import RawIdentifier
from cdp.loyalty.jobs import ALL_JOBS, run_jobs
from cdp.loyalty.lot_repository import held_lots
from cdp.loyalty.model import LineItem, Lot
from cdp.loyalty.purchases import Purchase, Return, record_purchase, record_return
from cdp.migrations import MigrationReport, migrate
from cdp.runtime import Runtime
from cdp.store.catalogue import LOTS, MERGES, ORDERS, PROFILES
from cdp.store.port import Document, Insert, Query, Store, StoreUnavailable, Write
from cdp.store.schema import SCHEMA_VERSION, OutdatedDocument
from tests.loyalty.books import assert_books_balance, ledger
from tests.realtime.support import MovableClock

from .conftest import Cdp

V1 = json.loads(Path(__file__).with_name("store_v1.json").read_text())
ADA, BO, CY = (V1["ids"][name] for name in ("ada", "bo", "cy"))
V1_PROFILES = {doc["id"]: doc for doc in V1["collections"][PROFILES]}
V1_ORDERS = {doc["id"]: doc for doc in V1["collections"][ORDERS]}
(V1_MERGE,) = V1["collections"][MERGES]


async def load_v1(store: Store) -> None:
    """The previous version's documents, inserted exactly as it stored them."""
    writes: list[Write] = [
        Insert(collection, doc) for collection, docs in V1["collections"].items() for doc in docs
    ]
    await store.commit(writes)


def v1_lots(profile_id: str) -> list[tuple[str, int, str | None, str | None]]:
    lots = V1_PROFILES[profile_id]["loyalty"]["lots"]
    return sorted((d["id"], d["points"], d["available_at"], d["expires_at"]) for d in lots)


def lot_rows(lots: Sequence[Lot]) -> list[tuple[str, int, str | None, str | None]]:
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat(timespec="microseconds") if moment else None

    return sorted((lot.id, lot.points, iso(lot.available_at), iso(lot.expires_at)) for lot in lots)


async def everything(store: Store) -> dict[str, list[Document]]:
    return {name: await store.find(Query(name, {})) for name in (PROFILES, LOTS, MERGES)}


async def assert_migrated(rt: Runtime) -> None:
    """Every profile at this schema with its version kept, holding exactly the lots it
    held inside it (none lost, none twice), and the books balanced."""
    for doc in await rt.store.find(Query(PROFILES, {})):
        assert (doc["schema"], doc["version"]) == (
            SCHEMA_VERSION,
            V1_PROFILES[doc["id"]]["version"],
        )
        assert "lots" not in doc["loyalty"]
    assert [lot_rows(await held_lots(rt.store, pid)) for pid in (ADA, BO, CY)] == [
        v1_lots(ADA),
        v1_lots(BO),
        [],
    ]
    assert await rt.store.count(LOTS, {}) == len(v1_lots(ADA)) + len(v1_lots(BO))
    record = await rt.store.get(MERGES, CY)
    assert record is not None
    assert (record["schema"], "lots" in record["account"]) == (SCHEMA_VERSION, False)
    assert len(record["lot_ids"]) == 3  # Cy's three purchases, moved into Bo by the merge
    await assert_books_balance(rt, ADA, BO)


@pytest.fixture
def rt(runtime: Runtime) -> Runtime:
    """The runtime on the fixture's clock: the moment the previous version stopped."""
    clock = MovableClock()
    clock.moment = from_iso(V1["clock"])
    runtime.clock = clock
    return runtime


async def test_migrate_moves_every_lot_out_of_the_profiles(rt: Runtime) -> None:
    await load_v1(rt.store)

    report = await migrate(rt.store)

    assert report == MigrationReport(
        profiles=3, lots=len(v1_lots(ADA)) + len(v1_lots(BO)), merges=1
    )
    await assert_migrated(rt)


async def test_before_the_migration_the_service_refuses_the_old_profiles(rt: Runtime) -> None:
    # Read as if current, Ada's profile would lose its lots at the next save.
    await load_v1(rt.store)
    loaded = await everything(rt.store)
    ada = RawIdentifier(IdentifierType.EMAIL, "ada@example.com")
    lines = [LineItem("sku-9", "coffee", 1, 10.0)]

    with pytest.raises(OutdatedDocument, match=r"schema 1; .* run `cdp migrate`"):
        await record_purchase(rt, Purchase(Channel.POS, "o-ada-new", ada, lines))

    assert await everything(rt.store) == loaded
    assert await rt.store.get(ORDERS, "POS:o-ada-new") is None


async def test_a_second_run_changes_nothing(rt: Runtime) -> None:
    await load_v1(rt.store)
    await migrate(rt.store)
    migrated = await everything(rt.store)

    again = await migrate(rt.store)

    assert again == MigrationReport()
    assert await everything(rt.store) == migrated


class CrashingStore:
    """The store, failing its `fail_at`-th commit as a crash would (a fake at the port)."""

    def __init__(self, store: Store, fail_at: int) -> None:
        self.store, self.commits, self.fail_at = store, 0, fail_at

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def commit(self, writes: Sequence[Write]) -> None:
        self.commits += 1
        if self.commits == self.fail_at:
            raise StoreUnavailable("the process died here")
        await self.store.commit(writes)


@pytest.mark.parametrize("fail_at", [1, 2, 4])
async def test_a_crash_halfway_and_a_rerun_end_with_every_lot_moved_once(
    rt: Runtime, fail_at: int
) -> None:
    await load_v1(rt.store)

    with pytest.raises(StoreUnavailable):
        await migrate(CrashingStore(rt.store, fail_at))
    await migrate(rt.store)

    await assert_migrated(rt)


async def test_the_migrated_store_settles_unmerges_and_takes_returns(rt: Runtime) -> None:
    await load_v1(rt.store)
    await migrate(rt.store)
    clock = rt.clock
    assert isinstance(clock, MovableClock)

    clock.advance(days=20)  # every pending lot of Bo (and of Cy in him) comes due
    assert (await run_jobs(rt, ALL_JOBS)).changed == 1
    await unmerge_profile(rt, merged_id=CY, reason="not the same person", actor="test")
    returned = LineItem("sku-4", "coffee", 1, 44.0)  # the whole of Ada's fifth purchase
    await record_return(rt, Return(Channel.POS, "o-ada-4", "r-ada-4", [returned]))

    brought = sum(lot["points"] for lot in V1_MERGE["account"]["lots"])
    bo, cy = await assert_books_balance(rt, BO, CY)
    assert (bo.balance, bo.pending, cy.balance, cy.pending) == (
        sum(points for _, points, _, _ in v1_lots(BO)) - brought,
        0,
        brought,
        0,
    )
    assert lot_rows(await held_lots(rt.store, CY)) == sorted(
        (lot["id"], lot["points"], None, lot["expires_at"]) for lot in V1_MERGE["account"]["lots"]
    )
    (ada,) = await assert_books_balance(rt, ADA)
    order_points = V1_ORDERS["POS:o-ada-4"]["lines"][0]["points"]
    assert ada.balance == V1_PROFILES[ADA]["loyalty"]["balance"] - order_points
    assert [(e.type.value, e.points) for e in await ledger(rt, ADA)][-1] == (
        "REVERSAL",
        -order_points,
    )


def test_cdp_migrate_reports_what_it_moved_and_a_rerun_nothing(cdp: Cdp) -> None:
    cdp.on_store(lambda rt: load_v1(rt.store))

    first, again = cdp("migrate"), cdp("migrate")

    assert (first.exit_code, again.exit_code) == (0, 0), first.output + again.output
    assert first.stdout.splitlines() == [
        "profiles migrated: 3",
        f"lots moved out of them: {len(v1_lots(ADA)) + len(v1_lots(BO))}",
        "merge records rewritten: 1",
    ]
    assert again.stdout.splitlines() == [
        "profiles migrated: 0",
        "lots moved out of them: 0",
        "merge records rewritten: 0",
    ]
