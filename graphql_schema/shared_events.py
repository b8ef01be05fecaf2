"""One execution per pushed event, shared by every subscriber that asked the same thing.

A thousand kiosks watching one profile run the same document with the same variables on
the same pushed event; executing it a thousand times is most of the cost of a push.
Subscriptions yield one object per event (`shared`), and the executor memoizes the
result per (event, operation, variables) in this process, so the GraphQL work is done
once and only the sending is per subscriber.

This is sound because what a pushed root resolves to depends on who is asking only
through what profiles they may see (resolvers/permissions.py, ProfileAccess: a store's
receipts show their member only to a caller with profiles:read), and that is part of the
key. Any other check of the caller under ProfileUpdate or Receipt must join the key too.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from graphql import ExecutionResult

from graphql_schema.plain_executor import PlainExecutor
from resolvers.permissions import profile_visibility

T = TypeVar("T")
S = TypeVar("S")
EVENTS_KEPT = 256
RESULTS_KEPT = 1024


class _Recent:
    """A small LRU keyed by object identity; each entry keeps its key object alive, so
    an id is never reused while it is remembered."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Any, tuple[Any, Any]] = OrderedDict()

    def get(self, key: Any, owner: Any) -> Any | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] is not owner:
            return None
        return entry[1]

    def put(self, key: Any, owner: Any, value: Any) -> None:
        self._entries[key] = (owner, value)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def keep_result(self, key: Any, owner: Any, task: asyncio.Future[Any]) -> None:
        """Once `task` is done, remember its result instead of the task: a finished task
        still holds the contextvars of the subscriber that started it (its request's
        context and socket), which must not outlive that subscriber."""

        def settle(done: asyncio.Future[Any]) -> None:
            entry = self._entries.get(key)
            if entry is None or entry[1] is not done:
                return
            if done.cancelled() or done.exception() is not None:
                del self._entries[key]  # the subscribers waiting on it see the failure
            else:
                self._entries[key] = (owner, done.result())

        task.add_done_callback(settle)


_converted = _Recent(EVENTS_KEPT)


def shared(event: S, convert: Callable[[S], T]) -> T:
    """`convert(event)`, the same object for the same event object (decoded once per
    process, see cdp.realtime.messages), so subscribers share its execution."""
    found = _converted.get(id(event), event)
    if found is None:
        found = convert(event)
        _converted.put(id(event), event, found)
    return found


async def shared_async(event: S, convert: Callable[[S], Awaitable[T]]) -> T:
    """`shared` for a conversion that awaits (it runs once; the others wait for it)."""
    found = _converted.get(id(event), event)
    if found is None:
        found = asyncio.ensure_future(_as_coroutine(convert(event)))
        _converted.put(id(event), event, found)
        _converted.keep_result(id(event), event, found)
    if isinstance(found, asyncio.Future):
        return await asyncio.shield(found)
    return found  # type: ignore[no-any-return]


_results = _Recent(RESULTS_KEPT)


def _copy(result: ExecutionResult) -> ExecutionResult:
    # Each subscriber's pipeline may rewrite its error list (error codes): give it its own.
    errors = list(result.errors) if result.errors else None
    return ExecutionResult(result.data, errors, result.extensions)


async def _awaited(task: asyncio.Future[ExecutionResult]) -> ExecutionResult:
    # Shielded: a subscriber leaving mid-way must not cancel the others' result.
    return _copy(await asyncio.shield(task))


class SharedEventExecutor(PlainExecutor):
    _variables_key: str | None = None

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        if self._variables_key is None:
            raw = self.variable_values.coerced
            self._variables_key = json.dumps(raw, sort_keys=True, default=repr)
        caller = getattr(self.context_value, "caller", None)
        executor._event_key = (  # type: ignore[attr-defined]
            id(payload),
            id(self.operation),
            self._variables_key,
            profile_visibility(caller) if caller is not None else None,
        )
        return executor

    def execute_operation(self, serially: bool | None = None) -> Any:
        key = getattr(self, "_event_key", None)
        if key is None:  # a query, a mutation, or a subscription's source stream
            return super().execute_operation(serially)
        found = _results.get(key, self.root_value)
        if found is None:
            result = super().execute_operation(serially)
            if not self.is_awaitable(result):
                _results.put(key, self.root_value, result)
                return _copy(result)  # type: ignore[arg-type]
            found = asyncio.ensure_future(_as_coroutine(result))
            _results.put(key, self.root_value, found)
            _results.keep_result(key, self.root_value, found)
        if isinstance(found, asyncio.Future):
            return _awaited(found)
        return _copy(found)


async def _as_coroutine(awaitable: Awaitable[T]) -> T:
    return await awaitable
