"""NATS probe: a JetStream consumer's backlog, a stream's size, or just a connection."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import nats
import nats.errors
import nats.js.errors

from .policy import address_resolve, policy_ssl_context
from .spec import ProbeSpec
from .targets import target_split

if TYPE_CHECKING:
    from nats.aio.client import Client

    from .runner import Attempt, Measured

DEFAULT_PORT = 4222
TLS = "tls"
SCHEMES = ("nats", TLS)
STREAM_NOT_FOUND = 10059
CONSUMER_NOT_FOUND = 10014
CLIENT_NAME = "switchboard-probe"


@dataclass(frozen=True, slots=True)
class Server:
    """Where and as whom to connect, from a nats:// or tls:// URL (user alone is a token)."""

    scheme: str
    host: str
    port: int
    user: str | None
    password: str | None


async def probe(spec: ProbeSpec, attempt: Attempt) -> Measured:
    """Connect to the checked address and look at the consumer, the stream, or nothing more."""
    server = server_parts(spec.target)
    address = await address_resolve(attempt.policy, server.host, server.port)
    attempt.connecting()
    client = await _connected(server, address, spec.timeout, attempt)
    try:
        return await _inspected(client, spec.options, spec.timeout)
    finally:
        await client.close()


def server_parts(target: str) -> Server:
    """Scheme, host, port and credentials from the URL."""
    url = target_split(target, schemes=SCHEMES)
    return Server(url.scheme, url.host, url.port or DEFAULT_PORT, url.user, url.password)


async def _connected(server: Server, address: str, timeout: float, attempt: Attempt) -> Client:
    """A client on the checked address only, no reconnects (0 attempts would mean "retry forever")."""
    errors: list[Exception] = []

    async def error_seen(exc: Exception) -> None:
        errors.append(exc)

    host = f"[{address}]" if ":" in address else address
    token = server.user if server.password is None else None
    try:
        return await nats.connect(
            servers=[f"{server.scheme}://{host}:{server.port}"], name=CLIENT_NAME, error_cb=error_seen,
            allow_reconnect=False, max_reconnect_attempts=1, reconnect_time_wait=0, connect_timeout=timeout,
            user=None if token else server.user, password=server.password, token=token,
            tls=policy_ssl_context(attempt.policy) if server.scheme == TLS else None, tls_hostname=server.host)
    except nats.errors.NoServersError:
        raise ConnectionError(f"could not connect: {_last(errors)}") from None


def _last(errors: list[Exception]) -> str:
    """The last error the client reported, as text."""
    if not errors:
        return "no server answered"
    return f"{type(errors[-1]).__name__}: {errors[-1]}".rstrip(": ")


async def _inspected(client: Client, options: dict, timeout: float) -> Measured:
    """Consumer info, stream info, or a round trip, by which options are given."""
    stream, consumer = options.get("stream"), options.get("consumer")
    try:
        if stream and consumer:
            return await _consumer(client, stream, consumer, timeout), ""
        if stream:
            return await _stream(client, stream, timeout), ""
    except nats.js.errors.NotFoundError as exc:
        return {}, _not_found(exc, stream, consumer)
    except nats.errors.NoRespondersError:
        return {}, "JetStream is not enabled on the server"
    await client.flush(timeout=timeout)
    return {}, ""


async def _consumer(client: Client, stream: str, consumer: str, timeout: float) -> dict:
    """A JetStream consumer's backlog: not yet delivered, delivered but unacknowledged, redelivered."""
    info = await client.jetstream(timeout=timeout).consumer_info(stream, consumer)
    return {"pending": info.num_pending or 0, "ack_pending": info.num_ack_pending or 0,
            "redelivered": info.num_redelivered or 0}


async def _stream(client: Client, stream: str, timeout: float) -> dict:
    """A stream's message and consumer counts."""
    info = await client.jetstream(timeout=timeout).stream_info(stream)
    return {"messages": info.state.messages, "consumers": info.state.consumer_count}


def _not_found(exc: nats.js.errors.NotFoundError, stream: str, consumer: str | None) -> str:
    """"stream … not found" or "consumer … not found on stream …"."""
    if exc.err_code == CONSUMER_NOT_FOUND or (consumer and exc.err_code != STREAM_NOT_FOUND):
        return f"consumer {consumer!r} not found on stream {stream!r}"
    return f"stream {stream!r} not found"
