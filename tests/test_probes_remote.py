"""Probes run at a remote site that has only the broker: real Celery worker processes.

A site worker is started with a DATABASE_URL that names a database that does not exist, or with
none and PROBE_SITE set (Django's dummy database): any query would fail its run. It runs the probes
from the specs in the messages and sends the results back through the broker. A central worker, on the test database, consumes the results queue and writes
them. The results queue is this test run's own (PROBE_RESULTS_QUEUE=probes.results.r<pid>), so a
worker of another run sharing the broker cannot take its results.
"""
import os
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from celery import current_app
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from core.actors import actor_for_cli
from probes.engine.spec import Kind, ProbeSpec, probe_declaration_check
from probes.engine.wire import run_encode
from probes.models import Probe, ProbeStatus
from probes.services import RECOVER_AFTER, probe_claims_recover, probes_dispatch, runs_send
from tests.celery_helpers import database_url, worker_stop
from tests.probe_servers import HttpServer
from topology.manifest import ServiceSpec
from topology.models import Team
from topology.registration import registration_apply

RESULTS_QUEUE = f"probes.results.r{os.getpid()}"
WAIT = 60  # seconds, at most, for any one thing to happen


def absent_database_url(tmp_path) -> str:
    """A database of the test's engine that does not exist: connecting to it fails."""
    if connection.vendor == "sqlite":
        return f"sqlite:///{tmp_path}/no-such-folder/absent.sqlite3"
    return re.sub(r"/[^/]+$", "/switchboard_remote_absent", database_url())


def worker(*, queues: str, name: str, env: dict) -> subprocess.Popen:
    """A solo-pool worker process (prefetch 1, acks late, as configured) on these queues; a None in
    `env` removes that variable."""
    env = {**os.environ, "SWITCHBOARD_VAR_DIR": str(django_settings.VAR_DIR), "PROBE_RESULTS_QUEUE": RESULTS_QUEUE,
           **env}
    env = {name: value for name, value in env.items() if value is not None}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "webapp", "worker", "--pool", "solo", "--loglevel", "WARNING",
         "-n", f"{name}-{os.getpid()}@%h", "-Q", queues, "--without-gossip", "--without-mingle", "--without-heartbeat"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def central_worker(queues: str) -> subprocess.Popen:
    return worker(queues=queues, name="central", env={"DATABASE_URL": database_url()})


def site_worker(location: str, database: str | None) -> subprocess.Popen:
    """As `make site LOCATION=...` starts it: with a DATABASE_URL it could not use, or with none
    (then PROBE_SITE gives it Django's dummy database, which raises on any query)."""
    return worker(queues=f"probes.{location}", name=f"site-{location}",
                  env={"DATABASE_URL": database, "PROBE_SITE": location})


def stopped(process: subprocess.Popen) -> str:
    """Stop a worker (if still running) and return what it printed."""
    if process.poll() is None:
        worker_stop(process)
    return process.stdout.read()


def wait_until(condition, what: str, *workers: subprocess.Popen, seconds: float = WAIT) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        for process in workers:
            if process.poll() is not None:
                raise AssertionError(f"a worker exited while waiting for {what}: {process.stdout.read()}")
        time.sleep(0.05)
    raise AssertionError(f"no {what} within {seconds} s")


def queue_size(name: str) -> int:
    """Messages waiting in a queue (kombu's virtual transports, Redis and the filesystem, count them)."""
    with current_app.connection_for_write() as conn:
        return conn.default_channel._size(name)


def recorded(slot, location: str | None = None):
    statuses = ProbeStatus.objects.filter(last_slot=slot)
    return statuses.filter(location=location) if location else statuses


@pytest.fixture
def results_queue(settings, transactional_db):
    settings.PROBE_RESULTS_QUEUE = RESULTS_QUEUE
    with current_app.connection_for_write() as conn:  # nothing left from an interrupted run
        conn.default_channel.queue_purge(RESULTS_QUEUE)
    return RESULTS_QUEUE


