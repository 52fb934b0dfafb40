"""Where a webhook may go: public addresses only, judged after DNS resolution.

The guard is a network backend for httpcore: it resolves the host once, refuses the
connection if any address is not public, and connects to the address it judged. The
HTTP layer above still sends the URL's host name (Host header, TLS SNI and certificate
check), so nothing is resolved twice and a DNS answer that changes between the check
and the connection (rebinding) cannot slip through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import httpcore

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedDestination(Exception):
    """The host is, or resolves to, an address webhooks may not reach."""


class UnresolvedHost(Exception):
    """The host name does not resolve (now)."""


def refusal(address: Address, *, allow_loopback: bool) -> str | None:
    """Why ``address`` may not be reached (None: it may)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if address.is_loopback:
        return None if allow_loopback else "loopback"
    for kind in ("unspecified", "link_local", "multicast", "reserved", "private"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    if not address.is_global:  # shared (100.64/10), documentation and the like
        return "non-public"
    return None


async def resolve(host: str, port: int) -> list[Address]:
    """The host's addresses in the resolver's order (an IP literal is its own)."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UnresolvedHost(f"{host} does not resolve: {exc.strerror}") from exc
    found: list[Address] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])  # drop a v6 scope
        if address not in found:
            found.append(address)
    return found


def check_addresses(host: str, addresses: Iterable[Address], *, allow_loopback: bool) -> None:
    """Refuse the host if any of its addresses is refused (one bad record is enough)."""
    for address in addresses:
        reason = refusal(address, allow_loopback=allow_loopback)
        if reason is not None:
            raise RefusedDestination(f"{host} is {address}, a {reason} address")


async def vetted_addresses(host: str, port: int, *, allow_loopback: bool) -> list[Address]:
    addresses = await resolve(host, port)
    check_addresses(host, addresses, allow_loopback=allow_loopback)
    return addresses


class GuardedNetwork(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to vetted public addresses."""

    def __init__(self, *, allow_loopback: bool) -> None:
        self.allow_loopback = allow_loopback
        self._network = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        async with asyncio.timeout(timeout):
            addresses = await vetted_addresses(host, port, allow_loopback=self.allow_loopback)
        failure: Exception = httpcore.ConnectError(f"{host} has no address")
        for address in addresses:
            try:
                return await self._network.connect_tcp(
                    str(address), port, timeout=timeout, local_address=local_address,
                    socket_options=socket_options,
                )  # fmt: skip
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise RefusedDestination("webhooks go over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._network.sleep(seconds)
