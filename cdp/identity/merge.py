"""Merging two profiles of one person, and undoing it (invariant 5).

A merge moves the merged profile's identifiers, points (lot by lot, with their expiry and
pending dates), qualifying points, lifetime and bonuses to the survivor; each ledger gets a
MERGE entry, so both still sum to their balances and nothing is counted twice. The merged
profile keeps its id, which resolves to the survivor. What moved is recorded, so
`unmerge` gives back exactly that: the identifiers it brought, and what remains of the
lots it brought. Points spent from those lots after the merge stay spent: the survivor's
member spent them, and taking them back from anyone would invent or destroy points.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from cdp.channel import Channel
from cdp.clock import to_iso
from cdp.enrollment.service import fill_blanks
from cdp.errors import BadInput, Conflict, NotFound
from cdp.identity.audit import stage_audit
from cdp.identity.limits import check_limits
from cdp.identity.link_repository import move_links
from cdp.identity.model import Profile, ProfileStatus
from cdp.identity.profile_changes import save_profile
from cdp.identity.profile_repository import get_stored_profile
from cdp.identity.reviews import close_merged_pair
from cdp.identity.service import live_profile
from cdp.loyalty.lot_repository import load_all, load_lots, open_posting
from cdp.loyalty.model import Account, LedgerEntry, LedgerEntryType
from cdp.loyalty.posting import Posting
from cdp.loyalty.settle import downgrade_if_due, settle
from cdp.runtime import Runtime
from cdp.store.catalogue import MERGES
from cdp.store.schema import SCHEMA_VERSION
from cdp.store.unit_of_work import UnitOfWork
from cdp.updates import UpdateKind

MAX_REASON = 500


Side = tuple[Profile, Profile, Posting, LedgerEntry | None]


def _save_sides(uow: UnitOfWork, kind: UpdateKind, *sides: Side) -> list[Profile]:
    """Save each profile a merge or unmerge changes: (before, after, posting, its entry)."""
    return [
        save_profile(uow, before=before, after=after, posting=posting, kind=kind, entry=entry)
        for before, after, posting, entry in sides
    ]


async def stage_merge(
    uow: UnitOfWork,
    rt: Runtime,
    *,
    survivor: Profile,
    merged: Profile,
    reason: str | None,
    actor: str,
    now: datetime,
) -> Profile:
    """Stage the whole merge in `uow`; returns the survivor's next version."""
    if survivor.id == merged.id:
        raise BadInput("a profile cannot be merged into itself")
    check_limits(survivor, merged, rt.settings)
    program = rt.program
    giver = await open_posting(uow.store, merged, program, now, Channel.ADMIN)
    await load_all(uow.store, giver)
    settle(giver)
    handed, lots, out_entry = giver.hand_over(LedgerEntryType.MERGE, f"merged into {survivor.id}")
    taker = await open_posting(uow.store, survivor, program, now, Channel.ADMIN)
    settle(taker)
    in_entry = taker.take_over(handed, lots, LedgerEntryType.MERGE, f"merged from {merged.id}")
    held = {i.key for i in survivor.identifiers}
    brought = [i for i in merged.identifiers if i.key not in held]
    status = (
        ProfileStatus.ENROLLED
        if ProfileStatus.ENROLLED in (survivor.status, merged.status)
        else survivor.status
    )
    survivor_after = replace(
        survivor,
        status=status,
        enrollment=survivor.enrollment
        if survivor.status is ProfileStatus.ENROLLED
        else merged.enrollment or survivor.enrollment,
        identifiers=(*survivor.identifiers, *brought),
        personal=fill_blanks(survivor.personal, merged.personal),
        merged_from=(*survivor.merged_from, merged.id, *merged.merged_from),
    )
    merged_after = replace(merged, status=ProfileStatus.MERGED, merged_into=survivor.id)
    _, saved = _save_sides(
        uow,
        UpdateKind.MERGED,
        (merged, merged_after, giver, out_entry),
        (survivor, survivor_after, taker, in_entry),
    )
    await move_links(uow, [i.key for i in merged.identifiers], survivor.id)
    record = {
        "id": merged.id,
        "schema": SCHEMA_VERSION,
        "survivor_id": survivor.id,
        "at": to_iso(now),
        "status_before": merged.status.value,
        "identifiers": [i.key for i in brought],
        "account": handed.to_doc(),
        "lot_ids": [lot.id for lot in lots],
        "merged_from": list(merged.merged_from),
    }
    uow.insert(MERGES, record)
    await close_merged_pair(uow, (survivor.id, merged.id), now)
    stage_audit(
        uow,
        action="merge",
        actor=actor,
        reason=reason,
        at=now,
        profile_ids=[survivor.id, merged.id],
        details={
            "survivor": survivor.id,
            "merged": merged.id,
            "identifier_types": sorted(i.type.value for i in brought),
            "points": handed.balance + handed.pending,
        },
    )
    return saved


