"""A real Celery worker on the configured broker (filesystem by default, Redis in CI's second run)."""
import os
import time

import pytest

from tests.celery_helpers import worker_start, worker_stop
from topology.models import WorkerHeartbeat
from topology.selectors import workers_alive
from topology.tasks import worker_heartbeat


# A queue of this test run's own, so that another run sharing the broker cannot take its tasks.
QUEUE = f"test-{os.getpid()}"


@pytest.fixture
def worker(transactional_db):
    process = worker_start(queue=QUEUE, name="test-worker")
    yield process
    worker_stop(process)


def test_it_runs_the_heartbeat_task_in_a_real_worker(worker):
    worker_heartbeat.apply_async(queue=QUEUE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not WorkerHeartbeat.objects.exists():
        assert worker.poll() is None, worker.stdout.read()
        time.sleep(0.2)
    beat = WorkerHeartbeat.objects.get()
    assert beat.hostname.startswith("test-worker@")
    assert [w.hostname for w in workers_alive()] == [beat.hostname]
