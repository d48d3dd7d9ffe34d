"""A real Celery worker on the configured broker (filesystem by default, Redis in CI's second run)."""
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection

from topology.models import WorkerHeartbeat
from topology.selectors import workers_alive
from topology.tasks import worker_heartbeat


def database_url() -> str:
    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{config['NAME']}"
    user = config.get("USER") or ""
    password = f":{config['PASSWORD']}" if config.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{config.get('HOST') or '127.0.0.1'}:{config.get('PORT') or 5432}/{config['NAME']}"


# A queue of this test run's own, so that another run sharing the broker cannot take its tasks.
QUEUE = f"test-{os.getpid()}"


@pytest.fixture
def worker(transactional_db):
    env = {**os.environ, "DATABASE_URL": database_url(), "SWITCHBOARD_VAR_DIR": str(settings.VAR_DIR)}
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "webapp", "worker", "--pool", "solo", "--loglevel", "WARNING",
         "-n", "test-worker@%h", "-Q", QUEUE, "--without-gossip", "--without-mingle", "--without-heartbeat"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def test_it_runs_the_heartbeat_task_in_a_real_worker(worker):
    worker_heartbeat.apply_async(queue=QUEUE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not WorkerHeartbeat.objects.exists():
        assert worker.poll() is None, worker.stdout.read()
        time.sleep(0.2)
    beat = WorkerHeartbeat.objects.get()
    assert beat.hostname.startswith("test-worker@")
    assert [w.hostname for w in workers_alive()] == [beat.hostname]
