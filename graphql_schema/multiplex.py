"""Identical profile subscriptions in one process share one stream: one execution per
push, and each subscriber only sends the encoded result on its own socket.

A thousand kiosks watching one card with the same document and variables would
otherwise each run the whole GraphQL pipeline for every push. Here each subscription
still opens on its own (its caller's checks, its own current state, through Strawberry
like any operation); then it joins the group for its (document, variables, owner): the
group runs one internal subscription of that document (`Group.run`), encodes each
result once, and puts it in every member's mailbox; the member's own operation task
frames it with the member's operation id and sends it. A slow socket blocks only its
own task, and its mailbox keeps only the newest messages (versions show the gap).

Sharing a result is sound because nothing under a pushed ProfileUpdate depends on the
caller beyond what profiles it may see (ProfileAccess, resolvers/permissions.py): every
key allowed to watch holds profiles:read (resolvers/realtime.py), and the owner (a
customer token's own profile) is part of the group's key.

If the group cannot run (its stream fails), members fall back to their own stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import structlog
from strawberry.types.execution import PreExecutionError

from cdp.json_text import dumps
from resolvers.context import Cached, Context
from resolvers.loaders import build_loaders

log = structlog.get_logger(__name__)
MAILBOX = 64

# Set by our WebSocket handlers around each operation: what a member needs to join.
current_operation: contextvars.ContextVar[Operation | None] = contextvars.ContextVar(
    "current_operation", default=None
)
# Set by the profile stream before each event it yields: whose state, at which version.
pushed_version: contextvars.ContextVar[tuple[str, int]] = contextvars.ContextVar(
    "pushed_version", default=("", 0)
)


@dataclass(frozen=True, slots=True)
class Operation:
    """One subscription as the client sent it, on one socket."""

    id: str
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None
    legacy: bool  # graphql-ws ("data") rather than graphql-transport-ws ("next")


class _End:
    """The group's stream is over (`complete`), or it failed (fall back)."""

    def __init__(self, completed: bool) -> None:
        self.completed = completed


COMPLETED = _End(completed=True)
FAILED = _End(completed=False)
Pushed = tuple[tuple[str, int], str]  # ((profile id, version), encoded payload)
Item = Pushed | _End


class Member:
    """One subscription relaying its group's results to its socket."""

    def __init__(self, operation: Operation, context: Context) -> None:
        kind = "data" if operation.legacy else "next"
        self.head = f'{{"id":{dumps(operation.id)},"type":"{kind}"'
        self.context = context
        self.sent: dict[str, int] = {}  # profile id -> newest version sent
        self._items: deque[Item] = deque()
        self._waiter: asyncio.Future[None] | None = None

    def deliver(self, item: Item) -> None:
        """Never blocks: past MAILBOX waiting messages, the oldest is dropped."""
        if len(self._items) >= MAILBOX and not isinstance(item, _End):
            self._items.popleft()
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def relay(self) -> bool:
        """Send what the group pushes until it ends; True when it completed, False when
        it failed (the caller then watches on its own)."""
        send = self.context.request.send_text  # type: ignore[union-attr]
        while True:
            while not self._items:
                self._waiter = asyncio.get_running_loop().create_future()
                await self._waiter
            item = self._items.popleft()
            if isinstance(item, _End):
                return item.completed
            (profile_id, version), payload = item
            if version <= self.sent.get(profile_id, 0):
                continue  # sent already (from its own stream, before the group was live)
            self.sent[profile_id] = version
            try:
                await send(f'{self.head},"payload":{payload}}}')
            except Exception:
                # The socket is gone: the handler notices and cancels this operation.
                await asyncio.Event().wait()


def _new_future() -> asyncio.Future[None]:
    return asyncio.get_running_loop().create_future()


@dataclass(eq=False)
class Slot:
    """The subscriptions of one (document, variables, owner) in this process. One runs on
    its own stream; a second one forms the group, and both (all) then relay it."""

    key: tuple[Any, ...]
    solo: int = 0
    group: Group | None = None
    formed: asyncio.Future[None] = field(default_factory=_new_future)

    def forget_if_empty(self) -> None:
        if self.solo == 0 and self.group is None and _slots.get(self.key) is self:
            del _slots[self.key]


@dataclass(eq=False)
class Group:
    slot: Slot
    operation: Operation
    context: Context
    members: set[Member] = field(default_factory=set)
    last: Pushed | None = None
    task: asyncio.Task[None] | None = None
    # Resolved by the group's first result (or its end): members then switch to it.
    live: asyncio.Future[None] = field(default_factory=_new_future)

    async def run(self, schema: Any) -> None:
        """The one internal subscription: every result, encoded once, to every member."""
        try:
            stream = await schema.subscribe(
                self.operation.query,
                variable_values=self.operation.variables,
                context_value=self.context,
                operation_name=self.operation.operation_name,
            )
            async with contextlib.aclosing(stream):
                async for result in stream:
                    if isinstance(result, PreExecutionError):
                        self._end(FAILED)
                        return
                    self._push(pushed_version.get(), self._encode(result))
            self._end(COMPLETED)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("subscription_group_failed")
            self._end(FAILED)

    @staticmethod
    def _encode(result: Any) -> str:
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [error.formatted for error in result.errors]
        if result.extensions:
            payload["extensions"] = result.extensions
        return dumps(payload)

    def _push(self, pushed: tuple[str, int], payload: str) -> None:
        self.last = (pushed, payload)
        for member in self.members:
            member.deliver(self.last)
        if not self.live.done():
            self.live.set_result(None)

    def _end(self, how: _End) -> None:
        self._detach()
        for member in self.members:
            member.deliver(how)
        if not self.live.done():
            self.live.set_result(None)

    def _detach(self) -> None:
        slot = self.slot
        if slot.group is self:
            slot.group = None
            slot.formed = _new_future()
            slot.forget_if_empty()


_slots: dict[tuple[Any, ...], Slot] = {}


def slot_for(operation: Operation, owner: str | None) -> Slot:
    variables = dumps(operation.variables) if operation.variables else ""
    key = (operation.query, operation.operation_name, variables, owner)
    slot = _slots.get(key)
    if slot is None:
        slot = _slots[key] = Slot(key)
    return slot


def join(slot: Slot, schema: Any, context: Context, operation: Operation) -> tuple[Group, Member]:
    """Join (or form) the slot's group; the member is handed the group's latest result
    and everything after (it sends only what is newer than what it sent)."""
    group = slot.group
    if group is None:
        # The first member's socket rides along in the context but is never written to.
        group_context = Context(
            context.runtime, context.request, None, Cached(build_loaders(context.runtime.store))
        )
        group_context.caller = context.caller
        group = slot.group = Group(slot, operation, group_context)
        # A fresh context: the group's own stream must not see `current_operation`.
        group.task = asyncio.get_running_loop().create_task(
            group.run(schema), context=contextvars.Context()
        )
        if not slot.formed.done():
            slot.formed.set_result(None)  # the one running alone joins too
    member = Member(operation, context)
    group.members.add(member)
    if group.last is not None:
        member.deliver(group.last)
    return group, member


def leave(group: Group, member: Member) -> None:
    group.members.discard(member)
    if not group.members:
        if group.task is not None:
            group.task.cancel()
        group._detach()


def groups() -> int:
    """How many groups run in this process (for tests)."""
    return sum(1 for slot in _slots.values() if slot.group is not None)
