"""Background work on accounts: release pending points, expire points, review tiers.

Each job visits only profiles whose `due_at` has passed, and changes each one in its own
versioned transaction, so a crash loses nothing and two copies running at once cannot
apply the same change twice: the second one's write is stale, it re-reads and finds
nothing left to do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

import structlog

from cdp.channel import Channel
from cdp.clock import to_iso
from cdp.identity.model import Profile, ProfileStatus
from cdp.identity.profile_changes import save_account
from cdp.identity.profile_repository import due_profiles, replace_profile
from cdp.identity.service import get_profile
from cdp.loyalty.lot_repository import open_posting
from cdp.loyalty.model import LedgerEntryType
from cdp.loyalty.posting import Posting
from cdp.loyalty.settle import downgrade_if_due, next_due
from cdp.retention import apply_retention
from cdp.runtime import Runtime
from cdp.store.unit_of_work import UnitOfWork
from cdp.updates import UpdateKind

BATCH = 200
log = structlog.get_logger(__name__)


class Job(StrEnum):
    RELEASE = "release"
    EXPIRE = "expire"
    TIERS = "tiers"
    RETENTION = "retention"  # not per profile: cdp.retention


STEPS: dict[Job, Callable[[Posting], object]] = {
    Job.RELEASE: Posting.release_due,
    Job.EXPIRE: Posting.expire_due,
    Job.TIERS: downgrade_if_due,
}


@dataclass(slots=True)
class JobReport:
    visited: int = 0
    changed: int = 0


async def run_jobs(rt: Runtime, jobs: frozenset[Job], *, max_profiles: int = 10_000) -> JobReport:
    """Work through the profiles that are due now, at most `max_profiles` of them."""
    report = JobReport()
    jobs = jobs & STEPS.keys()
    if not jobs:
        return report
    cursor = ""
    seen: set[str] = set()
    while report.visited < max_profiles:
        now = rt.clock.now()
        due = await due_profiles(rt.store, until=to_iso(now), from_due=cursor, limit=BATCH)
        fresh = [profile_id for profile_id, _ in due if profile_id not in seen]
        if not fresh:
            break
        for profile_id in fresh[: max_profiles - report.visited]:
            seen.add(profile_id)
            report.visited += 1
            if await _run_one(rt, profile_id, jobs):
                report.changed += 1
        cursor = due[-1][1]
    return report


async def _run_one(rt: Runtime, profile_id: str, jobs: frozenset[Job]) -> bool:
    async def use_case(uow: UnitOfWork) -> bool:
        profile = await get_profile(uow.store, profile_id)
        if (
            profile is None
            or profile.id != profile_id
            or profile.status
            in (
                ProfileStatus.MERGED,
                ProfileStatus.FORGOTTEN,
            )
        ):
            return False
        now = rt.clock.now()
        posting = await open_posting(uow.store, profile, rt.program, now, Channel.ADMIN)
        before = (posting.balance, posting.pending, posting.tier_id)
        for job in sorted(jobs):
            STEPS[job](posting)
        if (posting.balance, posting.pending, posting.tier_id) == before and not posting.entries:
            _reschedule(uow, rt, profile, posting)
            return False
        kind = _kind(posting, before[2])
        save_account(uow, profile, posting, kind, tier_changed=posting.tier_id != before[2])
        return True

    return await rt.transaction(use_case)


def _kind(posting: Posting, tier_before: str) -> UpdateKind:
    if any(e.type is LedgerEntryType.EXPIRE for e in posting.entries):
        return UpdateKind.POINTS_EXPIRED
    if posting.tier_id != tier_before:
        return UpdateKind.TIER_CHANGED
    return UpdateKind.PROFILE_CHANGED


def _reschedule(uow: UnitOfWork, rt: Runtime, profile: Profile, posting: Posting) -> None:
    """Nothing changed for the member: only move `due_at` on (no new version, no push),
    to when the lots the posting looked at say the next one is due."""
    account = replace(profile.loyalty, lots_due_at=posting.lots_due_at())
    due = next_due(rt.program, account, rt.clock.now())
    if (due, account) != (profile.due_at, profile.loyalty):
        moved = replace(profile, due_at=due, loyalty=account)
        replace_profile(uow, moved, profile.version)


ALL_JOBS = frozenset(Job)


async def job_loop(rt: Runtime, interval_seconds: float) -> None:
    """Run every job every `interval_seconds` until cancelled; a failed round is logged
    and retried next round (each profile's change is its own transaction)."""
    while True:
        try:
            report = await run_jobs(rt, ALL_JOBS)
            if report.changed:
                log.info("jobs_round", visited=report.visited, changed=report.changed)
            kept = await apply_retention(rt)
            if kept.total:
                log.info("retention_round", **kept.deleted)
        except Exception:
            log.exception("jobs_round_failed")
        await asyncio.sleep(interval_seconds)
