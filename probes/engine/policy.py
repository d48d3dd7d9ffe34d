"""Which addresses a probe may connect to: names are resolved once and every candidate is checked.

A probe connects to the address `address_resolve` returns, never to the name again, so a name that
later (or also) points at a link-local or cloud metadata address cannot be used to reach it.
"""
from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache

from .addresses import REFUSED, Address, Network, address_forms, always_denied_reason, network_holding
from .spec import host_port

Resolver = Callable[[str, int], Awaitable[list[str]]]
LITERALS_KEPT = 4096


class TargetRefused(Exception):
    """The target's address is not one the probe target policy lets a probe connect to."""


@dataclass(frozen=True)
class TargetPolicy:
    """Allowed and denied networks (empty `allowed` = any address not denied), resolver and TLS context."""

    allowed: tuple[Network, ...] = ()
    denied: tuple[Network, ...] = ()
    resolver: Resolver | None = None
    ssl_context: ssl.SSLContext | None = None
    # What this policy says of each IP literal target seen so far ("" = allowed): the per-probe check
    # of a literal target is one dictionary read, without hashing the policy's networks.
    literal_refusals: dict[str, str] = field(default_factory=dict, compare=False, hash=False, repr=False)


def policy_build(*, allowed: Iterable[str] = (), denied: Iterable[str] = (), **kw) -> TargetPolicy:
    """A policy from network texts such as "10.0.0.0/8" or "::1"; ValueError names a bad one."""
    return TargetPolicy(allowed=_networks(allowed), denied=_networks(denied), **kw)


def _networks(texts: Iterable[str]) -> tuple[Network, ...]:
    """Parse network texts, naming the first that is not a network."""
    networks = []
    for text in texts:
        try:
            networks.append(ipaddress.ip_network(str(text).strip(), strict=False))
        except ValueError:
            raise ValueError(f"{text!r} is not an IP network (e.g. 10.0.0.0/8 or fd00::/8)") from None
    return tuple(networks)


def policy_ssl_context(policy: TargetPolicy) -> ssl.SSLContext:
    """The one client TLS context probes share (certificate and host name verification on)."""
    return policy.ssl_context or _default_ssl_context()


@cache
def _default_ssl_context() -> ssl.SSLContext:
    """Built once: loading the CA store is far too slow to do per probe."""
    return ssl.create_default_context()


async def address_resolve(policy: TargetPolicy, host: str, port: int) -> str:
    """Resolve `host` once and return the first address the policy allows; TargetRefused otherwise."""
    address = address_literal_checked(policy, host)
    if address is not None:
        return address
    host = host.strip("[]")
    candidates = await _resolved(policy, host, port)
    return _first_allowed(policy, host, candidates)


def address_literal_checked(policy: TargetPolicy, host: str) -> str | None:
    """`host` (brackets stripped) when it is an IP literal the policy allows; TargetRefused when the
    policy refuses it; None when it is a name, which address_resolve must resolve and check.

    Synchronous, so the hot path of a literal target (the common case for internal services) awaits
    nothing before connecting."""
    reason = policy.literal_refusals.get(host)
    if reason is None:
        if _literal(host.strip("[]")) is None:
            return None
        refusals = policy.literal_refusals
        if len(refusals) >= LITERALS_KEPT:
            refusals.clear()
        reason = refusals[host] = refusal_reason(policy, _literal(host.strip("[]")))
    host = host.strip("[]")
    if reason:
        raise TargetRefused(f"{host}: {REFUSED}: {reason}")
    return host


async def host_port_resolve(policy: TargetPolicy, target: str) -> tuple[str, str, int]:
    """(host, checked address, port) of a host:port target; ValueError when it is not one."""
    parts = host_port(target)
    if parts is None:
        raise ValueError(f"target {target!r} is not host:port")
    host, port = parts
    return host, await address_resolve(policy, host, port), port


@lru_cache(maxsize=4096)
def _literal(host: str) -> Address | None:
    """The address when `host` is an IP literal (cached: the fast path for literal targets)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def _resolved(policy: TargetPolicy, host: str, port: int) -> list[str]:
    """Every address the name resolves to, in resolver order, without repeats."""
    if policy.resolver is not None:
        found = await policy.resolver(host, port)
    else:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        found = [info[4][0] for info in infos]
    return list(dict.fromkeys(found))


def _first_allowed(policy: TargetPolicy, host: str, candidates: list[str]) -> str:
    """The first candidate the policy allows; TargetRefused saying why each was refused."""
    if not candidates:
        raise TargetRefused(f"{host} resolves to no address")
    reasons = []
    for candidate in candidates:
        address = _literal(candidate)
        reason = "not an IP address" if address is None else refusal_reason(policy, address)
        if not reason:
            return candidate
        reasons.append(f"{candidate}: {reason}")
    raise TargetRefused(f"{host} resolves only to addresses {REFUSED}: {'; '.join(reasons)}")


def refusal_reason(policy: TargetPolicy, address: Address) -> str:
    """Why the policy refuses `address`, or "" when it is allowed."""
    always = always_denied_reason(address)
    if always:
        return always
    forms = address_forms(address)
    denied = network_holding(forms, policy.denied)
    if denied:
        return f"in the denied network {denied}"
    if policy.allowed and not network_holding(forms, policy.allowed):
        return "not in any allowed network"
    return ""
