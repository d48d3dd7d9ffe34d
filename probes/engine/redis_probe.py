"""Redis probe: PING, and a stream's length and a consumer group's pending count."""
from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.connection import Connection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ResponseError

from .policy import address_resolve, policy_ssl_context
from .spec import ProbeSpec
from .targets import target_split

if TYPE_CHECKING:
    from .runner import Attempt, Measured

REDISS = "rediss"
SCHEMES = ("redis", REDISS)
DEFAULT_PORT = 6379
STREAM_TYPE = "stream"
MISSING_TYPE = "none"
NO_GROUP = "NOGROUP"
RESP2 = 2  # every Redis version speaks it; HELLO 3 needs Redis 6+


@dataclass(frozen=True, slots=True)
class Server:
    """Where and as whom to connect, from a redis(s):// URL."""

    host: str
    port: int
    db: int
    username: str | None
    password: str | None
    tls: bool


class ProbeConnection(Connection):
    """A connection to a fixed address that, for TLS, verifies the certificate for the original host name."""

    def __init__(self, *, tls_context: ssl.SSLContext | None = None, tls_hostname: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.tls_context = tls_context
        self.tls_hostname = tls_hostname

    def _connection_arguments(self) -> dict:
        """The asyncio.open_connection arguments, with the shared TLS context and the original host name."""
        arguments = dict(super()._connection_arguments())
        if self.tls_context is not None:
            arguments.update(ssl=self.tls_context, server_hostname=self.tls_hostname)
        return arguments


async def probe(spec: ProbeSpec, attempt: Attempt) -> Measured:
    """PING, then the stream and group checks the options ask for."""
    server = server_parts(spec.target)
    address = await address_resolve(attempt.policy, server.host, server.port)
    attempt.connecting()
    client = _client(server, address, spec.timeout, attempt)
    try:
        await client.ping()
        return await _inspected(client, spec.options.get("stream"), spec.options.get("group"))
    finally:
        await client.aclose()


def server_parts(target: str) -> Server:
    """Host, port, database number and credentials from the URL."""
    url = target_split(target, schemes=SCHEMES)
    path = url.path.strip("/")  # an empty user name ("redis://:secret@host") is a password alone
    return Server(url.host, url.port or DEFAULT_PORT, int(path) if path else 0, url.user or None, url.password,
                  url.scheme == REDISS)


def _client(server: Server, address: str, timeout: float, attempt: Attempt) -> Redis:
    """One client with one connection to the checked address; no retries (the probe says what it found)."""
    tls = policy_ssl_context(attempt.policy) if server.tls else None
    pool = ConnectionPool(
        connection_class=ProbeConnection, max_connections=1, host=address, port=server.port, db=server.db,
        username=server.username, password=server.password, socket_timeout=timeout,
        socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0), decode_responses=True, protocol=RESP2,
        tls_context=tls, tls_hostname=server.host)
    return Redis.from_pool(pool)


async def _inspected(client: Redis, stream: str | None, group: str | None) -> Measured:
    """The stream's length and the group's pending count; a missing stream or group is down."""
    if not stream:
        return {}, ""
    problem = await _not_a_stream(client, stream)
    if problem:
        return {}, problem
    values = {"length": await client.xlen(stream)}
    if not group:
        return values, ""
    try:
        values["pending"] = (await client.xpending(stream, group))["pending"]
    except ResponseError as exc:
        if not str(exc).startswith(NO_GROUP):
            raise
        return values, f"group {group!r} not found on stream {stream!r}"
    return values, ""


async def _not_a_stream(client: Redis, stream: str) -> str:
    """Why the key is not a stream (missing, or another type), or ""."""
    kind = await client.type(stream)
    if kind == MISSING_TYPE:
        return f"stream {stream!r} not found"
    return "" if kind == STREAM_TYPE else f"key {stream!r} is a {kind}, not a stream"
