"""The ledger: entries as stored, each written with the change it explains.

History pages read it through `cdp.loyalty.queries`."""

from __future__ import annotations

from collections.abc import Sequence

from cdp.loyalty.model import LedgerEntry
from cdp.store.catalogue import LEDGER
from cdp.store.port import Store
from cdp.store.unit_of_work import UnitOfWork


def stage_entries(uow: UnitOfWork, entries: Sequence[LedgerEntry]) -> None:
    for entry in entries:
        uow.insert(LEDGER, entry.to_doc())


async def get_entry(store: Store, entry_id: str) -> LedgerEntry | None:
    doc = await store.get(LEDGER, entry_id)
    return LedgerEntry.from_doc(doc) if doc else None
