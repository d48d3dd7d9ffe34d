"""The probe engine against gRPC (in process), RabbitMQ, NATS JetStream and Redis on this machine."""
import ssl
import uuid

import grpc
import pika
import pytest
import redis
import trustme

from tests.probe_servers import (NOT_SERVING, SERVING, closed_port, fixed_resolver, grpc_server, resp_server,
                                 service_url)
from probes.engine import TargetPolicy, coroutine_run, policy_build, probes_run, probes_run_async
from probes.engine.spec import Kind, Outcome, ProbeSpec

POLICY = policy_build()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def run_one(spec: ProbeSpec):
    [result] = probes_run([spec], policy=POLICY)
    return result


# gRPC


def grpc_results(statuses, services):
    """Probe an in-process server once per service name (None = no health service on the server)."""
    async def scenario():
        async with grpc_server(statuses) as port:
            specs = [ProbeSpec(name, Kind.GRPC, f"127.0.0.1:{port}", timeout=2, options=options)
                     for name, options in services.items()]
            return await probes_run_async(specs, policy=POLICY)

    return {result.key: result for result in coroutine_run(scenario())}


def test_it_handles_grpc_health_statuses():
    results = grpc_results({"": SERVING, "orders.Orders": SERVING, "billing.Billing": NOT_SERVING}, {
        "server": {}, "orders": {"service": "orders.Orders"}, "billing": {"service": "billing.Billing"},
        "unknown": {"service": "ghost.Ghost"},
    })
    assert (results["server"].outcome, results["server"].values) == (Outcome.UP, {"status": "SERVING"})
    assert results["orders"].outcome == Outcome.UP
    assert (results["billing"].outcome, results["billing"].error) == (Outcome.DOWN, "health status NOT_SERVING")
    assert (results["unknown"].outcome, results["unknown"].error) == (Outcome.DOWN, "unknown service 'ghost.Ghost'")


def test_it_rejects_a_grpc_server_without_a_health_service():
    result = grpc_results(None, {"plain": {}})["plain"]
    assert (result.outcome, result.error) == (Outcome.DOWN, "the server has no health service")


