"""Where outbound webhooks may go: public addresses only, unless a setting allows more.

A registered URL is a request the service makes on its own network: pointed at
loopback, a private range or a link-local address (cloud metadata at 169.254.169.254),
it would let whoever may register webhooks reach what only this host can (SSRF). So a
URL's host is checked when it is registered and again before every delivery, with the
name resolved each time: a name may resolve to a public address when registered and to
a private one later (DNS rebinding). A delivery is sent to the very address checked
(`pinned`), never resolved a second time between the check and the connection.
CDP_WEBHOOK_ALLOW_PRIVATE_TARGETS turns all of this off, for a CRM on the same network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from cdp.errors import BadInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
ALLOW_SETTING = "CDP_WEBHOOK_ALLOW_PRIVATE_TARGETS"


class TargetRefused(BadInput):
    """The URL's host is, or resolves to, an address outbound webhooks may not reach."""


@dataclass(frozen=True, slots=True)
class Pinned:
    """A URL to send to, with the Host header and TLS server name of the original one."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, str] = field(default_factory=dict)


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast: not loopback, private, link-local, shared, reserved or
    multicast, also when written as an IPv4-mapped IPv6 address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def _resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to; empty when it does not resolve."""
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return [ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in found]


def _refuse(host: str, address: IPAddress) -> TargetRefused:
    where = host if str(address) == host else f"{host} ({address})"
    return TargetRefused(
        f"url points to a private, loopback or link-local address: {where}; "
        f"set {ALLOW_SETTING}=true to allow such targets"
    )


async def public_addresses(url: str) -> list[IPAddress]:
    """The addresses `url`'s host stands for, all of them public; TargetRefused if one
    is not. Empty when the name does not resolve (now)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = _literal(host)
    addresses = [literal] if literal else await _resolve(host, parts.port or 443)
    for address in addresses:
        if not is_public(address):
            raise _refuse(host, address)
    return addresses


async def check_target(url: str, *, allow_private: bool) -> None:
    """At registration: refuse a URL whose host is, or resolves to, a non-public address.

    A name that does not resolve yet is accepted; every delivery checks it again."""
    if not allow_private:
        await public_addresses(url)


async def pinned(url: str, *, allow_private: bool) -> Pinned:
    """At delivery: the request to send, aimed at an address just checked.

    TargetRefused when the host is, or now resolves to, a non-public address; BadInput
    when it does not resolve at all (the attempt fails and is retried later)."""
    if allow_private:
        return Pinned(url)
    parts = urlsplit(url)
    host = parts.hostname or ""
    addresses = await public_addresses(url)
    if not addresses:
        raise BadInput(f"url host {host} does not resolve")
    if _literal(host) is not None:
        return Pinned(url)
    return pin(url, addresses[0])


def pin(url: str, address: IPAddress) -> Pinned:
    """`url` aimed at `address`, keeping its name as the Host header and TLS server name."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{address}]" if address.version == 6 else str(address)
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    return Pinned(
        urlunsplit(parts._replace(netloc=netloc)),
        headers={"Host": host_header},
        # The certificate is still checked against the name, not the address.
        extensions={"sni_hostname": host} if parts.scheme == "https" else {},
    )
