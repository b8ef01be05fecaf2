"""API keys: issued once in plain text, stored as a hash, checked on every request.

A key reads `cdp_<id>_<secret>`; the secret is 32 random bytes, so a plain SHA-256 of it
is safe to store (no password stretching needed). Checked keys are cached for a few
seconds per process (CDP_AUTH_RECHECK_SECONDS): a revocation is immediate in the process
that made it and takes at most that long to reach the others. Open WebSockets are held
to the same window (graphql_schema/ws_auth.py).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import replace

from cdp.auth.customer import authenticate_customer, looks_like_jwt
from cdp.auth.model import ApiKey, Caller, Scope, channel_of, expand_scopes
from cdp.channel import Channel
from cdp.errors import BadInput, Forbidden, NotFound, Unauthenticated
from cdp.ids import new_id
from cdp.runtime import Runtime
from cdp.store.catalogue import API_KEYS
from cdp.store.port import Query
from cdp.store.unit_of_work import UnitOfWork

MAX_NAME_LENGTH = 100
_cache: dict[str, tuple[float, Caller]] = {}


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_api_key(
    rt: Runtime, *, name: str, scopes: list[str], granted_by: Caller | None = None
) -> tuple[ApiKey, str]:
    """A new key and its plain text, which is never stored and never shown again.

    `granted_by` may only hand out scopes it holds itself (a preset only if it holds all
    of the preset's scopes): a keys:admin key cannot mint an admin key. None is the
    operator at the command line, who holds every scope.
    """
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise BadInput(f"key name must be 1 to {MAX_NAME_LENGTH} characters")
    if not scopes:
        raise BadInput("a key needs at least one scope")
    try:
        granted = expand_scopes(scopes)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    lacking = granted_by.lacks(granted) if granted_by is not None else []
    if lacking:
        names = ", ".join(s.value for s in lacking)
        raise Forbidden(f"a key can only grant scopes its creator holds; this caller lacks {names}")
    key_id = new_id("key")
    secret = secrets.token_hex(32)
    key = ApiKey(key_id, name, granted, _hash(secret), channel_of(scopes), rt.clock.now())

    async def use_case(uow: UnitOfWork) -> ApiKey:
        uow.insert(API_KEYS, key.to_doc())
        return key

    return await rt.transaction(use_case), f"cdp_{key_id}_{secret}"


async def revoke_api_key(rt: Runtime, *, key_id: str) -> bool:
    """Revoke a key; False when it was revoked already."""

    async def use_case(uow: UnitOfWork) -> bool:
        doc = await uow.get(API_KEYS, key_id)
        if doc is None:
            raise NotFound(f"API key {key_id} not found")
        key = ApiKey.from_doc(doc)
        if key.revoked_at is not None:
            return False
        revoked = replace(key, revoked_at=rt.clock.now(), version=key.version + 1)
        uow.replace(API_KEYS, revoked.to_doc(), key.version)
        return True

    changed = await rt.transaction(use_case)
    for token, (_, caller) in list(_cache.items()):
        if caller.key_id == key_id:
            _cache.pop(token, None)
    return changed


async def list_api_keys(rt: Runtime) -> list[ApiKey]:
    docs = await rt.store.find(Query(API_KEYS, {}, order_by="id"))
    return [ApiKey.from_doc(d) for d in docs]


async def authenticate(rt: Runtime, token: str | None, *, fresh: bool = False) -> Caller:
    """The caller behind a bearer token; UNAUTHENTICATED when missing, unknown or revoked.

    `fresh` reads a stored key again rather than trusting this process's cache.
    """
    if not token:
        raise Unauthenticated("an API key is required (Authorization: Bearer <key>)")
    admin_key = rt.settings.admin_key
    if admin_key and hmac.compare_digest(token.encode(), admin_key.encode()):
        return Caller("bootstrap-admin", "bootstrap admin", frozenset({Scope.ADMIN}), Channel.ADMIN)
    if looks_like_jwt(token):
        return await authenticate_customer(rt, token)
    cached = None if fresh else _cache.get(token)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    try:
        caller = await _check_stored_key(rt, token)
    except Unauthenticated:
        _cache.pop(token, None)
        raise
    _cache[token] = (time.monotonic() + rt.settings.auth_recheck_seconds, caller)
    return caller


async def _check_stored_key(rt: Runtime, token: str) -> Caller:
    prefix, _, rest = token.partition("_")
    key_id, sep, secret = rest.rpartition("_")
    if prefix != "cdp" or not sep or not key_id.startswith("key_"):
        raise Unauthenticated("the API key is not valid")
    doc = await rt.store.get(API_KEYS, key_id)
    if doc is None:
        raise Unauthenticated("the API key is not valid")
    key = ApiKey.from_doc(doc)
    if key.revoked_at is not None or not hmac.compare_digest(key.secret_hash, _hash(secret)):
        raise Unauthenticated("the API key is not valid")
    return Caller(key.id, key.name, key.scopes, key.channel)
