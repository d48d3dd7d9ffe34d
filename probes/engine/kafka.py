"""Kafka probe: a consumer group's lag — how far its committed offsets trail the partitions' ends.

The target is the bootstrap servers, `host:port[,host:port]`. Each is checked by the target policy
and the client connects to the checked address (with TLS it must use the name, which the
certificate is verified against). A Kafka client then connects to the brokers the cluster
advertises in its metadata, so every advertised broker is checked too before the group is read:
a cluster cannot send the probe on to an address the policy refuses.

Values: `lag` (all partitions with a committed offset), `worst` ("topic/partition:lag") and
`worst_lag`, `partitions`, `members` and `state` of the group. The client library is synchronous
(librdkafka), so it runs in a thread.
"""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from .policy import address_resolve
from .spec import ProbeSpec, host_port

if TYPE_CHECKING:
    from .runner import Attempt, Measured

DEFAULT_PORT = 9092
CLIENT_ID = "switchboard-probe"
CLIENT_SHARE = 0.8  # of the probe's timeout, for each wait of the client
_quiet = logging.getLogger("switchboard.probes.kafka")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False  # librdkafka reports every refused connection; the probe's error says it once


async def probe(spec: ProbeSpec, attempt: Attempt) -> Measured:
    servers = bootstrap_parts(spec.target)
    tls = bool(spec.options.get("tls"))
    checked = [await address_resolve(attempt.policy, host, port) for host, port in servers]
    bootstrap = ",".join(_joined(host if tls else address, port) for (host, port), address in zip(servers, checked))
    wait = spec.timeout * CLIENT_SHARE  # librdkafka's own waits end first, with their own message
    config = client_config(bootstrap, spec.options, wait)
    attempt.connecting()
    try:
        brokers = await asyncio.to_thread(_brokers, config, wait, spec.target)
        for host, port in brokers:
            await address_resolve(attempt.policy, host, port)
        return await asyncio.to_thread(_lag, config, spec.options, wait)
    except Unavailable as exc:
        return {}, str(exc)


class Unavailable(Exception):
    """The cluster did not answer a request (the message says which, and what the client saw)."""


def bootstrap_parts(target: str) -> list[tuple[str, int]]:
    """[(host, port)] of `host:port[,host:port]` (port 9092 when left out); ValueError otherwise."""
    servers = [host_port(item.strip(), default_port=DEFAULT_PORT) for item in target.split(",") if item.strip()]
    if not servers or None in servers:
        raise ValueError("target is not host:port[,host:port] (the bootstrap servers)")
    return servers


def _joined(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def client_config(bootstrap: str, options: dict, timeout: float) -> dict:
    """librdkafka settings: the checked bootstrap servers, TLS and SASL from the options, and every
    wait bounded by the probe's timeout."""
    ms = max(1, int(timeout * 1000))
    config = {"bootstrap.servers": bootstrap, "client.id": CLIENT_ID, "logger": _quiet,
              "socket.timeout.ms": ms, "socket.connection.setup.timeout.ms": ms, "reconnect.backoff.max.ms": ms,
              "security.protocol": _protocol(options)}
    if options.get("sasl_mechanism"):
        config.update({"sasl.mechanism": options["sasl_mechanism"], "sasl.username": options.get("sasl_username", ""),
                       "sasl.password": options.get("sasl_password", "")})
    if options.get("tls_ca"):
        config["ssl.ca.location"] = options["tls_ca"]
    return config


def _protocol(options: dict) -> str:
    tls, sasl = bool(options.get("tls")), bool(options.get("sasl_mechanism"))
    return {(False, False): "PLAINTEXT", (True, False): "SSL", (False, True): "SASL_PLAINTEXT",
            (True, True): "SASL_SSL"}[(tls, sasl)]


def _brokers(config: dict, timeout: float, target: str) -> list[tuple[str, int]]:
    """The brokers the cluster advertises; Unavailable when no bootstrap server answers."""
    try:
        metadata = AdminClient(config).list_topics(timeout=timeout)
    except KafkaException as exc:
        raise Unavailable(f"no broker answered at {target} within {timeout:.3g} s ({_reason(exc)})") from None
    return [(broker.host, broker.port) for broker in metadata.brokers.values()]


def _lag(config: dict, options: dict, timeout: float) -> Measured:
    """The group's committed offsets against the partitions' high watermarks."""
    group, topic = options["group"], options.get("topic")
    admin = AdminClient(config)
    committed, members, state = _group(admin, group, timeout)
    mine = [tp for tp in committed if topic is None or tp.topic == topic]
    if not mine:
        return {"members": members, "state": state}, _missing(group, topic, bool(committed), members)
    ends = _ends(config, mine, timeout)
    lags = {(tp.topic, tp.partition): max(0, ends[(tp.topic, tp.partition)] - tp.offset) for tp in mine}
    (worst_topic, worst_partition), worst = max(lags.items(), key=lambda item: (item[1], item[0]))
    return {"lag": sum(lags.values()), "worst": f"{worst_topic}/{worst_partition}:{worst}", "worst_lag": worst,
            "partitions": len(lags), "members": members, "state": state}, ""


def _group(admin: AdminClient, group: str, timeout: float) -> tuple[list[TopicPartition], int, str]:
    """(partitions with a committed offset, members, state) of the group."""
    try:
        offsets = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)],
                                                    request_timeout=timeout)[group].result(timeout)
        described = admin.describe_consumer_groups([group], request_timeout=timeout)[group].result(timeout)
    except KafkaException as exc:
        raise Unavailable(f"could not read consumer group {group!r}: {_reason(exc)}") from None
    committed = [tp for tp in offsets.topic_partitions or [] if tp.offset is not None and tp.offset >= 0]
    return committed, len(described.members or []), described.state.name.lower()


def _missing(group: str, topic: str | None, has_offsets: bool, members: int) -> str:
    if topic and has_offsets:
        return f"consumer group {group!r} has no committed offsets for topic {topic!r}"
    if members:
        return f"consumer group {group!r} has {members} members but no committed offsets yet"
    return f"consumer group {group!r} does not exist (no members and no committed offsets)"


def _ends(config: dict, partitions: list[TopicPartition], timeout: float) -> dict[tuple[str, int], int]:
    """The high watermark of each partition, read by a consumer that never joins a group or commits."""
    consumer = Consumer({**config, "group.id": CLIENT_ID, "enable.auto.commit": False})
    try:
        return {(tp.topic, tp.partition): consumer.get_watermark_offsets(TopicPartition(tp.topic, tp.partition),
                                                                         timeout=timeout, cached=False)[1]
                for tp in partitions}
    except KafkaException as exc:
        raise Unavailable(f"could not read the partitions' ends: {_reason(exc)}") from None
    finally:
        consumer.close()


def _reason(exc: KafkaException) -> str:
    error = exc.args[0] if exc.args else None
    return error.str() if hasattr(error, "str") else str(exc)
