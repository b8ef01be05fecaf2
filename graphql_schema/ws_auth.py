"""Open WebSockets hold no authority their credentials have lost.

A connection authenticates once, in connection_init; without more, it would keep its
caller after `revokeApiKey` or past a customer token's `exp`, still receiving pushes and
running new operations. So, on both protocols:

- every new operation checks the connection's credential again (through the per-process
  key cache, so it costs a dictionary look-up for a key checked within the window);
- every `auth_recheck_seconds` (CDP_AUTH_RECHECK_SECONDS, the key cache's window) one
  task per process reads each distinct credential held by an open socket afresh from the
  store, and closes the sockets whose credential no longer holds;
- a customer token's socket closes at its `exp`, to the second.

A revoked key, or a credential that no longer names the same caller (a customer token
whose app user id moved to another profile), closes with 4403; an expired customer
token with 4401. A socket whose check cannot be made (the store is down) stays open and
is checked again on the next round.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass

import structlog
from starlette.websockets import WebSocket

from cdp.auth.customer import TokenExpired
from cdp.auth.model import Caller
from cdp.auth.service import authenticate
from cdp.errors import Unauthenticated
from cdp.runtime import Runtime

log = structlog.get_logger(__name__)
CLOSE_EXPIRED = 4401
CLOSE_FORBIDDEN = 4403


@dataclass(slots=True)
class _Held:
    token: str
    caller: Caller
    expiry: asyncio.TimerHandle | None


def close_code(refusal: Unauthenticated) -> int:
    return CLOSE_EXPIRED if isinstance(refusal, TokenExpired) else CLOSE_FORBIDDEN


class CredentialWatch:
    """The open WebSockets of one process and the credentials they hold."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._held: dict[WebSocket, _Held] = {}
        self._rounds: asyncio.Task[None] | None = None

    def watch(self, socket: WebSocket, token: str, caller: Caller) -> None:
        """Hold `socket` to `caller`, the one `token` named when it connected."""
        loop = asyncio.get_running_loop()
        expiry = None
        if caller.expires_at is not None:
            delay = max(0.0, caller.expires_at - time.time())
            expiry = loop.call_later(delay, self._expire, socket)
        self._held[socket] = _Held(token, caller, expiry)
        if self._rounds is None:
            self._rounds = loop.create_task(self._run())

    def forget(self, socket: WebSocket) -> None:
        held = self._held.pop(socket, None)
        if held is not None and held.expiry is not None:
            held.expiry.cancel()
        if not self._held and self._rounds is not None:
            self._rounds.cancel()
            self._rounds = None

    async def still_allowed(self, socket: WebSocket) -> bool:
        """Before a new operation: True if the socket's caller holds; else it is closed."""
        held = self._held.get(socket)
        if held is None:
            return True  # not acknowledged: Strawberry refuses the operation itself
        try:
            caller = await authenticate(self.rt, held.token)
        except Unauthenticated as refusal:
            await _close(socket, close_code(refusal), refusal.message)
            return False
        if caller != held.caller:
            await _close(socket, CLOSE_FORBIDDEN, "the credential no longer names this caller")
            return False
        return True

    def _expire(self, socket: WebSocket) -> None:
        if socket in self._held:
            closing = _close(socket, CLOSE_EXPIRED, "the customer token has expired")
            asyncio.get_running_loop().create_task(closing)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.rt.settings.auth_recheck_seconds)
            try:
                await self.check_all()
            except Exception:
                log.exception("credential_round_failed")

    async def check_all(self) -> None:
        """One round: each distinct credential read afresh, its sockets closed if it fails."""
        by_token: dict[str, list[tuple[WebSocket, Caller]]] = {}
        for socket, held in list(self._held.items()):
            by_token.setdefault(held.token, []).append((socket, held.caller))
        for token, sockets in by_token.items():
            try:
                caller = await authenticate(self.rt, token, fresh=True)
            except Unauthenticated as refusal:
                for socket, _ in sockets:
                    await _close(socket, close_code(refusal), refusal.message)
                continue
            except Exception:
                log.warning("credential_check_unavailable", exc_info=True)
                continue
            for socket, held_caller in sockets:
                if held_caller != caller:
                    reason = "the credential no longer names this caller"
                    await _close(socket, CLOSE_FORBIDDEN, reason)


async def _close(socket: WebSocket, code: int, reason: str) -> None:
    # Closed already (by the client, or an earlier check): nothing more to do.
    with contextlib.suppress(RuntimeError, OSError):
        await socket.close(code=code, reason=reason)
