"""The addresses no probe may reach whatever the settings, and IP literals in declared targets.

Pure and without DNS: spec.py refuses a declared target whose host is such an address written out,
policy.py refuses every address a run is about to connect to (names included, once resolved).
"""
from __future__ import annotations

import ipaddress
import re
import socket

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

ALWAYS_DENIED: tuple[Network, ...] = tuple(ipaddress.ip_network(text) for text in (
    "169.254.0.0/16",       # IPv4 link-local, cloud metadata (169.254.169.254)
    "fe80::/10",            # IPv6 link-local
    "fd00:ec2::254/128",    # AWS metadata over IPv6
    "0.0.0.0/8",            # "this network": 0.0.0.0 reaches the local host
    "::/128",               # IPv6 unspecified
    "64:ff9b::a9fe:0/112",  # 169.254.0.0/16 through a NAT64 gateway
))
REFUSED = "refused by the probe target policy"
# What the C resolver reads as an IPv4 address without asking DNS: 2852039166, 0xa9fea9fe, 169.254.43518.
NUMERIC_HOST_RE = re.compile(r"^(0[xX][0-9a-fA-F]+|[0-9]+)(\.(0[xX][0-9a-fA-F]+|[0-9]+)){0,3}$")


def address_forms(address: Address) -> tuple[Address, ...]:
    """The address and, for an IPv4-mapped IPv6 address (::ffff:a.b.c.d), its IPv4 form too."""
    mapped = getattr(address, "ipv4_mapped", None)
    return (address, mapped) if mapped is not None else (address,)


def network_holding(forms: tuple[Address, ...], networks: tuple[Network, ...]) -> Network | None:
    """The first network holding any form of the address."""
    for network in networks:
        if any(form.version == network.version and form in network for form in forms):
            return network
    return None


def always_denied_reason(address: Address) -> str:
    """Why `address` is refused whatever PROBE_ALLOWED_NETWORKS says, or "" when it is not."""
    network = network_holding(address_forms(address), ALWAYS_DENIED)
    return f"{network} (link-local, cloud metadata or unspecified) is always denied" if network else ""


def host_literal(host: str) -> Address | None:
    """The address a host written as an IP literal stands for ([::1], 10.0.0.1, 2852039166), else None.

    Only reads the text: a name is never resolved here.
    """
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if NUMERIC_HOST_RE.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None

