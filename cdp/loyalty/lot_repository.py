"""Lots in their own collection: the stored form, and the reads the engine makes.

A lot document is held by one profile (`profile_id`) and indexed for what the engine
asks: a member's lots due to be released or expired (`due_at`), the available ones
oldest first for spending (`spend_key`, unset while pending), an order's (`order_key`,
for returns) and those with an expiry (`expires_at`, for the account view). A use case
loads only the lots its movement needs into a `Posting`; `stage_lot_writes` writes back
what the posting changed, each write versioned, in the same commit as the profile.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from cdp.channel import Channel
from cdp.clock import from_iso, to_iso
from cdp.identity.model import Profile
from cdp.loyalty.model import Lot
from cdp.loyalty.posting import Posting, add_months
from cdp.loyalty.program import ExpiryPolicy, Program
from cdp.store.catalogue import LOTS
from cdp.store.port import Document, Query, Range, Store
from cdp.store.schema import SCHEMA_VERSION
from cdp.store.unit_of_work import UnitOfWork

SPEND_PAGE = 32


def _iso(moment: datetime | None) -> str | None:
    return to_iso(moment) if moment else None


def lot_doc(lot: Lot, holder: str, version: int = 0) -> Document:
    due = lot.due_at
    return {
        "id": lot.id,
        "version": version,
        "schema": SCHEMA_VERSION,
        "profile_id": holder,
        "points": lot.points,
        "earned_at": to_iso(lot.earned_at),
        "available_at": _iso(lot.available_at),
        "expires_at": _iso(lot.expires_at),
        "order_key": lot.order_key,
        "due_at": _iso(due),
        # Unique (the id closes it), so spending can page on it; unset while pending.
        "spend_key": None if lot.available_at is not None else f"{lot.spend_key}|{lot.id}",
    }


def lot_of(doc: Document) -> Lot:
    """The lot a document holds: one of this collection, or one schema 1 held inside its
    profile (the same fields, without the ones for indexes)."""
    available, expires = doc.get("available_at"), doc.get("expires_at")
    return Lot(
        id=doc["id"],
        points=doc["points"],
        earned_at=from_iso(doc["earned_at"]),
        available_at=from_iso(available) if available else None,
        expires_at=from_iso(expires) if expires else None,
        order_key=doc.get("order_key"),
    )


def lot_from_doc(doc: Document) -> tuple[Lot, int]:
    """The lot and the version it was stored at."""
    return lot_of(doc), doc["version"]


def stage_lot_writes(uow: UnitOfWork, posting: Posting) -> None:
    """Write what the posting did to its lots: each rewrite and removal names the version
    it read, so a concurrent writer's change makes this commit stale, never lost."""
    changes = posting.lot_changes()
    for lot, version in changes.removed:
        uow.delete(LOTS, lot.id, version)
    for lot, version in changes.changed:
        uow.replace(LOTS, lot_doc(lot, posting.profile_id, version + 1), version)
    for lot in changes.added:
        uow.insert(LOTS, lot_doc(lot, posting.profile_id))


def _loaded(docs: Iterable[Document]) -> list[tuple[Lot, int]]:
    return [lot_from_doc(doc) for doc in docs]


async def open_posting(
    store: Store, profile: Profile, program: Program, now: datetime, channel: Channel
) -> Posting:
    """A posting on the profile's account holding the lots a settle needs: none when no
    lot is due yet; the due ones otherwise (and every one once the inactivity policy
    expires them all)."""
    account = profile.loyalty
    posting = Posting(profile.id, account, program, now, channel)
    expiry = program.expiry
    if (
        expiry.policy is ExpiryPolicy.INACTIVITY
        and account.holds_points
        and account.last_activity_at is not None
        and add_months(account.last_activity_at, expiry.months) <= now
    ):
        await load_all(store, posting)
    elif account.lots_due_at is not None and account.lots_due_at <= now:
        await load_due(store, posting)
    return posting


