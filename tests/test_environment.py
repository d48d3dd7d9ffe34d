"""The second CI run must really use PostgreSQL, Redis, RabbitMQ and NATS: a missing one fails here.

These checks run only when SWITCHBOARD_REQUIRE_SERVICES=1 (set by .ci/run for that run); the run on
the embedded defaults has no such services to check.
"""
import os
import socket
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection

REQUIRED = os.environ.get("SWITCHBOARD_REQUIRE_SERVICES") == "1"
pytestmark = pytest.mark.skipif(not REQUIRED, reason="runs only with SWITCHBOARD_REQUIRE_SERVICES=1 (CI's second run)")


def required_url(name: str) -> str:
    value = os.environ.get(name, "")
    assert value, f"{name} must be set when SWITCHBOARD_REQUIRE_SERVICES=1"
    return value


def greeting(url: str, default_port: int, send: bytes = b"") -> bytes:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=5) as sock:
        if send:
            sock.sendall(send)
        return sock.recv(4096)


def test_it_uses_postgresql(db):
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("select 1")
        assert cursor.fetchone() == (1,)


def test_it_uses_redis_as_the_celery_broker():
    import redis

    assert settings.CELERY_BROKER_URL.startswith("redis://")
    assert redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=5).ping()
    assert redis.Redis.from_url(required_url("REDIS_URL"), socket_timeout=5).ping()


def test_it_reaches_rabbitmq():
    # An AMQP 0-9-1 protocol header is answered by a Connection.Start method frame (type 1).
    reply = greeting(required_url("RABBITMQ_URL"), 5672, send=b"AMQP\x00\x00\x09\x01")
    assert reply[:1] == b"\x01", reply


def test_it_reaches_nats_with_jetstream():
    reply = greeting(required_url("NATS_URL"), 4222)
    assert reply.startswith(b"INFO "), reply
    assert b'"jetstream":true' in reply.replace(b" ", b""), "NATS must run with JetStream (-js)"
