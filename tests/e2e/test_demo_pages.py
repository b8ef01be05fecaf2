"""The demo pages in a real browser: headless Chromium opens the kiosk (and the
digital-receipt page), a purchase is recorded through the API, and the page changes.

Screenshots go to $CDP_E2E_ARTEFACTS when set (e.g. bench/results), else the test's
temporary directory.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx
import pytest

from cdp.loyalty.program import DEMO_PROGRAM
from tests.realtime.support import Json

from .browser import Browser, Page
from .processes import ADMIN_KEY, ServeProcess

CARD = "6037000099990001"
ENROLL = """
mutation ($card: String!) {
  enroll(input: {channel: POS, profile: {firstName: "Maya", lastName: "Lin",
      email: "maya@example.com", phone: "+12025550199"},
    identifiers: [{type: LOYALTY_CARD, value: $card}]}) { profile { id } }
}
"""
KIOSK_KEY = 'mutation { createApiKey(name: "kiosk demo", scopes: ["kiosk"]) { key } }'
PURCHASE = """
mutation ($order: String!, $amount: Float!, $store: String, $register: String) {
  recordPurchase(input: {channel: POS, orderId: $order, storeId: $store, registerId: $register,
    identifier: {type: LOYALTY_CARD, value: "6037000099990001"}, lines: [{amount: $amount}]}) {
    pendingPoints
  }
}
"""


@pytest.fixture
def artefacts(tmp_path: Path) -> Path:
    configured = os.environ.get("CDP_E2E_ARTEFACTS")
    folder = Path(configured) if configured else tmp_path / "artefacts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def gql(app: ServeProcess, query: str, variables: Json | None = None) -> Json:
    async with httpx.AsyncClient(base_url=app.url, timeout=10) as http:
        response = await http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        )
    body: Json = response.json()
    assert "errors" not in body, body
    return body["data"]


async def text(page: Page, element_id: str) -> str:
    return str(await page.evaluate(f"document.getElementById('{element_id}').textContent"))


async def test_the_kiosk_shows_a_member_and_updates_live(
    app: ServeProcess, browser: Browser, artefacts: Path
) -> None:
    await gql(app, ENROLL, {"card": CARD})
    key = (await gql(app, KIOSK_KEY))["createApiKey"]["key"]

    page = await browser.open(f"{app.url}/demo/kiosk?key={key}")
    await page.wait_for("document.getElementById('status').textContent === 'live'")
    # The key left the address bar as soon as the page read it.
    assert "key=" not in await page.evaluate("location.href")
    await page.type_and_enter("#identifier", CARD)  # as a card scanner would
    version = int(await page.wait_for("document.body.dataset.version"))
    before = {
        "name": await text(page, "name"),
        "balance": await text(page, "balance"),
        "pending": await text(page, "pending"),
        "tier": await text(page, "tier"),
        "progress": await page.evaluate("document.getElementById('progress').style.width"),
    }

    await gql(app, PURCHASE, {"order": "kiosk-1", "amount": 250})
    await page.wait_for(f"document.body.dataset.version === '{version + 1}'")
    after = {
        "pending": await text(page, "pending"),
        "next": await text(page, "next"),
        "progress": await page.evaluate("document.getElementById('progress').style.width"),
        "last": await text(page, "last"),
    }
    await asyncio.sleep(0.7)  # the progress bar animates for 0.6 s: show where it lands
    (artefacts / "kiosk.png").write_bytes(await page.screenshot())

    assert before == {
        "name": "Maya",
        "balance": "100",  # the enrollment bonus
        "pending": "0",
        "tier": "Member",
        "progress": "0%",
    }
    assert after == {
        "pending": "250",
        "next": "250 points to Silver",
        "progress": "50%",
        "last": "+250 points · points earned",
    }


async def test_the_receipt_page_shows_each_purchase_at_its_register(
    app: ServeProcess, browser: Browser, artefacts: Path
) -> None:
    await gql(app, ENROLL, {"card": CARD})
    key = (await gql(app, KIOSK_KEY))["createApiKey"]["key"]

    page = await browser.open(f"{app.url}/demo/receipts?store=s-7&register=2&key={key}")
    await page.wait_for("document.getElementById('status').textContent === 'live'")
    await gql(app, PURCHASE, {"order": "r-1", "amount": 12, "store": "s-7", "register": "1"})
    await gql(app, PURCHASE, {"order": "r-2", "amount": 30, "store": "s-7", "register": "2"})
    await page.wait_for("document.body.dataset.receipts === '1'")
    shown = await page.evaluate(
        "[...document.querySelectorAll('.receipt')].map(r => r.dataset.order)"
    )
    card = await page.evaluate("document.querySelector('.receipt').innerText")
    (artefacts / "receipts.png").write_bytes(await page.screenshot())

    assert shown == ["r-2"]  # register 1's purchase went to register 1's screens only
    assert "Maya" in card
    assert "Points earned\t30" in card or "Points earned\n30" in card


def test_the_demo_pages_are_not_served_in_production(tmp_path: Path) -> None:
    served = ServeProcess(
        tmp_path,
        "prod",
        env="production",
        store_url=f"sqlite:///{tmp_path / 'prod.db'}",
        program_file=str(DEMO_PROGRAM),
    )
    served.start()
    try:
        statuses = [httpx.get(f"{served.url}/demo/{p}").status_code for p in ("kiosk", "live.js")]
    finally:
        served.stop()

    assert statuses == [404, 404]
