"""How many WebSocket connections each caller holds in this process, capped per key."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable


class ConnectionLimiter:
    """Counts connections per key; `acquire` refuses one over the cap.

    Per process: with N processes behind a balancer a key may hold up to N x cap.
    """

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._held: dict[Hashable, str] = {}  # connection -> key
        self._counts: Counter[str] = Counter()

    def acquire(self, connection: Hashable, key: str) -> bool:
        if connection in self._held:
            return True
        if self._counts[key] >= self.cap:
            return False
        self._held[connection] = key
        self._counts[key] += 1
        return True

    def release(self, connection: Hashable) -> None:
        key = self._held.pop(connection, None)
        if key is None:
            return
        self._counts[key] -= 1
        if not self._counts[key]:
            del self._counts[key]

    def held(self, key: str) -> int:
        return self._counts[key]
