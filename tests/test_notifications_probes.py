"""Probe state changes in the outbox: flapping protection, maintenance windows, mutes, and one
announcement per change when two workers record results of one probe at the same time."""
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from core.actors import actor_for_cli
from core.errors import Invalid
from notifications import events as outbox
from notifications.models import Event, ProbeMute
from notifications.services import probe_mute_set, window_create
from probes.engine.spec import Outcome, ProbeResult as RunResult
from probes.models import Probe, ProbeStatus
from probes.services import probe_results_record
from tests.notification_helpers import webhook
from tests.test_probe_services import register

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SLOT = timedelta(seconds=30)


@pytest.fixture(autouse=True)
def no_queue(monkeypatch):
    monkeypatch.setattr(outbox, "deliveries_queue", lambda *, delivery_ids: None)


@pytest.fixture
def api_probe(team):
    register(probes=[{"name": "api", "type": "tcp", "target": "127.0.0.1:9", "interval": "30s", "timeout": "2s"}])
    webhook(team, "http://127.0.0.1:9/hook")
    return Probe.objects.get()


def record(probe, outcomes, *, start=0):
    """Results of `probe` at consecutive slots from T0 + start slots."""
    for n, outcome in enumerate(outcomes, start=start):
        at = T0 + n * SLOT
        error = "" if outcome == Outcome.UP else "connection refused"
        probe_results_record(location="default", slot=at, results=[RunResult(
            key=str(probe.id), outcome=outcome, latency_ms=3.0, started_at=at, finished_at=at + timedelta(seconds=0.003),
            values={"connect_ms": 3.0}, error=error)])


def announced():
    return list(Event.objects.order_by("occurred_at").values_list("type", flat=True))


UP, DOWN, DEGRADED = Outcome.UP, Outcome.DOWN, Outcome.DEGRADED


def test_it_announces_nothing_for_a_probe_that_starts_up(api_probe):
    record(api_probe, [UP, UP, UP])
    assert announced() == [] and ProbeStatus.objects.get().confirmed == "up"


def test_it_announces_down_after_two_failures_in_a_row_and_up_after_two_successes(api_probe):
    record(api_probe, [UP, UP, DOWN])
    assert announced() == []
    record(api_probe, [DOWN], start=3)
    assert announced() == ["probe.down"]
    record(api_probe, [UP], start=4)
    assert announced() == ["probe.down"]
    record(api_probe, [UP, UP], start=5)
    assert announced() == ["probe.down", "probe.up"]


def test_it_announces_nothing_while_a_probe_flaps(api_probe):
    record(api_probe, [UP, UP, DOWN, UP, DOWN, UP, DOWN, UP])
    assert announced() == []


def test_it_takes_the_thresholds_from_settings(api_probe, settings):
    settings.PROBE_DOWN_AFTER, settings.PROBE_UP_AFTER = 3, 1
    record(api_probe, [UP, DOWN, DOWN])
    assert announced() == []
    record(api_probe, [DOWN, UP], start=3)
    assert announced() == ["probe.down", "probe.up"]


def test_it_announces_degraded_and_carries_the_probe_in_the_payload(api_probe):
    record(api_probe, [UP, UP, DEGRADED, DEGRADED])
    event = Event.objects.get()
    assert event.type == "probe.degraded" and event.service == "orders" and event.teams == ["commerce"]
    probe = event.payload["probe"]
    assert (probe["name"], probe["location"], probe["previous"], probe["state"]) == ("api", "default", "up", "degraded")
    assert probe["values"] == {"connect_ms": 3.0} and event.payload["summary"].startswith("orders/api is degraded at default")
    assert event.payload["url"].endswith("/services/orders/probes/api/")
    assert event.deliveries.count() == 1


def test_it_holds_the_events_of_a_service_in_a_maintenance_window(api_probe):
    window_create(actor=actor_for_cli(), starts_at=T0, ends_at=T0 + 10 * SLOT, services=["orders"], reason="upgrade")
    record(api_probe, [UP, UP, DOWN, DOWN])
    event = Event.objects.get()
    assert event.suppressed == "maintenance" and event.deliveries.count() == 0
    record(api_probe, [UP, UP, UP, UP, UP, UP, DOWN, DOWN], start=4)  # the window closed at slot 10
    assert Event.objects.filter(suppressed="").get().type == "probe.down"


def test_it_holds_the_events_of_a_muted_probe_until_the_mute_ends(api_probe):
    ProbeMute.objects.create(probe=api_probe, until=T0 + 5 * SLOT)
    record(api_probe, [UP, UP, DOWN, DOWN])
    assert Event.objects.get().suppressed == "muted"
    record(api_probe, [UP, UP, DOWN, DOWN], start=4)
    assert list(Event.objects.order_by("occurred_at").values_list("type", "suppressed")) == [
        ("probe.down", "muted"), ("probe.up", ""), ("probe.down", "")]


def test_it_rejects_a_mute_in_the_past(api_probe):
    with pytest.raises(Invalid):
        probe_mute_set(actor=actor_for_cli(), probe=api_probe, until=T0)


@pytest.mark.django_db(transaction=True)
def test_it_announces_one_change_once_when_two_workers_record_at_the_same_time(team):
    register(probes=[{"name": "api", "type": "tcp", "target": "127.0.0.1:9", "interval": "30s", "timeout": "2s"}])
    webhook(team, "http://127.0.0.1:9/hook")
    probe = Probe.objects.get()
    record(probe, [UP, UP, DOWN])  # one more down confirms it: both workers below bring one
    barrier = threading.Barrier(2)
    failures = []

    def worker(n):
        try:
            barrier.wait()
            record(probe, [DOWN], start=3 + n)
        except Exception as exc:  # noqa: BLE001  reported by the assertion below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert announced() == ["probe.down"]
    assert ProbeStatus.objects.get().streak in (2, 3)  # 2 when the later slot landed first: the earlier is ignored
