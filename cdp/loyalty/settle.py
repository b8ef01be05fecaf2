"""Bringing an account up to date: pending points released, expired points written off,
the tier re-evaluated. Runs inside every loyalty write and in the background jobs."""

from __future__ import annotations

from datetime import datetime

from cdp.identity.model import Profile
from cdp.loyalty.model import Account
from cdp.loyalty.posting import Posting, add_months
from cdp.loyalty.program import DowngradePolicy, ExpiryPolicy, Program
from cdp.loyalty.tiers import qualifying_points, tier_for, tier_rank


def settle(posting: Posting) -> bool:
    """Apply what is due at `posting.now`; True when the tier went down."""
    posting.release_due()
    posting.expire_due()
    return downgrade_if_due(posting)


def downgrade_if_due(posting: Posting) -> bool:
    program = posting.program
    if program.tiers.downgrade is DowngradePolicy.NEVER:
        return False
    account = Account(qualifying_by_month=posting.qualifying)
    earned = tier_for(program, qualifying_points(program, account, posting.now))
    if tier_rank(program, earned.id) < tier_rank(program, posting.tier_id):
        posting.tier_id = earned.id
        return True
    return False


def upgrade_if_reached(posting: Posting) -> bool:
    """Tiers go up the moment the threshold is crossed."""
    program = posting.program
    account = Account(qualifying_by_month=posting.qualifying)
    earned = tier_for(program, qualifying_points(program, account, posting.now))
    if tier_rank(program, earned.id) > tier_rank(program, posting.tier_id):
        posting.tier_id = earned.id
        return True
    return False


def next_due(program: Program, account: Account, now: datetime) -> datetime | None:
    """The earliest moment a job has something to do on this account."""
    moments = [account.lots_due_at] if account.lots_due_at is not None else []
    if (
        program.expiry.policy is ExpiryPolicy.INACTIVITY
        and account.holds_points
        and account.last_activity_at is not None
    ):
        moments.append(add_months(account.last_activity_at, program.expiry.months))
    base_tier = program.tiers.levels[0].id
    if program.tiers.downgrade is DowngradePolicy.WINDOW and account.tier_id not in ("", base_tier):
        first_of_month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        moments.append(add_months(first_of_month, 1))
    return min(moments) if moments else None


def with_account(profile: Profile, posting: Posting) -> Profile:
    """The next version of `profile` holding the posting's account."""
    account = posting.account()
    return profile.changed(
        posting.now, loyalty=account, due_at=next_due(posting.program, account, posting.now)
    )
