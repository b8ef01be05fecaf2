"""Strawberry's schema-extension runner, minus the per-request set-up it repeats.

For every request and every phase (operation, parsing, validation, execution) the stock
runner looks up each extension's hook, wraps it in a freshly decorated context manager
(`contextlib.contextmanager` copies the function's metadata each time) and enters it
through an `AsyncExitStack`: tens of microseconds a request before any hook runs.

This runner keeps the stock classes and semantics, and only:
- decorates each extension class's generator hooks once (cached per class and phase);
- enters a phase with a single hook directly instead of through an exit stack (what an
  exit stack of one context manager amounts to), and skips phases with none.
Anything else (several hooks in a phase, plain-function hooks, the sync path, streamed
results) goes through Strawberry's own code unchanged.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from functools import partial
from types import TracebackType
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner

_Factory = tuple[Callable[..., Any], bool]
# Per (extension class, hook name): (context manager factory, is_async) for a generator
# hook, None for no hook, False for a hook of another kind (left to Strawberry).
_factories: dict[tuple[type, str], _Factory | bool | None] = {}


def _hook_factory(extension_type: type, hook_name: str) -> _Factory | bool | None:
    key = (extension_type, hook_name)
    try:
        return _factories[key]
    except KeyError:
        pass
    found: _Factory | bool | None
    hook_fn = getattr(extension_type, hook_name)
    if hook_fn is getattr(SchemaExtension, hook_name):
        found = None
    elif inspect.isgeneratorfunction(hook_fn):
        found = contextlib.contextmanager(hook_fn), False
    elif inspect.isasyncgenfunction(hook_fn):
        found = contextlib.asynccontextmanager(hook_fn), True
    else:
        found = False
    _factories[key] = found
    return found


class _LeanPhase(ExtensionContextManagerBase):
    __slots__ = ("_entered",)

    def get_hook(self, extension: SchemaExtension) -> WrappedHook | None:
        found = _hook_factory(type(extension), self.HOOK_NAME)
        if not isinstance(found, tuple):
            return None if found is None else super().get_hook(extension)
        factory, is_async = found
        return WrappedHook(extension=extension, hook=partial(factory, extension), is_async=is_async)

    async def __aenter__(self) -> None:
        hooks = self.hooks
        if len(hooks) != 1:
            if hooks:
                await super().__aenter__()
            return
        hook = hooks[0]
        manager: Any = hook.hook()
        if hook.is_async:
            await manager.__aenter__()
        else:
            manager.__enter__()
        self._entered = manager

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        # Like Strawberry's exit stack, whatever the hook answers suppresses nothing.
        hooks = self.hooks
        if len(hooks) != 1:
            if hooks:
                await super().__aexit__(exc_type, exc_val, exc_tb)
            return
        manager: Any = self._entered
        if hooks[0].is_async:
            await manager.__aexit__(exc_type, exc_val, exc_tb)
        else:
            manager.__exit__(exc_type, exc_val, exc_tb)


class _Operation(_LeanPhase):
    HOOK_NAME = OperationContextManager.HOOK_NAME


class _Validation(_LeanPhase):
    HOOK_NAME = ValidationContextManager.HOOK_NAME


class _Parsing(_LeanPhase):
    HOOK_NAME = ParsingContextManager.HOOK_NAME


class _Executing(_LeanPhase):
    HOOK_NAME = ExecutingContextManager.HOOK_NAME


class LeanExtensionsRunner(SchemaExtensionsRunner):
    def operation(self) -> OperationContextManager:
        return _Operation(self.extensions)  # type: ignore[return-value]

    def validation(self) -> ValidationContextManager:
        return _Validation(self.extensions)  # type: ignore[return-value]

    def parsing(self) -> ParsingContextManager:
        return _Parsing(self.extensions)  # type: ignore[return-value]

    def executing(self) -> ExecutingContextManager:
        return _Executing(self.extensions)  # type: ignore[return-value]
