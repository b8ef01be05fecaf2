"""POST /webhooks/{source}: signed, idempotent, size-limited, logged, same rules as GraphQL."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from cdp.runtime import Runtime
from cdp.store.catalogue import ORDERS, PROFILES
from cdp.store.port import StoreUnavailable
from cdp.webhooks.signing import SIGNATURE_HEADER, sign
from tests.webhooks.conftest import POS_SECRET, SHOP_SECRET

HEALTH = """{ syncHealth(windowHours: 24) { threshold points { name attempts failures
  failureRate alerting lastError lastSuccessAt lastFailureAt } } }"""


def pos_event(event_id: str, order: str = "o-1", amount: float = 42.5) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "type": "purchase",
            "data": {
                "order_id": order,
                "identifier": {"type": "EMAIL", "value": "Till@Mail.com"},
                "lines": [{"sku": "a", "amount": amount}],
                "store_id": "s-1",
            },
        }
    ).encode()


async def post_pos(
    client: httpx.AsyncClient, body: bytes, *, secret: str = POS_SECRET, age: int = 0
) -> httpx.Response:
    signature = sign(secret, body, int(time.time()) - age)
    return await client.post("/webhooks/pos", content=body, headers={SIGNATURE_HEADER: signature})


def shopify_headers(body: bytes, topic: str, event_id: str, *, age: int = 0) -> dict[str, str]:
    digest = hmac.new(SHOP_SECRET.encode(), body, hashlib.sha256).digest()
    fired = datetime.now(UTC) - timedelta(seconds=age)
    return {
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "X-Shopify-Topic": topic,
        "X-Shopify-Webhook-Id": event_id,
        "X-Shopify-Triggered-At": fired.isoformat(),
    }


async def count(rt: Runtime, collection: str) -> int:
    return await rt.store.count(collection, {})


async def test_a_signed_purchase_accrues_once_and_a_replay_is_a_duplicate(
    rt: Runtime, client: httpx.AsyncClient, gql: Any
) -> None:
    first = await post_pos(client, pos_event("evt-1"))
    again = await post_pos(client, pos_event("evt-1"))

    assert first.status_code == 202
    assert (first.json()["accepted"], first.json()["duplicate"]) == (True, False)
    assert (again.status_code, again.json()["duplicate"]) == (200, True)
    assert again.json()["profileId"] == first.json()["profileId"]
    found = await gql(
        '{ profile(identifier: {type: EMAIL, value: "till@mail.com"}) '
        "{ status loyalty { pendingPoints } } }"
    )
    # 42.5 * 1 point per unit, floored: 42, pending through the return window
    assert found["data"]["profile"] == {"status": "ALLOCATED", "loyalty": {"pendingPoints": 42}}
    assert await count(rt, ORDERS) == 1


async def test_forged_stale_oversized_and_malformed_requests_are_refused_and_logged(
    rt: Runtime, client: httpx.AsyncClient, gql: Any
) -> None:
    forged = await post_pos(client, pos_event("evt-f"), secret="not-the-secret-at-all")
    stale = await post_pos(client, pos_event("evt-s"), age=3600)
    unsigned = await client.post("/webhooks/pos", content=pos_event("evt-u"))
    oversized = await post_pos(client, b"{" + b" " * rt.settings.webhook_max_body_bytes + b"}")
    malformed = await post_pos(client, b"{not json")
    unknown_type = await post_pos(
        client, json.dumps({"id": "e", "type": "gift", "data": {}}).encode()
    )
    unknown_source = await client.post("/webhooks/nowhere", content=b"{}")

    assert [r.status_code for r in (forged, stale, unsigned)] == [401, 401, 401]
    assert stale.json() == {
        "error": "timestamp outside the tolerance window",
        "code": "UNAUTHENTICATED",
    }
    assert oversized.status_code == 413
    assert (malformed.status_code, malformed.json()) == (
        400,
        {"error": "body is not JSON", "code": "BAD_USER_INPUT"},
    )
    assert unknown_type.status_code == 400
    assert "unknown event type" in unknown_type.json()["error"]
    assert unknown_source.status_code == 404
    assert (await count(rt, PROFILES), await count(rt, ORDERS)) == (0, 0)

    health = await gql(HEALTH)
    pos = next(p for p in health["data"]["syncHealth"]["points"] if p["name"] == "inbound:pos")
    assert (pos["attempts"], pos["failures"], pos["failureRate"], pos["alerting"]) == (
        6,
        6,
        1.0,
        True,
    )
    assert pos["lastError"] == "unknown event type 'gift'; known: purchase, return, profile"
    assert pos["lastSuccessAt"] is None


async def test_a_signature_header_that_is_not_ascii_is_refused_and_logged(
    rt: Runtime, client: httpx.AsyncClient, gql: Any
) -> None:
    body = pos_event("evt-n")
    signature = sign(POS_SECRET, body, int(time.time())).encode()
    shop_body = json.dumps({"id": 7, "email": "shop@mail.com"}).encode()
    shop_headers = shopify_headers(shop_body, "customers/create", "shop-n")

    cdp_format = await client.post(
        "/webhooks/pos", content=body, headers={SIGNATURE_HEADER: signature[:-2] + b"\xe9\xe9"}
    )
    shopify = await client.post(
        "/webhooks/shop",
        content=shop_body,
        headers={**shop_headers, "X-Shopify-Hmac-Sha256": "\u00e9t\u00e9".encode("latin-1")},
    )

    for refused in (cdp_format, shopify):
        assert refused.status_code == 401
        assert refused.json() == {"error": "malformed signature", "code": "UNAUTHENTICATED"}
    assert (await count(rt, PROFILES), await count(rt, ORDERS)) == (0, 0)
    health = await gql(HEALTH)
    points = {p["name"]: p for p in health["data"]["syncHealth"]["points"]}
    for name in ("inbound:pos", "inbound:shop"):
        assert (points[name]["attempts"], points[name]["failures"]) == (1, 1)
        assert points[name]["lastError"] == "malformed signature"


async def test_health_alerts_only_above_the_threshold(
    rt: Runtime, client: httpx.AsyncClient, gql: Any
) -> None:
    for n in range(60):
        assert (await post_pos(client, pos_event(f"ok-{n}", order=f"o-{n}"))).status_code == 202
    await post_pos(client, b"{broken")  # 1 failure in 61: 1.6%, under the 2% default

    health = await gql(HEALTH)
    pos = next(p for p in health["data"]["syncHealth"]["points"] if p["name"] == "inbound:pos")
    assert (pos["attempts"], pos["failures"], pos["alerting"]) == (61, 1, False)
    assert pos["failureRate"] == round(1 / 61, 4)
    assert health["data"]["syncHealth"]["threshold"] == 0.02


async def test_shopify_customer_order_and_refund_map_to_the_same_services(
    rt: Runtime, client: httpx.AsyncClient, gql: Any
) -> None:
    customer = json.dumps(
        {
            "id": 501,
            "email": "shop@mail.com",
            "first_name": "Sam",
            "last_name": "Shop",
            "phone": "+14155552671",
            "default_address": {"zip": "94110", "address1": "1 Main St"},
        }
    ).encode()
    order = json.dumps(
        {
            "id": 9001,
            "email": "shop@mail.com",
            "line_items": [
                {"sku": "tee", "price": "20.00", "quantity": 2, "product_type": "apparel"}
            ],
        }
    ).encode()
    refund = json.dumps(
        {
            "id": 77,
            "order_id": 9001,
            "refund_line_items": [{"quantity": 1, "subtotal": 20.0, "line_item": {"sku": "tee"}}],
        }
    ).encode()

    created = await client.post(
        "/webhooks/shop",
        content=customer,
        headers=shopify_headers(customer, "customers/create", "w-1"),
    )
    paid = await client.post(
        "/webhooks/shop", content=order, headers=shopify_headers(order, "orders/paid", "w-2")
    )
    refunded = await client.post(
        "/webhooks/shop", content=refund, headers=shopify_headers(refund, "refunds/create", "w-3")
    )
    stale = await client.post(
        "/webhooks/shop",
        content=order,
        headers=shopify_headers(order, "orders/paid", "w-4", age=3600),
    )
    forged = await client.post(
        "/webhooks/shop",
        content=order,
        headers={**shopify_headers(order, "orders/paid", "w-5"), "X-Shopify-Hmac-Sha256": "AAAA"},
    )

    assert [r.status_code for r in (created, paid, refunded)] == [202, 202, 202]
    assert [r.status_code for r in (stale, forged)] == [401, 401]
    found = await gql(
        '{ profile(identifier: {type: EMAIL, value: "shop@mail.com"}) { status firstName '
        "loyalty { balance pendingPoints } history { edges { node { type points channel } } } } }"
    )
    profile = found["data"]["profile"]
    assert (profile["status"], profile["firstName"]) == ("ENROLLED", "Sam")
    # enrollment bonus 100 (no birth date: no completion bonus); 2 x 20.00 on ECOMMERCE
    # earns 40 * 1.25 = 50 pending; the refund of one tee takes back half: 25
    assert profile["loyalty"] == {"balance": 100, "pendingPoints": 25}
    types = [(e["node"]["type"], e["node"]["points"]) for e in profile["history"]["edges"]]
    assert types == [("REVERSAL", -25), ("BONUS", 10), ("EARN", 40), ("BONUS", 100)]


class UnavailableStore:
    """Fakes an outage at the store port: every call fails as a real outage would."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        async def unavailable(*args: Any, **kwargs: Any) -> Any:
            raise StoreUnavailable("down")

        return unavailable


async def test_store_outage_answers_503_so_the_sender_retries(
    rt: Runtime, client: httpx.AsyncClient
) -> None:
    real = rt.store
    rt.store = UnavailableStore(real)  # type: ignore[assignment]
    try:
        response = await post_pos(client, pos_event("evt-503"))
    finally:
        rt.store = real
    assert response.status_code == 503
    assert (await post_pos(client, pos_event("evt-503"))).status_code == 202
