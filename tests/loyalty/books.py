"""The ledger invariant (DESIGN.md invariant 2), checked on the store itself."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from cdp.identity.service import get_profile
from cdp.loyalty.lot_repository import held_lots
from cdp.loyalty.model import Account, LedgerEntry
from cdp.runtime import Runtime
from cdp.store.catalogue import LEDGER
from cdp.store.port import Query


async def ledger(rt: Runtime, profile_id: str) -> list[LedgerEntry]:
    """Every entry of one profile's ledger, in the order it was written."""
    docs = await rt.store.find(Query(LEDGER, {"profile_id": profile_id}))
    return sorted((LedgerEntry.from_doc(d) for d in docs), key=lambda e: e.id)


async def assert_books_balance(rt: Runtime, *profile_ids: str) -> list[Account]:
    """Invariant 2 for each profile: balance + pending == the sum of its ledger entries,
    and the lots behind them agree; the balance never negative unless the program allows.

    Returns the accounts, so a test can go on to check exact figures.
    """
    accounts = []
    for profile_id in profile_ids:
        profile = await get_profile(rt.store, profile_id)
        assert profile is not None, profile_id
        account = profile.loyalty
        entries = await ledger(rt, profile_id)
        assert account.balance + account.pending == sum(e.points for e in entries), (
            profile_id,
            account,
            entries,
        )
        assert account.pending >= 0
        if not rt.program.allow_negative_balance:
            assert account.balance >= 0, account
        lots = await held_lots(rt.store, profile_id)
        pending_lots = sum(lot.points for lot in lots if lot.available_at is not None)
        available_lots = sum(lot.points for lot in lots if lot.available_at is None)
        assert (pending_lots, available_lots) == (account.pending, max(0, account.balance))
        assert all(lot.points > 0 for lot in lots), lots
        due = [lot.due_at for lot in lots if lot.due_at is not None]
        if due:  # the account never promises a later look than its lots need
            assert account.lots_due_at is not None
            assert account.lots_due_at <= min(due)
        accounts.append(account)
    return accounts


@asynccontextmanager
async def unchanged(rt: Runtime, profile_id: str) -> AsyncIterator[None]:
    """The profile's account and ledger are the same after the block as before it."""
    (before,) = await assert_books_balance(rt, profile_id)
    entries = await ledger(rt, profile_id)
    yield
    (after,) = await assert_books_balance(rt, profile_id)
    assert (after, await ledger(rt, profile_id)) == (before, entries)
