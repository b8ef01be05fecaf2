"""`cdp migrate`: bring a store written by an earlier version to `SCHEMA_VERSION`.

Schema 1 to 2 moves each profile's points lots out of its document into the lots
collection, and has each merge record name the lots it moved by id instead of holding
copies of them. A profile moves in one transaction of its own: its lots inserted, the
profile rewritten without them (at the same `version`: nothing changed for the member, so
nothing is pushed), marked `schema: 2`. So a crash loses nothing and leaves no profile
half moved, and a rerun skips what is done and finishes the rest: the migration is
idempotent and resumable. Two runs at once are safe too: the second to commit a profile's
lots finds them taken, reruns, and sees the profile already moved.

Run it with the service stopped: a process of the earlier version still writing would
put lots back inside the profiles it saves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from cdp.loyalty.lot_repository import lot_doc, lot_of
from cdp.store.catalogue import LOTS, MERGES, PROFILES
from cdp.store.port import Document, Query, Range, Store
from cdp.store.schema import SCHEMA_VERSION, schema_of
from cdp.store.unit_of_work import UnitOfWork, transaction

PAGE_SIZE = 200


@dataclass(slots=True)
class MigrationReport:
    profiles: int = 0  # profiles moved to this schema by this run
    lots: int = 0  # lots moved out of them
    merges: int = 0  # merge records rewritten


def _outdated(doc: Document) -> bool:
    return schema_of(doc) < SCHEMA_VERSION


async def _move_profile_lots(uow: UnitOfWork, profile_id: str) -> int | None:
    """One profile's lots into the lots collection: how many moved (None when done before)."""
    doc = await uow.get(PROFILES, profile_id)
    if doc is None or not _outdated(doc):
        return None
    account = dict(doc["loyalty"])
    lots = [lot_of(held) for held in account.pop("lots", None) or ()]
    # Schema 1 could hold one lot id in two accounts (a void after an unmerge): the
    # second one to move gets an id of its own.
    taken = await uow.get_many(LOTS, [lot.id for lot in lots])
    due: list[str] = []
    for lot, stored in zip(lots, taken, strict=True):
        lot_id = lot.id if stored is None else f"{lot.id}+{profile_id}"
        moved = lot_doc(replace(lot, id=lot_id), profile_id)
        uow.insert(LOTS, moved)
        if moved["due_at"] is not None:
            due.append(moved["due_at"])
    account["lots_due_at"] = min(due) if due else None
    migrated = {**doc, "schema": SCHEMA_VERSION, "loyalty": account}
    uow.replace(PROFILES, migrated, doc["version"])
    return len(lots)


async def _rewrite_merge_record(uow: UnitOfWork, merged_id: str) -> int | None:
    """A merge record naming the lots it moved by id: how many (None when done before)."""
    doc = await uow.get(MERGES, merged_id)
    if doc is None or not _outdated(doc):
        return None
    account = dict(doc["account"])
    lot_ids = [held["id"] for held in account.pop("lots", None) or ()]
    rewritten = {**doc, "schema": SCHEMA_VERSION, "account": account, "lot_ids": lot_ids}
    uow.replace(MERGES, rewritten, doc["version"])
    return len(lot_ids)


async def _each_outdated(
    store: Store, collection: str, move: Callable[[UnitOfWork, str], Awaitable[int | None]]
) -> tuple[int, int]:
    """Run `move` on every document of `collection` not yet at this schema, each in a
    transaction of its own, in id order: (documents it changed, lots they counted)."""
    documents = counted = 0
    after = ""
    while True:
        page = await store.find(Query(collection, {"id": Range(gt=after)}, limit=PAGE_SIZE))
        if not page:
            return documents, counted
        after = page[-1]["id"]
        for doc in page:
            if not _outdated(doc):
                continue

            async def use_case(uow: UnitOfWork, doc_id: str = doc["id"]) -> int | None:
                return await move(uow, doc_id)

            moved = await transaction(store, use_case, rerun_on={LOTS})
            if moved is not None:
                documents += 1
                counted += moved


async def migrate(store: Store) -> MigrationReport:
    """Bring every profile and merge record to `SCHEMA_VERSION`."""
    report = MigrationReport()
    report.profiles, report.lots = await _each_outdated(store, PROFILES, _move_profile_lots)
    report.merges, _ = await _each_outdated(store, MERGES, _rewrite_merge_record)
    return report
