"""Who is asking: the client address behind a request, and the network it is counted under.

Forwarded-for headers are believed only when the peer itself is a configured trusted proxy;
from anyone else they are ignored, so a client cannot choose the address it is limited under.
Behind a chain of proxies the client is the right-most address that is not a trusted proxy
(the left part of the header is whatever the client wrote). IPv6 clients are counted by prefix
(/64 by default): one customer usually holds a whole /64 and could rotate through it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from starlette.types import Scope

DIRECT_CACHE_SIZE = 65_536
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class ClientAddress:
    """The resolved client: its address as text and the key it is rate-limited under."""

    host: str
    key: str
    is_loopback: bool


class AddressResolver:
    """Resolves client addresses for one configuration of trusted proxies and prefixes."""

    def __init__(self, trusted_proxies: str, ipv4_prefix: int = 32, ipv6_prefix: int = 64) -> None:
        self.trusted = tuple(
            ipaddress.ip_network(item.strip(), strict=False)
            for item in trusted_proxies.split(",")
            if item.strip()
        )
        self.ipv4_prefix = ipv4_prefix
        self.ipv6_prefix = ipv6_prefix
        # Peers that are not trusted proxies resolve to themselves whatever the headers say:
        # remembered, since parsing an address costs more than the rest of the check.
        self._direct: dict[str, ClientAddress] = {}

    def resolve(self, scope: Scope) -> ClientAddress:
        """The client of this HTTP or WebSocket connection."""
        peer = scope.get("client")
        peer_host = str(peer[0]) if peer else "unknown"
        known = self._direct.get(peer_host)
        if known is not None:
            return known
        address = _parse(peer_host)
        if address is not None and self._is_trusted(address):
            forwarded = self._from_headers(scope)
            return self._client(forwarded or address)
        resolved = (
            ClientAddress(host=peer_host, key=peer_host, is_loopback=False)
            if address is None  # not an IP at all (the test client says "testclient")
            else self._client(address)
        )
        if len(self._direct) >= DIRECT_CACHE_SIZE:
            self._direct.clear()
        self._direct[peer_host] = resolved
        return resolved

    def _client(self, address: IPAddress) -> ClientAddress:
        return ClientAddress(
            host=str(address), key=self.network_key(address), is_loopback=address.is_loopback
        )

    def network_key(self, address: IPAddress) -> str:
        """The counted network of an address: itself for IPv4 /32, its /64 for IPv6 by default."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        prefix = self.ipv4_prefix if address.version == 4 else self.ipv6_prefix
        if prefix == address.max_prefixlen:
            return str(address)
        return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))

    def _is_trusted(self, address: IPAddress) -> bool:
        return any(address in network for network in self.trusted)

    def _from_headers(self, scope: Scope) -> IPAddress | None:
        chain: list[str] = []
        for name, value in scope.get("headers", ()):
            if name == b"forwarded":
                chain.extend(_forwarded_for(value.decode("latin-1")))
            elif name == b"x-forwarded-for" and not chain:
                chain.extend(part.strip() for part in value.decode("latin-1").split(","))
        # Walk from the proxy nearest to us outwards; the first untrusted hop is the client.
        for item in reversed(chain):
            hop = _parse(item)
            if hop is None:
                return None  # garbage or an obfuscated identifier: keep the peer
            if not self._is_trusted(hop):
                return hop
        return None


def _forwarded_for(value: str) -> list[str]:
    """The `for=` values of an RFC 7239 Forwarded header, in order."""
    found = []
    for element in value.split(","):
        for pair in element.split(";"):
            key, _, raw = pair.strip().partition("=")
            if key.lower() == "for":
                found.append(raw.strip().strip('"'))
    return found


def _parse(text: str) -> IPAddress | None:
    text = text.strip()
    if text.startswith("["):  # "[2001:db8::1]:4711" as Forwarded writes IPv6
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # "192.0.2.1:4711"
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
