"""Outbound targets (SSRF): registerWebhook refuses loopback, private and link-local
hosts, names resolving to them, and the dispatcher checks again before every delivery."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from cdp.runtime import Runtime
from cdp.store.catalogue import SYNC_LOG, WEBHOOK_ENDPOINTS
from cdp.store.port import Query
from cdp.webhooks.model import DeliveryStatus
from cdp.webhooks.service import register_webhook
from cdp.webhooks.targets import is_public, pin, pinned
from tests.webhooks.receiver import Receiver

from .test_outbound import REGISTER, deliveries, drain, purchase

REFUSED = [
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",  # a name resolving to loopback
    "http://10.1.2.3/hook",
    "https://192.168.0.10/hook",
    "http://172.16.5.5/hook",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[fe80::1]/hook",
    "http://0.0.0.0/hook",
    "http://100.64.0.1/hook",  # carrier-grade NAT
]


@pytest.fixture
def strict(rt: Runtime) -> Runtime:
    """The runtime as deployed: private targets not allowed (the default)."""
    rt.settings = rt.settings.model_copy(update={"webhook_allow_private_targets": False})
    return rt


@pytest.mark.parametrize("url", REFUSED)
async def test_register_refuses_a_private_target_and_stores_nothing(
    strict: Runtime, gql: Any, url: str
) -> None:
    body = await gql(REGISTER, url=url, events=["*"])

    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"].startswith(
        "url points to a private, loopback or link-local address: "
    )
    assert body["errors"][0]["message"].endswith(
        "; set CDP_WEBHOOK_ALLOW_PRIVATE_TARGETS=true to allow such targets"
    )
    assert await strict.store.find(Query(WEBHOOK_ENDPOINTS, {})) == []


async def test_register_accepts_a_public_address(strict: Runtime, gql: Any) -> None:
    body = await gql(REGISTER, url="https://93.184.215.14/hook", events=["*"])

    assert body["data"]["registerWebhook"]["endpoint"]["url"] == "https://93.184.215.14/hook"


async def test_a_private_target_is_allowed_when_the_setting_says_so(rt: Runtime, gql: Any) -> None:
    assert rt.settings.webhook_allow_private_targets  # this folder's settings
    body = await gql(REGISTER, url="http://127.0.0.1:9/hook", events=["*"])

    assert "errors" not in body


async def test_a_delivery_to_a_target_now_private_is_a_failed_attempt_never_sent(
    strict: Runtime,
) -> None:
    with Receiver() as receiver:
        # Registered while allowed (or while its name resolved to a public address) ...
        strict.settings = strict.settings.model_copy(update={"webhook_allow_private_targets": True})
        url = receiver.url.replace("127.0.0.1", "localhost")
        endpoint = await register_webhook(strict, url=url, events=["points.earned"])
        # ... and delivered once it is not (or the name now resolves to loopback).
        strict.settings = strict.settings.model_copy(
            update={"webhook_allow_private_targets": False, "webhook_max_attempts": 2}
        )
        await purchase(strict, "o-1", "ssrf@mail.com")
        await drain(strict)

        assert receiver.requests == 0
    [delivery] = await deliveries(strict)
    assert (delivery["status"], delivery["attempts"]) == (DeliveryStatus.DEAD, 2)
    assert delivery["last_error"].startswith(
        "url points to a private, loopback or link-local address: localhost (127.0.0.1)"
    )
    attempts = await strict.store.find(Query(SYNC_LOG, {"point": f"outbound:{endpoint.id}"}))
    assert [a["ok"] for a in attempts] == [False, False]


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700::1111", True),
        ("127.0.0.2", False),
        ("10.0.0.1", False),
        ("169.254.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("fc00::1", False),
        ("224.0.0.1", False),
        ("255.255.255.255", False),
    ],
)
def test_is_public(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


async def test_a_delivery_goes_to_the_checked_address_with_the_names_host_and_tls_name() -> None:
    literal = await pinned("https://93.184.215.14:8443/h?x=1", allow_private=False)
    allowed = await pinned("http://localhost:9/h", allow_private=True)

    assert (literal.url, literal.headers, literal.extensions) == (
        "https://93.184.215.14:8443/h?x=1",
        {},
        {},
    )
    assert (allowed.url, allowed.headers) == ("http://localhost:9/h", {})


def test_a_named_target_is_pinned_to_its_checked_address() -> None:
    v4 = pin("https://crm.example.com/h?x=1", ipaddress.ip_address("93.184.215.14"))
    v6 = pin("http://crm.example.com:8080/h", ipaddress.ip_address("2606:4700::1111"))

    assert (v4.url, v4.headers, v4.extensions) == (
        "https://93.184.215.14/h?x=1",
        {"Host": "crm.example.com"},
        {"sni_hostname": "crm.example.com"},
    )
    assert (v6.url, v6.headers, v6.extensions) == (
        "http://[2606:4700::1111]:8080/h",
        {"Host": "crm.example.com:8080"},
        {},
    )