@pytest.fixture
def ops(client, transactional_db):
    client.force_login(User.objects.create_user("ops", password="pw", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def server():
    with HttpServer() as running:
        yield running


def declare(target: str, locations: list[str], count: int = 1, **extra) -> list[Probe]:
    Team.objects.get_or_create(slug="commerce", defaults={"name": "Commerce"})
    items = []
    for n in range(count):
        declaration, errors = probe_declaration_check({
            "name": "health" if count == 1 else f"health-{n}", "type": "http", "target": target, "interval": "5m",
            "locations": locations, **extra})
        assert not errors, errors
        items.append(declaration.as_manifest())
    registration_apply(specs=[ServiceSpec(name="orders", team="commerce", probes=items)], actor=actor_for_cli())
    return list(Probe.objects.order_by("name"))


def results_of(client, probe: Probe, slot) -> list[dict]:
    """The probe's stored results of this slot, as the API shows them."""
    rows = client.get(f"/api/v1/probes/{probe.id}/results/?limit=1000").json()
    return [row for row in rows if row["slot"].startswith(slot.isoformat()[:19])]


def test_it_runs_a_remote_sites_probes_with_only_the_broker_and_shows_them_beside_default(
        settings, results_queue, ops, server, tmp_path):
    settings.PROBE_LOCATIONS = ["default", "eu"]
    [probe] = declare(server.url("/json"), ["default", "eu"],
                      expect={"status": [200], "json_path": "$.status", "equals": "ok"})
    central = central_worker(f"probes.default,{results_queue}")
    site = site_worker("eu", absent_database_url(tmp_path))
    try:
        now = timezone.now()
        Probe.objects.update(next_due_at=now)
        assert probes_dispatch(now=now) == 2
        slot = now.replace(microsecond=0)
        wait_until(lambda: recorded(slot).count() == 2, "result of both locations", central, site)

        rows = {row["location"]: row for row in results_of(ops, probe, slot)}
        assert set(rows) == {"default", "eu"}
        assert all(row["outcome"] == "up" and row["values"]["status"] == 200 for row in rows.values())
        detail = ops.get(f"/api/v1/probes/{probe.id}/").json()
        assert {(s["location"], s["outcome"]) for s in detail["statuses"]} == {("default", "up"), ("eu", "up")}
        page = ops.get("/services/orders/probes/health/").content.decode()
        for location in ("default", "eu"):
            assert re.search(rf'<span class="mono">{location}</span> <span class="state state-up"', page)
            assert f'<td class="mono">{location}</td>' in page  # a row of the recent runs

        # Probe now reaches the site too: its run comes back through the results queue.
        queued = ops.post(f"/api/v1/probes/{probe.id}/run/")
        assert queued.status_code == 202
        wait_until(lambda: ProbeStatus.objects.filter(last_slot__gt=slot).count() == 2, "both runs of probe now",
                   central, site)
    finally:
        site_output, central_output = stopped(site), stopped(central)
    assert "Traceback" not in site_output and "Error" not in site_output, site_output
    assert "Traceback" not in central_output, central_output


def test_it_loses_and_doubles_no_result_when_the_central_writer_is_killed_mid_write(
        settings, results_queue, ops, server, tmp_path):
    """Four runs at a site, one result message each, all waiting on the results queue. The central
    writer takes the first, is held inside its write by a lock this test holds, and is killed
    (SIGKILL). The message it took is gone on either broker for now: the filesystem transport
    deletes a message when it is fetched, and Redis gives an unacknowledged one back only after
    the visibility timeout (an hour). A new writer stores the three still queued; the central
    recovery (probe_claims_recover) sends the fourth run to the site again, and that result is
    stored. Every run sent once more then executes again at the site and changes nothing."""
    location = f"r{os.getpid()}"
    settings.PROBE_LOCATIONS = ["default", location]
    settings.PROBE_BATCH_SIZE = 1
    count = 4
    probes = declare(server.url("/ok"), [location], count=count, timeout="2s")
    site = site_worker(location, None)
    writers = []
    try:
        now = timezone.now()
        Probe.objects.update(next_due_at=now)
        assert probes_dispatch(now=now) == count
        slot = now.replace(microsecond=0)
        wait_until(lambda: queue_size(results_queue) == count, "result messages of every run", site)
        assert not recorded(slot).exists()

        with transaction.atomic():  # holds the writer inside its transaction
            list(ProbeStatus.objects.select_for_update().filter(location=location))
            writers.append(central_worker(results_queue))
            wait_until(lambda: queue_size(results_queue) == count - 1, "the writer to take a message", writers[0])
            time.sleep(1.0)  # into its write, where it waits for the lock
            os.kill(writers[0].pid, signal.SIGKILL)
            writers[0].wait(timeout=10)
        assert not recorded(slot).exists()

        writers.append(central_worker(results_queue))
        wait_until(lambda: recorded(slot).count() == count - 1, "the results still queued", writers[1], site)
        time.sleep(1.0)
        assert recorded(slot).count() == count - 1  # the killed writer's message did not come back

        later = slot + RECOVER_AFTER + timedelta(seconds=3)
        assert probe_claims_recover(now=later) == 1
        assert probe_claims_recover(now=later) == 0
        wait_until(lambda: recorded(slot).count() == count, "the result of the run sent again", writers[1], site)

        stored = {(row["location"], probe.id): row for probe in probes for row in results_of(ops, probe, slot)}
        assert set(stored) == {(location, probe.id) for probe in probes}
        assert all(row["outcome"] == "up" for row in stored.values())

        # Every run again, as a redelivery would: it executes again at the site, nothing is stored twice.
        asked = len(server.seen)
        items = [run_encode(ProbeSpec(key=str(p.id), kind=Kind.HTTP, target=p.target, timeout=p.timeout), slot)
                 for p in probes]
        runs_send(slot=slot, batches={location: items})
        wait_until(lambda: len(server.seen) >= asked + count and queue_size(f"probes.{location}") == 0
                   and queue_size(results_queue) == 0, "the duplicated runs to execute and be delivered",
                   writers[1], site)
        time.sleep(1.5)  # the last result message taken is written by now
        again = {(row["location"], probe.id): row for probe in probes for row in results_of(ops, probe, slot)}
        assert again == stored
    finally:
        outputs = [stopped(process) for process in [site, *writers]]
    assert "Traceback" not in outputs[0], outputs[0]
