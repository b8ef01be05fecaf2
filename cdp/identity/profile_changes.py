"""The one way a change to a profile is saved.

Whatever made the change (a purchase, an enrollment, a merge, an erasure), saving it
stages the same things in its unit of work: the profile's next version (the account as
posted, and when the jobs next have work on it), the ledger entries and lots that explain
the account, what expired of each order's points, the new identifier links, the blocking
keys when personal data or status changed, and the update that subscribers and webhooks
get once it commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from cdp.identity.link_repository import stage_links
from cdp.identity.match_keys import stage_match_keys
from cdp.identity.model import IdentifierKey, Profile
from cdp.identity.profile_repository import insert_profile, replace_profile
from cdp.loyalty.ledger_repository import stage_entries
from cdp.loyalty.lot_repository import stage_lot_writes
from cdp.loyalty.model import LedgerEntry
from cdp.loyalty.order_repository import stage_expiries
from cdp.loyalty.posting import Posting
from cdp.loyalty.settle import with_account
from cdp.store.unit_of_work import UnitOfWork
from cdp.updates import ProfileUpdate, UpdateKind


def save_account(
    uow: UnitOfWork,
    profile: Profile,
    posting: Posting,
    kind: UpdateKind,
    *,
    entry: LedgerEntry | None = None,
    tier_changed: bool = False,
) -> Profile:
    """`save_profile` for a change of the account alone (a loyalty movement or a job)."""
    return save_profile(
        uow,
        before=profile,
        after=profile,
        posting=posting,
        kind=kind,
        entry=entry,
        tier_changed=tier_changed,
    )


def save_profile(
    uow: UnitOfWork,
    *,
    before: Profile | None,
    after: Profile,
    posting: Posting | None,
    kind: UpdateKind,
    new_keys: Sequence[IdentifierKey] = (),
    denylist: frozenset[str] = frozenset(),
    entry: LedgerEntry | None = None,
    tier_changed: bool = False,
    rewards_unlocked: tuple[str, ...] = (),
) -> Profile:
    """Stage `after` as the profile's next version, with all that goes with it; announce it.

    `after` carries `before`'s version; the saved profile is one version on. `before` is
    None for a new profile, saved as `after` is (its first version). Without a `posting`
    the account is saved as `after` holds it: only a new profile that holds no points yet.
    """
    assert posting is not None or before is None, "a change is saved with its posting"
    saved = after if posting is None else with_account(after, posting)
    if before is None:
        saved = replace(saved, version=after.version)
        insert_profile(uow, saved)
    else:
        replace_profile(uow, saved, before.version)
    if posting is not None:
        stage_entries(uow, posting.entries)
        stage_lot_writes(uow, posting)
        stage_expiries(uow, posting)
    stage_links(uow, saved.id, new_keys, denylist)
    stage_match_keys(uow, before, saved)
    last_entry = posting.entries[-1] if posting is not None and posting.entries else None
    uow.record(
        ProfileUpdate(
            kind,
            saved,
            saved.updated_at,
            entry=entry or last_entry,
            tier_changed=tier_changed,
            rewards_unlocked=rewards_unlocked,
        )
    )
    return saved
