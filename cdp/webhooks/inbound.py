"""POST /webhooks/{source}: verify, de-duplicate, apply, log. The web layer only hands
over the source name, the headers and the raw body, and sends back what this decides.

2xx: accepted or duplicate. 401: bad or stale signature (code UNAUTHENTICATED). 400:
malformed, with the reason, and 413: body too large (code BAD_USER_INPUT). 503: store
unavailable, so the sender retries. Every delivery, refused ones included, is logged
for syncHealth with its outcome and reason.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from cdp.clock import to_iso
from cdp.errors import DomainError
from cdp.runtime import Runtime
from cdp.settings import WebhookSource
from cdp.store.catalogue import INBOUND
from cdp.store.port import StoreUnavailable
from cdp.store.unit_of_work import UnitOfWork
from cdp.webhooks.health import inbound_point, stage_attempt
from cdp.webhooks.mappings import Work, cdp_format, shopify_format
from cdp.webhooks.signing import SIGNATURE_HEADER, BadSignature, verify

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int
    body: dict[str, Any]


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _verify_shopify(
    source: WebhookSource, headers: Mapping[str, str], body: bytes, rt: Runtime
) -> None:
    """Shopify signs the body (base64 HMAC) and says when it fired; both are checked."""
    given = headers.get("x-shopify-hmac-sha256", "")
    if not given.isascii():  # base64; compare_digest refuses other text with a TypeError
        raise Refused(401, "malformed signature")
    digest = hmac.new(source.secret.encode(), body, hashlib.sha256).digest()
    if not given or not hmac.compare_digest(base64.b64encode(digest).decode(), given):
        raise Refused(401, "signature does not match")
    fired = headers.get("x-shopify-triggered-at")
    try:
        moment = datetime.fromisoformat(fired.replace("Z", "+00:00")) if fired else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise Refused(401, "missing or malformed X-Shopify-Triggered-At")
    if abs((rt.clock.now() - moment).total_seconds()) > rt.settings.webhook_tolerance_seconds:
        raise Refused(401, "timestamp outside the tolerance window")


def _parse(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Refused(400, "body is not JSON") from None
    if not isinstance(parsed, dict):
        raise Refused(400, "body must be a JSON object")
    return parsed


def _work(
    rt: Runtime, source: WebhookSource, headers: Mapping[str, str], body: bytes
) -> tuple[str, Work]:
    if source.format == "shopify":
        _verify_shopify(source, headers, body, rt)
        event_id = headers.get("x-shopify-webhook-id", "").strip()
        if not event_id:
            raise Refused(400, "missing X-Shopify-Webhook-Id")
        topic = headers.get("x-shopify-topic", "")
        return event_id, shopify_format(topic, event_id, _parse(body), source.channel)
    try:
        verify(
            source.secret,
            body,
            headers.get(SIGNATURE_HEADER.lower()),
            int(time.time()),
            rt.settings.webhook_tolerance_seconds,
        )
    except BadSignature as exc:
        raise Refused(401, str(exc)) from None
    return cdp_format(_parse(body), source.channel)


async def receive(
    rt: Runtime, *, source_name: str, headers: Mapping[str, str], body: bytes | None
) -> Outcome:
    """Apply one inbound delivery and say how to answer it (`body` None: over the limit)."""
    point = inbound_point(source_name)
    source = rt.settings.webhook_sources.get(source_name)
    if source is None:
        return Outcome(404, {"error": f"unknown source {source_name!r}"})
    event_id: str | None = None
    try:
        if body is None or len(body) > rt.settings.webhook_max_body_bytes:
            raise Refused(413, f"body over {rt.settings.webhook_max_body_bytes} bytes")
        event_id, work = _work(rt, source, headers, body)
        key = f"{source_name}:{event_id}"
        seen = await rt.store.get(INBOUND, key)
        if seen is not None:
            await _log(rt, point, True, event_id, "duplicate")
            return Outcome(
                200, {"accepted": True, "duplicate": True, "profileId": seen["profile_id"]}
            )
        profile_id = await work(rt)
        await _remember(rt, key, profile_id, point, event_id)
        return Outcome(202, {"accepted": True, "duplicate": False, "profileId": profile_id})
    except Refused as refused:
        await _log(rt, point, False, event_id, refused.reason)
        code = "UNAUTHENTICATED" if refused.status == 401 else "BAD_USER_INPUT"
        return Outcome(refused.status, {"error": refused.reason, "code": code})
    except StoreUnavailable:
        log.warning("inbound_store_unavailable", source=source_name, event_id=event_id)
        return Outcome(503, {"error": "store unavailable; retry"})
    except DomainError as exc:
        await _log(rt, point, False, event_id, exc.message)
        status = 409 if exc.code == "CONFLICT" else 400
        return Outcome(status, {"error": exc.message, "code": exc.code})


async def _remember(
    rt: Runtime, key: str, profile_id: str | None, point: str, event_id: str
) -> None:
    """Mark the event applied and log it. The business calls are idempotent themselves
    (orderId, returnId, eventId), so a crash before this line makes a retry harmless."""

    async def use_case(uow: UnitOfWork) -> None:
        if await uow.get(INBOUND, key) is None:
            uow.insert(INBOUND, {"id": key, "profile_id": profile_id, "at": to_iso(rt.clock.now())})
        stage_attempt(uow, point=point, ok=True, at=rt.clock.now(), reference=event_id)

    await rt.transaction(use_case, rerun_on={INBOUND})
    log.info("inbound_accepted", point=point, event_id=event_id)


async def _log(rt: Runtime, point: str, ok: bool, event_id: str | None, reason: str) -> None:
    async def use_case(uow: UnitOfWork) -> None:
        stage_attempt(
            uow,
            point=point,
            ok=ok,
            at=rt.clock.now(),
            error=None if ok else reason,
            reference=event_id,
        )

    with contextlib.suppress(StoreUnavailable):  # the log line below still records it
        await rt.transaction(use_case)
    log.info("inbound_delivery", point=point, event_id=event_id, ok=ok, reason=reason)
