"""RabbitMQ queue probe: a passive declare gives the ready messages and the consumers of a queue."""
from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote

import pika
import pika.exceptions

from .policy import address_resolve, policy_ssl_context
from .spec import ProbeSpec
from .targets import target_split

if TYPE_CHECKING:
    from .runner import Attempt, Measured

AMQPS = "amqps"
DEFAULT_PORTS = {"amqp": 5672, AMQPS: 5671}
DEFAULT_USER = "guest"
DEFAULT_VHOST = "/"
NOT_FOUND = 404


@dataclass(frozen=True, slots=True)
class Broker:
    """Where and as whom to connect, from an amqp(s) URL."""

    host: str
    port: int
    vhost: str
    user: str
    password: str
    tls: bool


async def probe(spec: ProbeSpec, attempt: Attempt) -> Measured:
    """Declare the queue passively (in a worker thread: pika blocks) and report its counts."""
    broker, queue = broker_parts(spec.target), spec.options.get("queue")
    if not queue:
        return {}, "the queue option is required"
    address = await address_resolve(attempt.policy, broker.host, broker.port)
    parameters = _parameters(broker, address, spec.timeout, attempt)
    return await asyncio.to_thread(_queue_counts, parameters, queue, broker.vhost, attempt)


def broker_parts(target: str) -> Broker:
    """Host, port, vhost and credentials from an amqp(s) URL (guest/guest and vhost "/" by default)."""
    url = target_split(target, schemes=tuple(DEFAULT_PORTS))
    user = DEFAULT_USER if url.user is None else url.user
    password = DEFAULT_USER if url.password is None else url.password
    vhost = unquote(url.path[1:]) if len(url.path) > 1 else DEFAULT_VHOST
    return Broker(url.host, url.port or DEFAULT_PORTS[url.scheme], vhost, user, password, url.scheme == AMQPS)


def _parameters(broker: Broker, address: str, timeout: float, attempt: Attempt) -> pika.ConnectionParameters:
    """Connection parameters for the checked address, every wait bounded by the probe's timeout."""
    tls = pika.SSLOptions(policy_ssl_context(attempt.policy), broker.host) if broker.tls else None
    return pika.ConnectionParameters(
        host=address, port=broker.port, virtual_host=broker.vhost, ssl_options=tls,
        credentials=pika.PlainCredentials(broker.user, broker.password), connection_attempts=1,
        socket_timeout=timeout, stack_timeout=timeout, blocked_connection_timeout=timeout,
        heartbeat=max(1, math.ceil(timeout)), client_properties={"connection_name": "switchboard-probe"})


def _queue_counts(parameters: pika.ConnectionParameters, queue: str, vhost: str, attempt: Attempt) -> Measured:
    """Connect, declare passively, close."""
    attempt.connecting()
    connection = pika.BlockingConnection(parameters)
    try:
        declared = connection.channel().queue_declare(queue, passive=True)
    except pika.exceptions.ChannelClosedByBroker as exc:
        if exc.reply_code == NOT_FOUND:
            return {}, f"queue {queue!r} not found in vhost {vhost!r}"
        return {}, f"the broker refused the queue check: {exc.reply_code} {exc.reply_text}"
    finally:
        if connection.is_open:
            connection.close()
    return {"ready": declared.method.message_count, "consumers": declared.method.consumer_count}, ""
