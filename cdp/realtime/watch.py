"""The streams behind the subscriptions: one profile's updates, one store's receipts.

Pushes are at most once and carry versions. A profile stream subscribes first and
reads the current state second, so nothing committed in between is missed; it then
drops anything not newer than what it already yielded (a replay, or an update that
overtook an older one), and reads the state again after a broker outage (`GAP`) or a
message it cannot read (another release's format).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, replace
from datetime import datetime

from cdp.broker.port import GAP
from cdp.errors import Forbidden, NotFound
from cdp.identity.model import IdentifierKey, Profile, ProfileStatus
from cdp.identity.service import find_profiles, get_profile
from cdp.loyalty.program import Program, Reward
from cdp.loyalty.rewards import affordable_with, unlocked
from cdp.realtime.messages import (
    PushedReceipt,
    PushedUpdate,
    decode_receipt,
    decode_update,
    profile_topic,
    receipts_topic,
)
from cdp.runtime import Runtime
from cdp.store.port import Store
from cdp.updates import UpdateKind


@dataclass(frozen=True, slots=True)
class Watched:
    """What a subscriber asked to watch: a profile id or an identifier."""

    profile_id: str | None = None
    identifier: IdentifierKey | None = None


async def locate(store: Store, watched: Watched) -> Profile | None:
    """The live profile behind the request (a merged one's survivor), if any."""
    if watched.identifier is not None:
        found = (await find_profiles(store, [watched.identifier]))[0]
    else:
        assert watched.profile_id is not None
        found = await get_profile(store, watched.profile_id)
    if found is None or found.status is ProfileStatus.FORGOTTEN:
        return None
    return found


async def _owned_by(store: Store, profile: Profile, owner: str) -> bool:
    own = await get_profile(store, owner)
    return own is not None and own.id == profile.id


def _affordable(program: Program, state: PushedUpdate, at: datetime) -> list[Reward]:
    return affordable_with(program, state.status, state.tier_id, state.balance, at)


def _with_unlocked(program: Program, update: PushedUpdate, seen: PushedUpdate) -> PushedUpdate:
    """Name the rewards this update unlocked, when the use case did not, against the state
    this subscriber saw last (stock is left to `Reward.available`)."""
    if update.rewards_unlocked:
        return update
    at = update.at
    ids = unlocked(_affordable(program, seen, at), _affordable(program, update, at))
    return replace(update, rewards_unlocked=ids) if ids else update


async def watch_profile(
    rt: Runtime, watched: Watched, *, owner: str | None = None
) -> AsyncGenerator[PushedUpdate, None]:
    """The current state (PROFILE_CHANGED), then one update per change, following merges.

    `owner`: a customer's own profile id; anyone else's profile is FORBIDDEN. The checks
    run before the first message, so a caller can `anext` once to surface them.
    """
    profile = await locate(rt.store, watched)
    if profile is None:
        raise NotFound("profile not found")
    if owner is not None and not await _owned_by(rt.store, profile, owner):
        raise Forbidden("a customer token may watch only its own profile")
    kind = UpdateKind.PROFILE_CHANGED
    profile_id = profile.id
    del profile
    while True:
        async with rt.broker.subscribe(profile_topic(profile_id)) as messages:
            current = await get_profile(rt.store, profile_id)
            if current is None or current.status is ProfileStatus.FORGOTTEN:
                return
            if current.id != profile_id:  # merged while we subscribed: follow it
                profile_id = current.id
                continue
            seen = PushedUpdate.snapshot(kind, current)
            del current
            yield seen
            moved = None
            seen = replace(seen, profile=None)  # idle, hold only the slim state
            async for message in messages:
                update = None if message == GAP else decode_update(message)
                if update is None:
                    fresh = await get_profile(rt.store, profile_id)
                    if fresh is None or fresh.id != profile_id:
                        moved, kind = fresh, UpdateKind.MERGED
                        break
                    if fresh.version > seen.version:
                        refetched = PushedUpdate.snapshot(UpdateKind.PROFILE_CHANGED, fresh)
                        yield _with_unlocked(rt.program, refetched, seen)
                        seen = replace(refetched, profile=None)
                    continue
                if update.version <= seen.version:
                    continue
                if update.status is ProfileStatus.MERGED:
                    # Continue on the survivor's topic; its state comes from the store,
                    # read after subscribing, so nothing between is lost.
                    moved = await get_profile(rt.store, update.profile_id)
                    kind = UpdateKind.MERGED
                    break
                if update.kind is UpdateKind.UNMERGED:
                    back = await locate(rt.store, watched)
                    if back is not None and back.id != profile_id:
                        moved, kind = back, UpdateKind.UNMERGED
                        break
                yield _with_unlocked(rt.program, update, seen)
                seen = update
                if update.kind is UpdateKind.FORGOTTEN:
                    return
        if moved is None or moved.status is ProfileStatus.FORGOTTEN:
            return
        if owner is not None and not await _owned_by(rt.store, moved, owner):
            return
        profile_id = moved.id


async def watch_receipts(
    rt: Runtime, store_id: str, register_id: str | None = None
) -> AsyncGenerator[PushedReceipt, None]:
    """Every purchase and return accrued at a store (or one of its registers) from now on."""
    async with rt.broker.subscribe(receipts_topic(store_id, register_id)) as messages:
        async for message in messages:
            pushed = None if message == GAP else decode_receipt(message)
            if pushed is not None:
                yield pushed