def _reason(reason: str | None, required: bool) -> str | None:
    text = (reason or "").strip()
    if required and not text:
        raise BadInput("reason is required")
    if len(text) > MAX_REASON:
        raise BadInput(f"reason must be at most {MAX_REASON} characters")
    return text or None


async def merge_profiles(
    rt: Runtime, *, survivor_id: str, merged_id: str, reason: str | None, actor: str
) -> Profile:
    """Fold `merged_id` into `survivor_id`; CONFLICT when merge protection forbids it."""
    why = _reason(reason, required=False)

    async def use_case(uow: UnitOfWork) -> Profile:
        survivor = await live_profile(uow.store, survivor_id)
        merged = await live_profile(uow.store, merged_id)
        if survivor.id == merged.id and merged_id != survivor_id:
            return survivor  # already merged: a replay changes nothing
        return await stage_merge(
            uow,
            rt,
            survivor=survivor,
            merged=merged,
            reason=why,
            actor=actor,
            now=rt.clock.now(),
        )

    return await rt.transaction(use_case, rerun_on={MERGES})


async def unmerge_profile(rt: Runtime, *, merged_id: str, reason: str, actor: str) -> Profile:
    """Restore a merged profile with what it brought (see the module docstring)."""
    why = _reason(reason, required=True)

    async def use_case(uow: UnitOfWork) -> Profile:
        merged = await get_stored_profile(uow.store, merged_id)
        if merged is None:
            raise NotFound(f"profile {merged_id} not found")
        record = await uow.get(MERGES, merged_id)
        if merged.status is not ProfileStatus.MERGED or record is None:
            raise Conflict(f"profile {merged_id} is not merged")
        survivor = await get_stored_profile(uow.store, record["survivor_id"])
        assert survivor is not None, "a merge record names an existing survivor"
        if survivor.status is ProfileStatus.MERGED:
            raise Conflict(f"{survivor.id} was merged again since; unmerge that first")
        now = rt.clock.now()
        return await _stage_unmerge(uow, rt, merged, survivor, record, why, actor, now)

    return await rt.transaction(use_case)


async def _stage_unmerge(
    uow: UnitOfWork,
    rt: Runtime,
    merged: Profile,
    survivor: Profile,
    record: dict[str, Any],
    reason: str | None,
    actor: str,
    now: datetime,
) -> Profile:
    program = rt.program
    brought = Account.from_doc(record["account"])
    taker = await open_posting(uow.store, survivor, program, now, Channel.ADMIN)
    settle(taker)
    await load_lots(uow.store, taker, record["lot_ids"])
    lots, out_entry = taker.give_back_lots(
        set(record["lot_ids"]), LedgerEntryType.UNMERGE, f"unmerged {merged.id}"
    )
    for month, points in brought.qualifying_by_month.items():
        if month in taker.qualifying:
            taker.qualifying[month] = max(0, taker.qualifying[month] - points)
    taker.lifetime -= brought.lifetime
    downgrade_if_due(taker)
    restored = Posting(merged.id, merged.loyalty, program, now, Channel.ADMIN)
    in_entry = restored.receive_lots(lots, LedgerEntryType.UNMERGE, f"unmerged from {survivor.id}")
    restored.lifetime = brought.lifetime
    restored.qualifying = dict(brought.qualifying_by_month)
    restored.tier_id = brought.tier_id or restored.tier_id
    restored.bonuses_granted = list(brought.bonuses_granted)
    returned_keys = set(record["identifiers"])
    gone = set(merged.merged_from) | {merged.id}
    survivor_after = replace(
        survivor,
        identifiers=tuple(i for i in survivor.identifiers if i.key not in returned_keys),
        merged_from=tuple(i for i in survivor.merged_from if i not in gone),
    )
    merged_after = replace(
        merged,
        status=ProfileStatus(record["status_before"]),
        merged_into=None,
        merged_from=tuple(record["merged_from"]),
    )
    _, saved_merged = _save_sides(
        uow,
        UpdateKind.UNMERGED,
        (survivor, survivor_after, taker, out_entry),
        (merged, merged_after, restored, in_entry),
    )
    await move_links(uow, sorted(returned_keys), merged.id)
    uow.delete(MERGES, merged.id)
    stage_audit(
        uow,
        action="unmerge",
        actor=actor,
        reason=reason,
        at=now,
        profile_ids=[merged.id, survivor.id],
        details={
            "survivor": survivor.id,
            "merged": merged.id,
            "identifiers_returned": len(returned_keys),
            "points_restored": sum(lot.points for lot in lots),
            "points_brought": brought.balance + brought.pending,
        },
    )
    return saved_merged
