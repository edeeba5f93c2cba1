"""Which addresses fetching may connect to: not this machine's or its network's, unless
the operator allows them (``fetch.allow_private``).

A feed, or a redirect it answers with, must not make the fetcher reach what only this
machine can reach: loopback, private networks, link-local (the cloud metadata service at
169.254.169.254), unique-local, multicast, unspecified or reserved addresses, in IPv4,
IPv6 and IPv4-mapped IPv6 forms. The check is made where the connection is made
(``GuardedBackend.connect_tcp``, on every redirect hop): the host is resolved once, every
address it resolves to is checked, and the connection goes only to an allowed one, so a
name that resolves elsewhere a moment later (DNS rebinding) gains nothing.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

import httpcore

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Private addresses allowed: all of them, or those of some hosts and networks."""

    allow_all: bool = False
    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def of(cls, allowed: bool | Iterable[str]) -> AddressPolicy:
        """From ``fetch.allow_private``: a bool, or host names and CIDR networks."""
        if isinstance(allowed, bool):
            return cls(allow_all=allowed)
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in allowed:
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                hosts.add(entry.strip().lower().rstrip("."))
        return cls(hosts=frozenset(hosts), networks=tuple(networks))

    def refusal(self, host: str, address: IPAddress) -> str | None:
        """Why connecting to ``address`` (which ``host`` resolved to) is refused, or None."""
        if self.allow_all or is_public(address):
            return None
        plain = _unmapped(address)
        if host.lower().rstrip(".") in self.hosts:
            return None
        if any(plain in network or address in network for network in self.networks):
            return None
        return (
            f"refused to connect to {host}: it is a private address ({plain}); "
            f"fetch.allow_private allows it"
        )


def is_public(address: IPAddress) -> bool:
    """Whether ``address`` is one anyone on the internet could reach."""
    plain = _unmapped(address)
    return plain.is_global and not plain.is_multicast


def _unmapped(address: IPAddress) -> IPAddress:
    """The IPv4 address inside an IPv4-mapped (``::ffff:127.0.0.2``) or NAT64-free form."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to addresses ``policy`` allows."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend, policy: AddressPolicy) -> None:
        self._inner = inner
        self._policy = policy

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        resolved = await _resolve(host, port)
        # Only to addresses the policy allows (a name with both 127.0.0.1 and ::1, where
        # 127.0.0.1 is allowed, is reached there); refused when it allows none of them.
        addresses = [a for a in resolved if self._policy.refusal(host, a) is None]
        if not addresses:
            reason = self._policy.refusal(host, resolved[0]) if resolved else None
            raise httpcore.ConnectError(reason or f"{host}: no address to connect to")
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as error:
                failure = error
        raise failure or httpcore.ConnectError(f"{host}: no address to connect to")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("refused: fetching through a Unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


async def _resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` names, in the resolver's order, each once."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise httpcore.ConnectError(f"{host}: name not found ({error})") from error
    found: list[IPAddress] = []
    for _, _, _, _, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address not in found:
            found.append(address)
    return found
