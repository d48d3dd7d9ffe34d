"""End to end with a real Celery worker: a probe goes down, the change is written to the outbox with
the results, the worker tries the receiver, which is down; the receiver comes back, the sweep
queues the retry, and the receiver gets the event once."""
import os
import time
from datetime import UTC, datetime, timedelta

import pytest

from notifications.delivery import deliveries_due_send
from notifications.models import Delivery, Event
from probes.engine.spec import Outcome, ProbeResult as RunResult
from probes.models import Probe
from probes.services import probe_results_record
from tests.celery_helpers import worker_start, worker_stop
from tests.http_receiver import Receiver
from tests.notification_helpers import webhook
from tests.test_probe_services import register

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def wait_for(check, *, seconds: float = 90.0):  # a worker starting on a loaded machine takes a while
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def worker_output(process) -> str:
    """What a worker printed, once it is stopped (for the message of a failed assertion)."""
    worker_stop(process)
    return process.stdout.read() if process.stdout else ""


@pytest.fixture
def notify_worker(transactional_db, settings, monkeypatch):
    settings.NOTIFY_QUEUE = f"notify.t{os.getpid()}"
    monkeypatch.setenv("NOTIFY_BACKOFF_SECONDS", "1")
    monkeypatch.setenv("NOTIFY_TIMEOUT_SECONDS", "2")
    process = worker_start(queue=settings.NOTIFY_QUEUE, name=f"notify-worker-{os.getpid()}")
    yield process
    worker_stop(process)


def test_it_delivers_a_probe_that_went_down_through_a_real_worker_once_the_receiver_is_back(notify_worker, team):
    register(probes=[{"name": "api", "type": "tcp", "target": "127.0.0.1:9", "interval": "30s", "timeout": "2s"}])
    probe = Probe.objects.get()
    receiver = Receiver().start()
    webhook(team, receiver.url, secret="worker-test-secret-0123")
    receiver.stop()
    for n in range(2):
        at = T0 + timedelta(seconds=30 * n)
        probe_results_record(location="default", slot=at, results=[RunResult(
            key=str(probe.id), outcome=Outcome.DOWN, latency_ms=1.0, started_at=at, finished_at=at,
            values={}, error="connection refused")])
    delivery = Delivery.objects.get()
    tried = wait_for(lambda: Delivery.objects.filter(pk=delivery.pk, attempts__gte=1).exclude(last_error="").exists())
    assert tried, "the worker did not try the delivery: " + worker_output(notify_worker)
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.last_error == "connection refused"
    receiver.start()
    try:
        def swept_and_sent() -> bool:  # what beat does every 10 s, here each second
            deliveries_due_send()
            time.sleep(0.8)
            return Delivery.objects.filter(pk=delivery.pk, status="sent").exists()

        assert wait_for(swept_and_sent), "never delivered: " + worker_output(notify_worker)
    finally:
        receiver.stop()
    event = Event.objects.get()
    assert [r.headers["x-switchboard-event-id"] for r in receiver.requests] == [str(event.id)]
    assert receiver.requests[0].json()["probe"]["state"] == "down"
    assert notify_worker.poll() is None