def test_it_handles_grpc_over_tls_verifying_the_original_host_name():
    ca = trustme.CA()
    leaf = ca.issue_cert("grpc.test")
    chain = b"".join(pem.bytes() for pem in leaf.cert_chain_pems)
    credentials = grpc.ssl_server_credentials([(leaf.private_key_pem.bytes(), chain)])
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    resolver = fixed_resolver({"grpc.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})

    async def scenario():
        async with grpc_server({"": SERVING}, credentials) as port:
            specs = [ProbeSpec(name, Kind.GRPC, f"{host}:{port}", timeout=3, options={"tls": True})
                     for name, host in (("trusted", "grpc.test"), ("wrong-name", "other.test"))]
            trusted = await probes_run_async(specs, policy=TargetPolicy(resolver=resolver, ssl_context=trusting))
            untrusted = await probes_run_async(specs[:1], policy=TargetPolicy(resolver=resolver))
            return trusted + untrusted

    trusted, wrong_name, untrusted = coroutine_run(scenario())
    assert (trusted.outcome, trusted.values, trusted.error) == (Outcome.UP, {"status": "SERVING"}, "")
    assert (wrong_name.outcome, untrusted.outcome) == (Outcome.DOWN, Outcome.DOWN)
    assert wrong_name.error.startswith("UNAVAILABLE") and untrusted.error.startswith("UNAVAILABLE")


def test_it_rejects_a_refused_grpc_port():
    result = run_one(ProbeSpec("k", Kind.GRPC, f"127.0.0.1:{closed_port()}", timeout=2))
    assert result.outcome == Outcome.DOWN
    assert result.error.startswith("UNAVAILABLE")


# RabbitMQ


@pytest.fixture
def rabbitmq():
    url = service_url("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/", 5672)
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.confirm_delivery()
    queues = []

    def queue(messages: int = 0) -> str:
        name = unique("switchboard-test")
        channel.queue_declare(name)
        queues.append(name)
        for number in range(messages):
            channel.basic_publish("", name, f"message {number}".encode())
        return name

    yield url, channel, queue
    for name in queues:
        channel.queue_delete(name)
    connection.close()


def rabbit(url: str, queue: str, **expect) -> ProbeSpec:
    return ProbeSpec("k", Kind.RABBITMQ_QUEUE, url, timeout=5, options={"queue": queue}, expect=expect)


def test_it_rejects_a_queue_with_no_consumer(rabbitmq):
    url, _, queue = rabbitmq
    result = run_one(rabbit(url, queue()))
    assert (result.outcome, result.values) == (Outcome.DOWN, {"ready": 0, "consumers": 0})
    assert result.error == "consumers=0 below min_consumers=1"


def test_it_handles_a_queue_with_a_consumer(rabbitmq):
    url, channel, queue = rabbitmq
    name = queue()
    channel.basic_consume(name, lambda *args: None)
    result = run_one(rabbit(url, name))
    assert (result.outcome, result.values, result.error) == (Outcome.UP, {"ready": 0, "consumers": 1}, "")


def test_it_degrades_a_queue_with_more_ready_messages_than_max_ready(rabbitmq):
    url, _, queue = rabbitmq
    result = run_one(rabbit(url, queue(messages=3), max_ready=2, min_consumers=0))
    assert (result.outcome, result.values) == (Outcome.DEGRADED, {"ready": 3, "consumers": 0})
    assert result.error == "ready=3 above max_ready=2"


def test_it_rejects_a_missing_queue(rabbitmq):
    url, _, _ = rabbitmq
    result = run_one(rabbit(url, "switchboard-test-never-declared"))
    assert (result.outcome, result.values) == (Outcome.DOWN, {})
    assert result.error == "queue 'switchboard-test-never-declared' not found in vhost '/'"


def test_it_never_puts_a_wrong_rabbitmq_password_into_the_error(rabbitmq):
    url, _, queue = rabbitmq
    host = url.split("@")[-1]
    result = run_one(rabbit(f"amqp://guest:wrong-pass-4242@{host}", queue()))
    assert result.outcome == Outcome.DOWN
    assert result.error and "wrong-pass-4242" not in result.error


# NATS JetStream


@pytest.fixture
def nats_stream():
    """A stream with 5 messages and a durable pull consumer that holds 2 of them unacknowledged."""
    import nats
    from nats.js.api import AckPolicy, ConsumerConfig

    url = service_url("NATS_URL", "nats://127.0.0.1:4222", 4222)
    stream, subject = unique("SBTEST").replace("-", "_"), f"sbtest.{uuid.uuid4().hex[:12]}"

    async def setup():
        client = await nats.connect(url)
        js = client.jetstream()
        await js.add_stream(name=stream, subjects=[f"{subject}.>"])
        for number in range(5):
            await js.publish(f"{subject}.job", f"job {number}".encode())
        await js.add_consumer(stream, ConsumerConfig(durable_name="worker", ack_policy=AckPolicy.EXPLICIT,
                                                     ack_wait=60))
        subscription = await js.pull_subscribe(f"{subject}.>", durable="worker", stream=stream)
        await subscription.fetch(2, timeout=5)
        await client.close()

    async def teardown():
        client = await nats.connect(url)
        await client.jetstream().delete_stream(stream)
        await client.close()

    coroutine_run(setup())
    yield url, stream
    coroutine_run(teardown())


def nats_spec(url: str, expect=None, **options) -> ProbeSpec:
    return ProbeSpec("k", Kind.NATS_CONSUMER, url, timeout=5, options=options, expect=expect or {})


def test_it_handles_a_jetstream_consumer(nats_stream):
    url, stream = nats_stream
    result = run_one(nats_spec(url, stream=stream, consumer="worker"))
    assert (result.outcome, result.error) == (Outcome.UP, "")
    assert result.values == {"pending": 3, "ack_pending": 2, "redelivered": 0}


def test_it_degrades_a_jetstream_consumer_over_its_thresholds(nats_stream):
    url, stream = nats_stream
    expect = {"max_pending": 2, "max_ack_pending": 1, "max_redelivered": 0}
    result = run_one(nats_spec(url, expect, stream=stream, consumer="worker"))
    assert result.outcome == Outcome.DEGRADED
    assert result.error == "pending=3 above max_pending=2; ack_pending=2 above max_ack_pending=1"


def test_it_handles_a_stream_without_a_consumer_option(nats_stream):
    url, stream = nats_stream
    result = run_one(nats_spec(url, stream=stream))
    assert (result.outcome, result.values) == (Outcome.UP, {"messages": 5, "consumers": 1})


def test_it_rejects_a_missing_consumer_or_stream(nats_stream):
    url, stream = nats_stream
    missing_consumer = run_one(nats_spec(url, stream=stream, consumer="nobody"))
    assert (missing_consumer.outcome, missing_consumer.error) == (
        Outcome.DOWN, f"consumer 'nobody' not found on stream '{stream}'")
    missing_stream = run_one(nats_spec(url, stream="SBTEST_NEVER_CREATED", consumer="worker"))
    assert (missing_stream.outcome, missing_stream.error) == (Outcome.DOWN, "stream 'SBTEST_NEVER_CREATED' not found")


def test_it_handles_a_plain_nats_connection(nats_stream):
    url, _ = nats_stream
    result = run_one(nats_spec(url))
    assert (result.outcome, result.values, result.error) == (Outcome.UP, {}, "")


def test_it_rejects_a_refused_nats_port():
    result = run_one(nats_spec(f"nats://127.0.0.1:{closed_port()}"))
    assert result.outcome == Outcome.DOWN
    assert "ConnectionRefusedError" in result.error


# Redis


@pytest.fixture
def redis_stream():
    """A stream of 4 entries with a group `workers` holding 2 of them pending."""
    url = service_url("REDIS_URL", "redis://127.0.0.1:6379/6", 6379)
    client = redis.Redis.from_url(url, socket_timeout=5)
    key = unique("switchboard-test:stream")
    for number in range(4):
        client.xadd(key, {"job": number})
    client.xgroup_create(key, "workers", id="0")
    client.xreadgroup("workers", "worker-1", {key: ">"}, count=2)
    yield url, key, client
    client.delete(key)
    client.close()


def redis_spec(url: str, expect=None, **options) -> ProbeSpec:
    return ProbeSpec("k", Kind.REDIS, url, timeout=5, options=options, expect=expect or {})


def test_it_handles_a_redis_ping(redis_stream):
    url, _, _ = redis_stream
    result = run_one(redis_spec(url))
    assert (result.outcome, result.values, result.error) == (Outcome.UP, {}, "")


def test_it_handles_a_redis_stream_and_group(redis_stream):
    url, key, _ = redis_stream
    assert run_one(redis_spec(url, stream=key)).values == {"length": 4}
    result = run_one(redis_spec(url, stream=key, group="workers"))
    assert (result.outcome, result.values, result.error) == (Outcome.UP, {"length": 4, "pending": 2}, "")


def test_it_degrades_a_redis_stream_over_its_thresholds(redis_stream):
    url, key, _ = redis_stream
    result = run_one(redis_spec(url, {"max_length": 3, "max_pending": 1}, stream=key, group="workers"))
    assert result.outcome == Outcome.DEGRADED
    assert result.error == "length=4 above max_length=3; pending=2 above max_pending=1"


def test_it_rejects_a_missing_redis_stream_group_or_wrong_type(redis_stream):
    url, key, client = redis_stream
    assert run_one(redis_spec(url, stream=f"{key}:missing")).error == f"stream '{key}:missing' not found"
    assert run_one(redis_spec(url, stream=key, group="nobody")).error == f"group 'nobody' not found on stream '{key}'"
    client.set(f"{key}:text", "x", ex=60)
    try:
        assert run_one(redis_spec(url, stream=f"{key}:text")).error == f"key '{key}:text' is a string, not a stream"
    finally:
        client.delete(f"{key}:text")


def test_it_handles_rediss_verifying_the_original_host_name():
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("cache.test").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    policy = TargetPolicy(resolver=fixed_resolver({"cache.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]}),
                          ssl_context=client_context)

    async def scenario():
        async with resp_server(server_context) as (port, commands):
            specs = [redis_spec(f"rediss://{host}:{port}/0") for host in ("cache.test", "other.test")]
            return await probes_run_async(specs, policy=policy), commands

    (trusted, wrong_name), commands = coroutine_run(scenario())
    assert (trusted.outcome, trusted.error) == (Outcome.UP, "")
    assert [b"PING"] in commands
    assert wrong_name.outcome == Outcome.DOWN
    assert "certificate is not valid for 'other.test'" in wrong_name.error


def test_it_rejects_a_refused_redis_port():
    result = run_one(redis_spec(f"redis://:some-secret-pw@127.0.0.1:{closed_port()}/0"))
    assert result.outcome == Outcome.DOWN
    assert "refused" in result.error.lower() and "some-secret-pw" not in result.error
