"""End to end with a real Celery worker: probe now and the scheduled dispatch both store results.

The worker consumes the queue of a location of this test run's own (probes.t<pid>) and a results
queue of its own (PROBE_RESULTS_QUEUE=probes.results.t<pid>), so another run sharing the broker
cannot take its tasks: it runs the probes from the message and records the results it sent itself.
"""
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from tests.celery_helpers import worker_start, worker_stop
from core.actors import actor_for_cli
from topology.manifest import ServiceSpec
from topology.models import Team
from probes.models import Probe, ProbeStatus
from probes.services import probes_dispatch
from probes.engine.spec import probe_declaration_check
from topology.registration import registration_apply

LOCATION = f"t{os.getpid()}"
RESULTS_QUEUE = f"probes.results.t{os.getpid()}"


class Health(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the name http.server calls
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def target():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/healthz"
    server.shutdown()


@pytest.fixture
def probe_worker(transactional_db, settings, monkeypatch):
    settings.PROBE_RESULTS_QUEUE = RESULTS_QUEUE
    monkeypatch.setenv("PROBE_RESULTS_QUEUE", RESULTS_QUEUE)  # the worker's environment
    process = worker_start(queue=f"probes.{LOCATION},{RESULTS_QUEUE}", name=f"probe-worker-{LOCATION}")
    yield process
    worker_stop(process)


@pytest.fixture
def declared(target, settings, transactional_db):
    settings.PROBE_LOCATIONS = ["default", LOCATION]
    Team.objects.create(slug="commerce", name="Commerce")
    declaration, errors = probe_declaration_check({
        "name": "health", "type": "http", "target": target, "interval": "10s", "locations": [LOCATION],
        "expect": {"status": [200], "json_path": "$.status", "equals": "ok"}})
    assert not errors
    spec = ServiceSpec(name="orders", team="commerce", probes=[declaration.as_manifest()])
    registration_apply(specs=[spec], actor=actor_for_cli())
    return Probe.objects.get()


def wait_for(condition, worker, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        assert worker.poll() is None, worker.stdout.read()
        time.sleep(0.2)
    raise AssertionError("the worker did not record a result in time")


def test_it_runs_probe_now_in_a_real_worker_and_the_page_shows_it(declared, probe_worker, client):
    from django.contrib.auth.models import User

    user = User.objects.create_user("ops", password="pw", is_staff=True, is_superuser=True)
    client.force_login(user)
    page = client.post("/services/orders/probes/health/run/").content.decode()
    assert "Running health" in page
    wait_for(lambda: ProbeStatus.objects.filter(probe=declared, outcome="up").exists(), probe_worker)
    status = ProbeStatus.objects.get(probe=declared)
    assert status.values.get("status") == 200 and status.location == LOCATION
    detail = client.get("/services/orders/probes/health/").content.decode()
    assert "state-up" in detail and LOCATION in detail


def test_it_dispatches_due_probes_to_their_location_queue(declared, probe_worker, client):
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_user("ops", password="pw", is_staff=True, is_superuser=True))
    now = timezone.now()
    Probe.objects.update(next_due_at=now)
    assert probes_dispatch(now=now) == 1
    wait_for(lambda: ProbeStatus.objects.filter(probe=declared, last_slot__isnull=False).exists(), probe_worker)
    [result] = client.get(f"/api/v1/probes/{declared.id}/results/").json()
    assert (result["outcome"], result["location"]) == ("up", LOCATION)
    assert result["slot"].startswith(now.replace(microsecond=0).isoformat()[:19])
