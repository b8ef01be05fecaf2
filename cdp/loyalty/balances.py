"""The balances a member is shown at a moment, from their account alone."""

from __future__ import annotations

from datetime import datetime

from cdp.loyalty.model import Account


def shown_balances(account: Account, now: datetime) -> tuple[int, int]:
    """(available, pending) as of `now`: points whose return window has closed count as
    available even before a job or a write releases them (a release moves no ledger
    amount, so available + pending still equals the ledger's sum)."""
    released = sum(
        lot.points for lot in account.lots if lot.available_at and not lot.pending_at(now)
    )
    return account.balance + released, account.pending - released
