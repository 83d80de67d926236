"""Client addresses: forwarded-for headers believed only from trusted proxies; IPv6 by prefix."""

from __future__ import annotations

from parvis.shield.client import AddressResolver


def scope(peer: str, *headers: tuple[str, str]) -> dict[str, object]:
    return {
        "type": "http",
        "client": (peer, 5000),
        "headers": [(name.encode(), value.encode()) for name, value in headers],
    }


def test_forwarded_for_from_an_untrusted_peer_is_ignored() -> None:
    resolver = AddressResolver("10.0.0.1")
    found = resolver.resolve(scope("198.51.100.9", ("x-forwarded-for", "1.2.3.4")))
    assert found.host == "198.51.100.9"
    assert found.key == "198.51.100.9"


def test_forwarded_for_from_a_trusted_proxy_names_the_client() -> None:
    resolver = AddressResolver("10.0.0.0/8")
    found = resolver.resolve(scope("10.0.0.1", ("x-forwarded-for", "1.2.3.4, 10.0.0.7")))
    assert found.host == "1.2.3.4"


def test_spoofed_left_part_of_the_chain_is_not_believed() -> None:
    # The client wrote "6.6.6.6" itself; our proxy appended the address it really saw.
    resolver = AddressResolver("10.0.0.1")
    found = resolver.resolve(scope("10.0.0.1", ("x-forwarded-for", "6.6.6.6, 203.0.113.5")))
    assert found.host == "203.0.113.5"


def test_rfc7239_forwarded_header_with_ipv6_and_port() -> None:
    resolver = AddressResolver("127.0.0.1")
    header = 'for="[2001:db8:cafe::17]:4711";proto=https, for=127.0.0.1'
    found = resolver.resolve(scope("127.0.0.1", ("forwarded", header)))
    assert found.host == "2001:db8:cafe::17"


def test_ipv6_clients_are_counted_by_their_64() -> None:
    resolver = AddressResolver("", ipv6_prefix=64)
    one = resolver.resolve(scope("2001:db8:1:2::1"))
    other = resolver.resolve(scope("2001:db8:1:2:ffff::9"))
    elsewhere = resolver.resolve(scope("2001:db8:1:3::1"))
    assert one.key == other.key == "2001:db8:1:2::/64"
    assert elsewhere.key != one.key


def test_ipv4_prefix_is_configurable_and_mapped_addresses_count_as_ipv4() -> None:
    resolver = AddressResolver("", ipv4_prefix=24)
    assert resolver.resolve(scope("192.0.2.77")).key == "192.0.2.0/24"
    assert resolver.resolve(scope("::ffff:192.0.2.8")).key == "192.0.2.0/24"


def test_loopback_and_non_ip_peers() -> None:
    resolver = AddressResolver("")
    assert resolver.resolve(scope("127.0.0.1")).is_loopback
    assert resolver.resolve(scope("::1")).is_loopback
    odd = resolver.resolve(scope("testclient"))
    assert odd.key == "testclient"
    assert not odd.is_loopback
