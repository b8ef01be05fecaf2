"""Outbound webhooks: the outbox commits with the change, the dispatcher delivers it once
per endpoint after de-duplication, in order per profile, through failures and crashes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from cdp.channel import Channel
from cdp.errors import Conflict
from cdp.identity.model import IdentifierType
from cdp.identity.service import RawIdentifier, create_profile
from cdp.loyalty.model import LineItem
from cdp.loyalty.purchases import Purchase, record_purchase
from cdp.runtime import Runtime
from cdp.store.catalogue import DELIVERIES
from cdp.store.port import Query
from cdp.webhooks.dispatcher import Dispatcher
from cdp.webhooks.model import DeliveryStatus
from cdp.webhooks.service import register_webhook
from cdp.webhooks.signing import SIGNATURE_HEADER, verify
from tests.webhooks.receiver import Receiver

REGISTER = """mutation($url: String!, $events: [String!]!) {
  registerWebhook(url: $url, events: $events) { endpoint { id url events active } secret }
}"""


async def purchase(rt: Runtime, order: str, email: str, amount: float = 10.0) -> None:
    await record_purchase(
        rt,
        Purchase(
            channel=Channel.POS,
            order_id=order,
            identifier=RawIdentifier(IdentifierType.EMAIL, email),
            lines=[LineItem("sku-1", None, 1, amount)],
        ),
    )


async def deliveries(rt: Runtime) -> list[dict[str, Any]]:
    return await rt.store.find(Query(DELIVERIES, {}, order_by="sort_key"))


async def drain(rt: Runtime, rounds: int = 400) -> None:
    """Run the dispatcher until nothing is queued (bounded)."""
    async with httpx.AsyncClient() as http:
        dispatcher = Dispatcher(rt, http)
        for _ in range(rounds):
            queued = [
                d
                for d in await deliveries(rt)
                if d["status"] in (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
            ]
            if not queued:
                return
            if not await dispatcher.run_once():
                await asyncio.sleep(0.02)
    raise AssertionError("deliveries still queued after the dispatcher's rounds")


async def test_register_returns_secret_once_and_rejects_bad_input(gql: Any) -> None:
    created = await gql(REGISTER, url="https://crm.example.com/hook", events=["points.earned"])
    endpoint = created["data"]["registerWebhook"]
    assert endpoint["endpoint"]["events"] == ["points.earned"]
    assert endpoint["endpoint"]["active"] is True
    assert len(endpoint["secret"]) == 64

    bad_url = await gql(REGISTER, url="ftp://crm/hook", events=["points.earned"])
    bad_event = await gql(REGISTER, url="https://crm.example.com/h", events=["points.minted"])
    assert [e["extensions"]["code"] for e in bad_url["errors"]] == ["BAD_USER_INPUT"]
    assert [e["extensions"]["code"] for e in bad_event["errors"]] == ["BAD_USER_INPUT"]


async def test_a_change_and_its_deliveries_commit_together(rt: Runtime) -> None:
    # given an endpoint for every event
    await register_webhook(rt, url="http://127.0.0.1:9/hook", events=["*"])
    # when a first purchase creates a profile and earns points
    await purchase(rt, "o-1", "ada@mail.com")
    # then the outbox holds exactly the two events of that commit, in order
    assert [d["event"] for d in await deliveries(rt)] == ["profile.created", "points.earned"]


async def test_a_rolled_back_change_queues_nothing(rt: Runtime) -> None:
    await register_webhook(rt, url="http://127.0.0.1:9/hook", events=["*"])
    await create_profile(
        rt, channel=Channel.POS, identifiers=[RawIdentifier(IdentifierType.EMAIL, "a@mail.com")]
    )
    before = len(await deliveries(rt))
    with pytest.raises(Conflict):
        await create_profile(
            rt,
            channel=Channel.POS,
            identifiers=[
                RawIdentifier(IdentifierType.PHONE, "+14155552671"),
                RawIdentifier(IdentifierType.EMAIL, "a@mail.com"),
            ],
        )
    assert len(await deliveries(rt)) == before


async def test_every_change_arrives_once_in_order_through_failures_and_hangs(rt: Runtime) -> None:
    with Receiver(fail_share=0.3, hang_share=0.05, hang_seconds=0.8) as receiver:
        endpoint = await register_webhook(rt, url=receiver.url, events=["*"])
        for n in range(24):
            await purchase(rt, f"o-{n}", f"member{n % 4}@mail.com", amount=5 + n)
        await drain(rt)
        queued = await deliveries(rt)
        unique = receiver.unique()

        assert {d["status"] for d in queued} == {DeliveryStatus.DELIVERED}
        assert set(unique) == {d["id"] for d in queued}
        assert len(unique) == 28  # 4 profiles created + 24 purchases
        assert receiver.requests > len(unique)  # failures were retried
        # per profile, the first arrival of each delivery follows commit order
        first_seen: dict[str, int] = {}
        for position, (key, _, _) in enumerate(receiver.accepted):
            first_seen.setdefault(key, position)
        by_profile: dict[str, list[dict[str, Any]]] = {}
        for d in queued:
            by_profile.setdefault(d["profile_id"], []).append(d)
        for items in by_profile.values():
            arrival = [first_seen[d["id"]] for d in items]
            assert arrival == sorted(arrival)
        # each request is signed for this endpoint
        _, body, headers = receiver.accepted[0]
        raw = httpx.Request("POST", "/", json=body).content
        assert headers["X-CDP-Event"] == body["type"]
        verify(
            endpoint.secret,
            raw.replace(b", ", b",").replace(b": ", b":"),
            headers[SIGNATURE_HEADER],
            now=int(headers[SIGNATURE_HEADER][2:12]),
            tolerance=0,
        )


async def test_gives_up_after_the_configured_attempts(rt: Runtime) -> None:
    with Receiver(fail_share=1.0) as receiver:
        await register_webhook(rt, url=receiver.url, events=["points.earned"])
        await purchase(rt, "o-dead", "dead@mail.com")
        await drain(rt)
        [dead] = await deliveries(rt)
        assert dead["status"] == DeliveryStatus.DEAD
        assert dead["attempts"] == rt.settings.webhook_max_attempts
        assert receiver.requests == rt.settings.webhook_max_attempts


def _dispatcher_process(store_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CDP_STORE_URL": store_url,
        "CDP_WEBHOOK_TIMEOUT_SECONDS": "0.5",
        "CDP_WEBHOOK_BACKOFF_SECONDS": "0.01",
        "CDP_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",  # the receiver is on 127.0.0.1
    }
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "cdp"), "webhooks", "dispatch", "--interval", "0.05"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_killing_the_dispatcher_mid_run_loses_nothing(rt: Runtime, store_url: str) -> None:
    with Receiver(fail_share=0.2, hang_share=0.1, hang_seconds=0.3) as receiver:
        await register_webhook(rt, url=receiver.url, events=["*"])
        for n in range(40):
            await purchase(rt, f"k-{n}", f"kill{n % 5}@mail.com")
        worker = _dispatcher_process(store_url)
        for _ in range(200):  # let it deliver some, then kill it without warning
            await asyncio.sleep(0.05)
            if len(receiver.unique()) >= 10:
                break
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        delivered_before_restart = len(receiver.unique())
        assert 0 < delivered_before_restart < 45
        restarted = _dispatcher_process(store_url)
        try:
            for _ in range(400):
                await asyncio.sleep(0.05)
                if len(receiver.unique()) == 45:
                    break
        finally:
            restarted.terminate()
            restarted.wait(timeout=10)
        await drain(rt)  # leases cut by the kill run out; anything left goes now
        queued = await deliveries(rt)
        assert len(queued) == 45  # 5 profiles created + 40 purchases
        assert set(receiver.unique()) == {d["id"] for d in queued}


async def test_deliveries_redeliver_and_disable_through_graphql(rt: Runtime, gql: Any) -> None:
    with Receiver() as receiver:
        created = await gql(REGISTER, url=receiver.url, events=["points.earned"])
        endpoint_id = created["data"]["registerWebhook"]["endpoint"]["id"]
        await purchase(rt, "o-g", "g@mail.com")
        await drain(rt)
        listed = await gql(
            "query($e: ID) { webhookDeliveries(endpointId: $e) { id event status attempts "
            "responseCode endpoint { id } } }",
            e=endpoint_id,
        )
        [delivery] = listed["data"]["webhookDeliveries"]
        assert (delivery["event"], delivery["status"], delivery["attempts"]) == (
            "points.earned",
            "DELIVERED",
            1,
        )
        again = await gql(
            "mutation($d: ID!) { redeliverWebhook(deliveryId: $d) { status attempts } }",
            d=delivery["id"],
        )
        assert again["data"]["redeliverWebhook"] == {"status": "PENDING", "attempts": 1}
        await drain(rt)
        assert (len(receiver.accepted), len(receiver.unique())) == (2, 1)
        disabled = await gql(
            "mutation($e: ID!) { disableWebhook(id: $e) { active } }", e=endpoint_id
        )
        assert disabled["data"]["disableWebhook"] == {"active": False}
        await purchase(rt, "o-h", "g@mail.com")
        assert len(await deliveries(rt)) == 1  # nothing queued for a disabled endpoint


async def test_forgetting_a_member_redacts_their_queued_deliveries(rt: Runtime, gql: Any) -> None:
    """Erasure reaches the outbox: events still go out, without the person in them."""
    await register_webhook(rt, url="http://127.0.0.1:9/never-reached", events=["*"])
    await purchase(rt, "forget-1", "erase.me@mail.com")
    queued = await deliveries(rt)
    profile_id = queued[0]["profile_id"]
    assert any("erase.me@mail.com" in str(d["payload"]) for d in queued)
    exported = await gql("query($id: ID!) { exportProfile(id: $id) }", id=profile_id)
    held = exported["data"]["exportProfile"]["webhook_deliveries"]
    assert sorted(d["id"] for d in held) == sorted(d["id"] for d in queued)

    forgotten = await gql("mutation($id: ID!) { forgetProfile(id: $id) { status } }", id=profile_id)

    assert forgotten["data"]["forgetProfile"]["status"] == "FORGOTTEN"
    after = await deliveries(rt)
    assert "erase.me" not in str(after)
    assert [d["payload"]["type"] for d in after][: len(queued)] == [
        d["payload"]["type"] for d in queued
    ]
    assert after[-1]["payload"]["type"] == "profile.forgotten"
    assert all(d["payload"]["profile"]["identifiers"] == [] for d in after)


async def test_a_commit_wakes_this_process_dispatcher_at_once(rt: Runtime) -> None:
    """The poll interval bounds only other processes' changes and retries: a change made
    here leaves as soon as it commits."""
    with Receiver() as receiver:
        await register_webhook(rt, url=receiver.url, events=["points.earned"])
        async with httpx.AsyncClient() as http:
            polling_hourly = asyncio.create_task(Dispatcher(rt, http).run_forever(3600))
            try:
                await asyncio.sleep(0.2)  # its first round found nothing; it waits now
                await purchase(rt, "wake-1", "wake@mail.com")
                for _ in range(100):
                    if receiver.unique():
                        break
                    await asyncio.sleep(0.05)
            finally:
                polling_hourly.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await polling_hourly
        assert len(receiver.unique()) == 1
