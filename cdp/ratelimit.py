"""Request rates: per credential (API key or customer token), per client address, and
the wrong credentials one address may present, each in a moving window (the `limits`
library), so exactly the allowed number pass in any window of the period.

The windows live in the storage `cdp.bootstrap.build_rate_limit_storage` picks: Redis
when CDP_REDIS_URL is set, so every process counts against one window, else this
process's memory. A storage that does not answer (Redis down) lets requests through:
the limits protect the service, and refusing everyone while Redis is away would be an
outage of its own. Each such pass is logged.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

log = structlog.get_logger(__name__)
# MovingWindowRateLimiter.hit (counts) or .test (only looks): True when within the rate.
Admits = Callable[[RateLimitItem, str, str], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request was refused, and in how many seconds the window lets one through."""

    message: str
    retry_after: int


class Window:
    """One named rate (e.g. "600/minute"), counted per identity; an empty rate: no limit."""

    def __init__(self, name: str, rate: str, limiter: MovingWindowRateLimiter) -> None:
        self.name = name
        self.item: RateLimitItem | None = parse(rate) if rate else None
        self.limiter = limiter

    async def hit(self, identity: str) -> Refusal | None:
        """Count one request; a refusal (nothing counted) when the window is full."""
        return await self._ask(self.limiter.hit, identity)

    async def full(self, identity: str) -> Refusal | None:
        """A refusal when the window is full, counting nothing."""
        return await self._ask(self.limiter.test, identity)

    async def _ask(self, admits: Admits, identity: str) -> Refusal | None:
        if self.item is None:
            return None
        try:
            if await admits(self.item, self.name, identity):
                return None
            return await self._refusal(identity)
        except StorageError as exc:
            log.warning("rate_limit_storage_unavailable", window=self.name, error=str(exc))
            return None

    async def _refusal(self, identity: str) -> Refusal:
        assert self.item is not None
        stats = await self.limiter.get_window_stats(self.item, self.name, identity)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        return Refusal(f"rate limit of {self.item} {self.name} exceeded; retry later", wait)


def credential_identity(credential: str) -> str:
    """What a credential is counted under: its digest, so no key is written to Redis."""
    return hashlib.sha256(credential.encode()).hexdigest()[:32]


class RateLimits:
    """The three windows every request and WebSocket operation passes."""

    def __init__(
        self,
        storage: Storage,
        *,
        per_key: str,
        per_address: str,
        auth_failures: str,
        close: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.storage = storage
        self._close = close
        limiter = MovingWindowRateLimiter(storage)
        self.per_key = Window("per key", per_key, limiter)
        self.per_address = Window("per client address", per_address, limiter)
        self.auth_failures = Window("of failed authentications per address", auth_failures, limiter)

    async def admit(self, *, address: str, credential: str | None) -> Refusal | None:
        """Count a request against its address and credential, unless the address has
        presented too many wrong credentials (then nothing is checked, not even the key)."""
        refusal = await self.auth_failures.full(address) or await self.per_address.hit(address)
        if refusal is None and credential:
            refusal = await self.per_key.hit(credential_identity(credential))
        return refusal

    async def failed_authentication(self, address: str) -> None:
        """Count a wrong credential presented from `address`."""
        await self.auth_failures.hit(address)

    async def close(self) -> None:
        """Let go of the storage's connections (Redis), if it holds any."""
        if self._close is not None:
            await self._close()