async def load_due(store: Store, posting: Posting) -> None:
    """The lots due by now, and exactly when the first of the others is due."""
    moment = to_iso(posting.now)
    holder = {"profile_id": posting.profile_id}
    due = await store.find(Query(LOTS, {**holder, "due_at": Range(lte=moment)}, "due_at"))
    later = await store.find(Query(LOTS, {**holder, "due_at": Range(gt=moment)}, "due_at", limit=1))
    posting.add_loaded(_loaded(due))
    posting.unloaded_due = from_iso(later[0]["due_at"]) if later else None


async def load_all(store: Store, posting: Posting) -> None:
    """Every lot the profile holds (a merge hands them all over; the inactivity policy
    expires them all)."""
    posting.add_loaded(_loaded(await held_lot_docs(store, posting.profile_id)))
    posting.unloaded_due = None


async def load_spendable(store: Store, posting: Posting, points: int) -> None:
    """Available lots, soonest expiry first, until they hold `points` (or run out).

    Spending takes the oldest first from what the posting holds; every stored lot not
    loaded sorts after the last one loaded here, so the oldest are always among them.
    """
    cursor = ""
    while True:
        where = {"profile_id": posting.profile_id, "spend_key": Range(gt=cursor)}
        docs = await store.find(Query(LOTS, where, "spend_key", limit=SPEND_PAGE))
        posting.add_loaded(_loaded(docs))
        points -= posting.held_points(doc["id"] for doc in docs)
        if points <= 0 or len(docs) < SPEND_PAGE:
            return
        cursor = docs[-1]["spend_key"]


async def load_order(store: Store, posting: Posting, order_key: str) -> None:
    """The lots this profile holds of one order (a return takes them back first)."""
    docs = await store.find(Query(LOTS, {"order_key": order_key}))
    posting.add_loaded(_loaded(d for d in docs if d["profile_id"] == posting.profile_id))


async def load_lots(store: Store, posting: Posting, lot_ids: Sequence[str]) -> None:
    """The named lots this profile holds; those another profile holds are noted as such."""
    for doc in await store.get_many(LOTS, list(dict.fromkeys(lot_ids))):
        if doc is None:
            continue
        if doc["profile_id"] == posting.profile_id:
            posting.add_loaded([lot_from_doc(doc)])
        else:
            posting.foreign_lot_ids.add(doc["id"])


async def held_lot_docs(store: Store, profile_id: str) -> list[Document]:
    """Every lot a profile holds, as stored (an export, a merge)."""
    return await store.find(Query(LOTS, {"profile_id": profile_id}, "due_at"))


async def held_lots(store: Store, profile_id: str) -> list[Lot]:
    return [lot for lot, _ in _loaded(await held_lot_docs(store, profile_id))]


async def released_points(store: Store, profile: Profile, now: datetime) -> int:
    """Pending points whose return window has closed though no write has released them
    yet: none unless the account says a lot is due."""
    due_at = profile.loyalty.lots_due_at
    if due_at is None or due_at > now:
        return 0
    where = {"profile_id": profile.id, "due_at": Range(lte=to_iso(now))}
    lots = _loaded(await store.find(Query(LOTS, where, "due_at")))
    return sum(lot.points for lot, _ in lots if lot.available_at and not lot.pending_at(now))


async def expiring_points(
    store: Store, profile_id: str, *, shown: int
) -> list[tuple[int, datetime]]:
    """(points, expires at) of the `shown` soonest expiry moments, soonest first.

    Reads the `shown` + 1 soonest-expiring lots (each lot mostly has a moment of its own),
    more of them only while they fall on fewer than `shown` + 1 moments: once a later
    moment begins, every earlier one is whole.
    """
    limit = shown + 1
    while True:
        where = {"profile_id": profile_id, "expires_at": Range(gte="")}
        docs = await store.find(Query(LOTS, where, "expires_at", limit=limit))
        by_moment: dict[str, int] = defaultdict(int)
        for doc in docs:
            by_moment[doc["expires_at"]] += doc["points"]
        if len(docs) < limit or len(by_moment) > shown:
            break
        limit *= 4
    return [(points, from_iso(moment)) for moment, points in sorted(by_moment.items())[:shown]]
