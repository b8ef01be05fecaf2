"""Subscriptions: a profile's updates and a store's receipts, over WebSocket.

Each checks the connection's caller and surfaces NOT_FOUND / FORBIDDEN before the
stream starts (the client gets an error message, not an empty stream). A WebSocket's
context lives as long as the connection, so every pushed event starts with fresh
DataLoaders and stock counts (`Context.forget_cached`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable
from functools import partial
from typing import Any

import strawberry

from cdp.auth.model import Caller, Scope
from cdp.errors import BadInput, Forbidden
from cdp.identity import service
from cdp.realtime.messages import PushedReceipt, PushedUpdate
from cdp.realtime.watch import Watched, watch_profile, watch_receipts
from graphql_schema import multiplex
from graphql_schema.identifiers import IdentifierInput
from graphql_schema.loyalty import Receipt, Reward
from graphql_schema.multiplex import pushed_version
from graphql_schema.realtime import ProfileUpdate
from graphql_schema.shared_events import shared, shared_async
from resolvers.context import Info
from resolvers.permissions import authenticated, require

MAX_ID_LENGTH = 200


def _watched(
    info: Info, caller: Caller, id: strawberry.ID | None, identifier: IdentifierInput | None
) -> Watched:
    if id is not None and identifier is not None:
        raise BadInput("give at most one of id or identifier")
    if identifier is not None:
        raw = service.RawIdentifier(identifier.type, identifier.value)
        return Watched(identifier=service.normalize(info.context.runtime, raw))
    if id is not None:
        return Watched(profile_id=str(id))
    if caller.is_customer and caller.customer_profile_id is not None:
        return Watched(profile_id=caller.customer_profile_id)  # a customer's own profile
    raise BadInput("give one of id or identifier")


async def _caller_who_may_watch(info: Info) -> tuple[Caller, str | None]:
    """The caller, and for a customer token the only profile it may watch."""
    caller = await authenticated(info)
    if caller.is_customer:
        if caller.customer_profile_id is None:
            raise Forbidden("this customer token has no profile yet")
        return caller, caller.customer_profile_id
    if not caller.allows(Scope.PROFILES_READ):
        raise Forbidden(f"this caller lacks the {Scope.PROFILES_READ.value} scope")
    return caller, None


async def profile_updates(
    info: Info, id: strawberry.ID | None = None, identifier: IdentifierInput | None = None
) -> AsyncGenerator[ProfileUpdate, None]:
    caller, owner = await _caller_who_may_watch(info)
    watched = _watched(info, caller, id, identifier)
    open_stream = partial(watch_profile, info.context.runtime, watched, owner=owner)
    stream = open_stream()
    try:
        first = await anext(stream)
    except BaseException:
        await stream.aclose()
        raise
    return _updates(info, owner, first, stream, open_stream)


async def _updates(
    info: Info,
    owner: str | None,
    first: PushedUpdate,
    stream: AsyncGenerator[PushedUpdate, None],
    open_stream: Callable[[], AsyncGenerator[PushedUpdate, None]],
) -> AsyncGenerator[ProfileUpdate, None]:
    sent: dict[str, int] = {}  # profile id -> newest version sent (a merge changes the id)

    def fresh(update: PushedUpdate) -> bool:
        if update.version <= sent.get(update.profile_id, 0):
            return False
        sent[update.profile_id] = update.version
        return True

    def pushed(update: PushedUpdate) -> ProfileUpdate:
        info.context.forget_cached()
        pushed_version.set((update.profile_id, update.version))
        return shared(update, ProfileUpdate.from_domain)

    reader = _Reader(stream)
    try:
        fresh(first)
        pushed_version.set((first.profile_id, first.version))
        yield ProfileUpdate.from_domain(first)
        del first  # an idle subscription keeps as little as it can
        operation = multiplex.current_operation.get()
        if operation is not None:
            # Over a WebSocket, identical subscriptions share one stream (multiplex.py).
            slot = multiplex.slot_for(operation, owner)
            if slot.group is None and slot.solo == 0:
                # Alone: our own stream. When a twin forms the group we join it at our
                # next update; until then our stream still carries every update.
                slot.solo += 1
                try:
                    while not slot.formed.done():
                        update = await reader.next_or(None)
                        if update is _ENDED:
                            return
                        if fresh(update):
                            yield pushed(update)
                finally:
                    slot.solo -= 1
                    slot.forget_if_empty()
            group, member = multiplex.join(slot, info.schema, info.context, operation)
            try:
                # Our own stream keeps us whole until the group's first result.
                while (update := await reader.next_or(group.live)) is not None:
                    if update is _ENDED:
                        break
                    if fresh(update):
                        yield pushed(update)
                await reader.close()
                member.sent = sent
                if await member.relay():
                    return
            finally:
                multiplex.leave(group, member)
            reader = _Reader(open_stream())  # the group failed: on our own from here
        while (update := await reader.next_or(None)) is not _ENDED:
            if fresh(update):
                yield pushed(update)
    finally:
        await reader.close()


_ENDED: Any = object()


class _Reader:
    """Reads a stream while waiting on something else, without losing a read: a pending
    read is kept for the next call (cancelling one would close the stream)."""

    def __init__(self, stream: AsyncGenerator[PushedUpdate, None]) -> None:
        self.stream = stream
        self.pending: asyncio.Future[PushedUpdate] | None = None

    async def next_or(self, done: asyncio.Future[None] | None) -> Any:
        """The next update; None if `done` resolved first; _ENDED when the stream ends."""
        if done is None and self.pending is None:
            return await anext(self.stream, _ENDED)
        if self.pending is None:
            self.pending = asyncio.ensure_future(anext(self.stream, _ENDED))
        if done is not None:
            racing: set[asyncio.Future[Any]] = {self.pending, done}
            await asyncio.wait(racing, return_when=asyncio.FIRST_COMPLETED)
            if not self.pending.done():
                return None
        read, self.pending = self.pending, None
        return await read

    async def close(self) -> None:
        if self.pending is not None and not self.pending.done():
            self.pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.pending
        self.pending = None
        await self.stream.aclose()


async def receipts(
    info: Info, store_id: str, register_id: str | None = None
) -> AsyncGenerator[Receipt, None]:
    await require(info, Scope.LOYALTY_READ)
    for name, value in (("storeId", store_id), ("registerId", register_id)):
        if value is not None and not 0 < len(value) <= MAX_ID_LENGTH:
            raise BadInput(f"{name} must be 1 to {MAX_ID_LENGTH} characters")
    return _receipts(info, watch_receipts(info.context.runtime, store_id, register_id))


async def _receipts(
    info: Info, stream: AsyncGenerator[PushedReceipt, None]
) -> AsyncGenerator[Receipt, None]:
    try:
        async for pushed in stream:
            info.context.forget_cached()
            yield await shared_async(pushed, partial(_receipt, info))
    finally:
        await stream.aclose()


async def _receipt(info: Info, pushed: PushedReceipt) -> Receipt:
    context = info.context
    rt = context.runtime
    rewards: list[Reward] = []
    if pushed.receipt.rewards_unlocked:
        issued = await context.stock_issued()
        now = rt.clock.now()
        rules = (rt.program.reward(rid) for rid in pushed.receipt.rewards_unlocked)
        rewards = [Reward.from_domain(r, rt.program, issued, now) for r in rules if r is not None]
    return Receipt.from_domain(pushed.receipt, rt.program, rewards, pushed.member)
