"""What every use case runs against: store, broker, clock, settings and program rules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cdp.broker.port import Broker
from cdp.clock import Clock
from cdp.loyalty.program import Program
from cdp.realtime.publisher import publish_updates
from cdp.settings import Settings
from cdp.store.port import Store
from cdp.store.unit_of_work import BeforeCommit, UnitOfWork, transaction
from cdp.webhooks.outbox import Outbox

T = TypeVar("T")


@dataclass(slots=True)
class Runtime:
    store: Store
    broker: Broker
    clock: Clock
    settings: Settings
    program: Program
    # Stage writes derived from a unit of work's events before it commits.
    commit_hooks: list[BeforeCommit] = field(default_factory=list)
    outbox: Outbox = field(init=False)

    def __post_init__(self) -> None:
        """Every runtime writes webhook deliveries with its changes (invariant 7)."""
        self.outbox = Outbox(self.store)
        self.commit_hooks.insert(0, self.outbox.stage)

    async def transaction(
        self,
        use_case: Callable[[UnitOfWork], Awaitable[T]],
        *,
        rerun_on: AbstractSet[str] = frozenset(),
    ) -> T:
        """Commit `use_case` (retrying stale reads), then publish what it recorded."""
        return await transaction(
            self.store,
            use_case,
            before_commit=self._stage,
            after_commit=self._publish,
            rerun_on=rerun_on,
        )

    async def _stage(self, uow: UnitOfWork) -> None:
        for hook in self.commit_hooks:
            await hook(uow)

    async def _publish(self, events: Sequence[Any]) -> None:
        self.outbox.committed(events)
        await publish_updates(self.broker, events)
