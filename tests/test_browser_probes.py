"""Probes in Chromium: add one with the form, press probe now with a real worker, read the pages.

Screenshots go to var/screenshots/ (probe_form_errors, probe_detail, probe_list, service_probes).
"""
import socket
import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.browser_helpers import make_user, screenshot, sign_in  # sets DJANGO_ALLOW_ASYNC_UNSAFE first
from tests.test_probe_worker import LOCATION, probe_worker  # noqa: F401 - a fixture used below
from core.actors import actor_for_cli
from topology.manifest import ServiceSpec
from topology.models import Team
from probes.models import Probe
from probes.rollups import probe_rollups_update
from probes.services import probe_results_record
from probes.engine.spec import Outcome, ProbeResult
from topology.registration import registration_apply


@pytest.fixture
def listening():
    """A loopback port that accepts connections (a TCP probe's target)."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                server.accept()[0].close()
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    server.close()


@pytest.fixture
def shop(transactional_db, settings):
    settings.PROBE_LOCATIONS = ["default", LOCATION]
    team = Team.objects.create(slug="commerce", name="Commerce")
    registration_apply(specs=[ServiceSpec(name="orders", team="commerce")], actor=actor_for_cli())
    return make_user("maria", team=team, role="maintainer")


def test_it_adds_a_probe_and_runs_it_now_through_a_worker(page, live_server, shop, listening, probe_worker):
    sign_in(page, live_server.url, "maria")
    page.goto("/services/orders/")
    page.locator("#probes").get_by_role("link", name="+ Add").click()
    page.fill("#id_name", "port")
    page.select_option("#id_type", "tcp")
    page.fill("#id_target", "127.0.0.1:not-a-port")
    page.fill("#id_interval", "5s")
    page.get_by_role("button", name="Add probe").click()
    assert page.locator(".has-error").count() >= 2
    screenshot(page, "probe_form_errors")
    page.fill("#id_target", listening)
    page.fill("#id_interval", "30s")
    page.locator(f"input[name=locations][value={LOCATION}]").check()
    page.locator("input[name=locations][value=default]").uncheck()
    page.get_by_role("button", name="Add probe").click()
    page.wait_for_url("**/probes/port/")
    assert "Not run yet" in page.locator(".probe-locations-grid").inner_text()
    page.get_by_role("button", name="Probe now").click()
    page.locator("#probe-run", has_text="Done.").wait_for(timeout=60_000)
    assert "Up" in page.locator("#probe-run").inner_text()
    page.reload()
    assert "Up" in page.locator(".probe-locations-grid").inner_text()
    screenshot(page, "probe_detail_first_run")


def _history(probe: Probe, hours: int) -> None:
    """Two days of results for the charts, one every five minutes, with an outage."""
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours)
    for index in range(hours * 12):
        at = start + timedelta(minutes=5 * index)
        outage = hours * 12 - 40 < index < hours * 12 - 30
        outcome = Outcome.DOWN if outage else (Outcome.DEGRADED if index % 37 == 0 else Outcome.UP)
        latency = 12 + (index % 12) * 1.5 + (40 if index % 37 == 0 else 0)
        for location in probe.locations:
            probe_results_record(location=location, slot=at, results=[ProbeResult(
                key=str(probe.id), outcome=outcome, latency_ms=latency + (6 if location != "default" else 0),
                started_at=at, finished_at=at, values={"ready": index % 50, "consumers": 0 if outage else 2},
                error="consumers=0 below min_consumers=1" if outage else "")])


def test_it_shows_state_uptime_and_charts(page, live_server, shop):
    declared = [{"name": "jobs-queue", "type": "rabbitmq-queue", "target": "amqp://guest:s3cret@127.0.0.1:5672/",
                 "queue": "thumbnails.jobs", "interval": "30s", "timeout": "5s", "locations": ["default", LOCATION],
                 "expect": {"max_ready": 1000, "min_consumers": 1}}]
    registration_apply(specs=[ServiceSpec(name="orders", team="commerce", probes=declared)], actor=actor_for_cli())
    probe = Probe.objects.get()
    _history(probe, hours=48)
    probe_rollups_update(now=timezone.now())
    probe_rollups_update(now=timezone.now())
    sign_in(page, live_server.url, "maria")
    page.goto("/services/orders/probes/jobs-queue/")
    page.locator("#latency-data + *, .probe-chart .main-svg").first.wait_for()
    assert page.locator(".probe-chart .main-svg").count() >= 2
    text = page.inner_text("main")
    assert "s3cret" not in text and "guest:***@" in text
    screenshot(page, "probe_detail")
    page.goto("/probes/")
    assert "jobs-queue" in page.inner_text("main")
    screenshot(page, "probe_list")
    page.goto("/services/orders/")
    screenshot(page, "service_probes")
