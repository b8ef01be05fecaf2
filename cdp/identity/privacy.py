"""A member's rights over their data: see everything we hold, and be forgotten."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cdp.channel import Channel
from cdp.errors import Conflict, NotFound
from cdp.identity.audit import stage_audit
from cdp.identity.link_repository import unlink
from cdp.identity.match_keys import stage_match_keys
from cdp.identity.model import PersonalData, Profile, ProfileStatus
from cdp.identity.profile_changes import save_profile
from cdp.identity.profile_repository import replace_profile, stored_profiles
from cdp.identity.service import get_profile
from cdp.loyalty.lot_repository import held_lot_docs
from cdp.loyalty.posting import Posting
from cdp.runtime import Runtime
from cdp.store.catalogue import (
    AUDIT,
    DELIVERIES,
    EVENTS,
    LEDGER,
    MERGES,
    ORDERS,
    REDEMPTIONS,
)
from cdp.store.port import OneOf, Query
from cdp.store.unit_of_work import UnitOfWork
from cdp.updates import UpdateKind
from cdp.webhooks.payloads import redacted


async def export_profile(rt: Runtime, *, profile_id: str) -> dict[str, Any]:
    """Everything held about a member: profile, identifiers, the lots behind its balance,
    ledger, redemptions, orders, events and the audit trail (of this profile and those
    merged into it; a merged profile's lots moved to this one)."""
    profile = await get_profile(rt.store, profile_id)
    if profile is None:
        raise NotFound(f"profile {profile_id} not found")
    ids = OneOf(profile.history_ids)
    store = rt.store
    return {
        "profile": profile.to_doc(),
        "lots": await held_lot_docs(store, profile.id),
        "ledger": await store.find(Query(LEDGER, {"profile_id": ids}, order_by="sort_key")),
        "redemptions": await store.find(
            Query(REDEMPTIONS, {"profile_id": ids}, order_by="sort_key")
        ),
        "orders": await store.find(Query(ORDERS, {"profile_id": ids})),
        "events": await store.find(Query(EVENTS, {"profile_id": ids})),
        "audit": await store.find(Query(AUDIT, {"profile_id": ids}, order_by="at")),
        "webhook_deliveries": await store.find(Query(DELIVERIES, {"profile_id": ids})),
    }


async def _erase_merged(uow: UnitOfWork, merged_ids: tuple[str, ...]) -> None:
    """Profiles merged into a forgotten one hold the same person's data: erase it too,
    with their blocking keys (which carry it), and the merge records (which name
    identifiers), so nothing can be unmerged back."""
    for merged in await stored_profiles(uow.store, list(merged_ids)):
        if merged is None:
            continue
        erased = replace(
            merged, personal=PersonalData(), identifiers=(), version=merged.version + 1
        )
        replace_profile(uow, erased, merged.version)
        stage_match_keys(uow, merged, erased)
        if await uow.get(MERGES, merged.id) is not None:
            uow.delete(MERGES, merged.id)


async def _redact_deliveries(uow: UnitOfWork, profile_ids: tuple[str, ...]) -> None:
    """Webhook deliveries still queued, or kept for redelivery, carry the profile as it
    was: keep each event (the CRM still learns what happened, then `profile.forgotten`),
    drop the person from it. One already on the wire goes out as it was; its dispatcher
    loses the lease and the retry sends the redacted copy under the same idempotency key.
    """
    for doc in await uow.find(Query(DELIVERIES, {"profile_id": OneOf(profile_ids)})):
        payload = redacted(doc["payload"])
        if payload is None:
            continue
        uow.replace(
            DELIVERIES, {**doc, "payload": payload, "version": doc["version"] + 1}, doc["version"]
        )


async def forget_profile(rt: Runtime, *, profile_id: str, actor: str) -> Profile:
    """Erase personal data and identifiers; keep anonymous ledger amounts and the lots
    behind the balance (points, dates and order keys: nothing personal); FORGOTTEN.

    The erased identifiers are unlinked, so they no longer find this profile (and may
    be used by someone else).
    """

    async def use_case(uow: UnitOfWork) -> Profile:
        profile = await get_profile(uow.store, profile_id)
        if profile is None or profile.id != profile_id:
            raise NotFound(f"profile {profile_id} not found")
        if profile.status is ProfileStatus.FORGOTTEN:
            return profile
        if profile.status is ProfileStatus.MERGED:
            raise Conflict("forget the surviving profile instead")
        now = rt.clock.now()
        await unlink(uow, [identifier.key for identifier in profile.identifiers], profile.id)
        erased = replace(
            profile, status=ProfileStatus.FORGOTTEN, personal=PersonalData(), identifiers=()
        )
        await _erase_merged(uow, profile.merged_from)
        await _redact_deliveries(uow, profile.history_ids)
        for event in await uow.find(Query(EVENTS, {"profile_id": OneOf(profile.history_ids)})):
            uow.delete(EVENTS, event["id"])
        posting = Posting(profile.id, profile.loyalty, rt.program, now, Channel.ADMIN)
        saved = save_profile(
            uow, before=profile, after=erased, posting=posting, kind=UpdateKind.FORGOTTEN
        )
        stage_audit(
            uow,
            action="forget",
            actor=actor,
            reason="erasure request",
            at=now,
            profile_ids=[profile.id],
            details={"identifiers_erased": len(profile.identifiers)},
        )
        return saved

    return await rt.transaction(use_case)
