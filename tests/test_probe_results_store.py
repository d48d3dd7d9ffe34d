"""Dense raw results: written once per series and slot, late ones too, values only when they change
(and on each series' first result of an hour), read back whole; the migration carries old rows over."""
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from probes.engine.spec import Outcome, ProbeResult as RunResult
from probes.models import Probe, ProbeResult, ProbeRollup, ProbeStatus
from probes.results_store import probe_results_store
from probes.rollups import probe_rollups_update
from probes.selectors import probe_result_page
from topology.models import Service

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def series(db):
    service = Service.objects.create(name="orders")
    probe = Probe.objects.create(service=service, name="api", kind="tcp", target="127.0.0.1:9", interval=30,
                                 timeout=2, locations=["default"], next_due_at=T0)
    return ProbeStatus.objects.create(probe=probe, location="default")


def run(row, at, outcome=Outcome.UP, error="", **values):
    return RunResult(key=str(row.probe_id), outcome=outcome, latency_ms=12.3456, started_at=at + timedelta(
        milliseconds=7), finished_at=at + timedelta(milliseconds=20), values=values, error=error)


def record(row, at, **kwargs):
    """Store, then move the status on as probe_results_record does."""
    result = run(row, at, **kwargs)
    probe_results_store(location=row.location, slot=at, results=[result])
    if row.last_slot is None or row.last_slot < at:
        ProbeStatus.objects.filter(pk=row.pk).update(last_slot=at, values=result.values)
    row.refresh_from_db()


def stored(status):
    return list(ProbeResult.objects.filter(series=status).order_by("slot").values_list("slot", "values", "error"))


def test_it_handles_a_result_delivered_twice_by_writing_it_once(series):
    for _ in range(2):
        probe_results_store(location="default", slot=T0, results=[run(series, T0, status=200)])
    assert stored(series) == [(T0, {"status": 200}, None)]


def test_it_handles_a_late_result_by_writing_it_with_its_values(series):
    record(series, T0 + timedelta(minutes=1), status=200)
    record(series, T0 + timedelta(seconds=30), status=200)  # late: the status is already past it
    assert [values for _, values, _ in stored(series)] == [{"status": 200}, {"status": 200}]


def test_it_handles_unchanged_values_by_storing_them_only_when_they_change(series):
    slots = [T0 + timedelta(minutes=59), T0 + timedelta(minutes=59, seconds=30), T0 + timedelta(hours=1),
             T0 + timedelta(hours=1, seconds=30), T0 + timedelta(hours=1, minutes=1)]
    for at, status in zip(slots, [200, 200, 200, 200, 503]):
        record(series, at, status=status)
    # The first of each hour carries them, so a reader never looks back past its own hour.
    assert [values for _, values, _ in stored(series)] == [{"status": 200}, None, {"status": 200}, None,
                                                          {"status": 503}]
    page = probe_result_page(probe=series.probe, location=None, before=None, limit=10)
    assert [row["values"]["status"] for row in page] == [503, 200, 200, 200, 200]
    assert page[0]["started_at"] == slots[-1] + timedelta(milliseconds=7) and page[0]["error"] == ""
    assert page[0]["latency_ms"] == 12.346 and page[0]["location"] == "default"
    older = probe_result_page(probe=series.probe, location="default", before=slots[2], limit=1)
    assert [(row["slot"], row["values"]) for row in older] == [(slots[1], {"status": 200})]


def test_it_handles_an_error_by_storing_it_and_an_empty_one_as_null(series):
    record(series, T0, outcome=Outcome.DOWN, error="connection refused")
    record(series, T0 + timedelta(seconds=30))
    assert [error for _, _, error in stored(series)] == ["connection refused", None]
    assert ProbeResult.objects.get(slot=T0).outcome == "down"


def test_it_handles_a_result_of_a_location_the_probe_no_longer_has(series):
    probe_results_store(location="eu", slot=T0, results=[run(series, T0)])
    assert not ProbeResult.objects.exists()


def test_it_rolls_up_the_last_values_that_changed(series):
    for index in range(4):
        record(series, T0 + timedelta(seconds=30 * index), status=200 if index < 3 else 204)
    probe_rollups_update(now=T0 + timedelta(minutes=5))
    minutes = dict(ProbeRollup.objects.filter(period="m").values_list("bucket", "last_values"))
    assert minutes == {T0: {"status": 200}, T0 + timedelta(minutes=1): {"status": 204}}


def test_it_keys_series_by_a_four_byte_id():
    assert ProbeStatus._meta.pk.get_internal_type() == "AutoField"
    assert ProbeResult._meta.get_field("series").target_field.get_internal_type() == "AutoField"


@pytest.mark.django_db(transaction=True)
def test_it_migrates_results_and_rollups_of_the_old_shape():
    executor = MigrationExecutor(connection)
    executor.migrate([("probes", "0003_kafka_consumer_kind")])
    old = executor.loader.project_state([("probes", "0003_kafka_consumer_kind")]).apps
    team = old.get_model("topology", "Team").objects.create(slug="commerce", name="Commerce")
    service = old.get_model("topology", "Service").objects.create(name="orders", team=team)
    probe = old.get_model("probes", "Probe").objects.create(
        service=service, name="api", kind="tcp", target="127.0.0.1:9", interval=30, timeout=2,
        locations=["default", "eu"], next_due_at=T0)
    status = old.get_model("probes", "ProbeStatus").objects.create(probe=probe, location="default")
    Result = old.get_model("probes", "ProbeResult")
    Result.objects.create(probe=probe, location="default", slot=T0, started_at=T0 + timedelta(milliseconds=3),
                          latency_ms=480.25, outcome="down", values={"status": 503}, error="503")
    Result.objects.create(probe=probe, location="default", slot=T0 + timedelta(seconds=30),
                          started_at=T0 + timedelta(seconds=30, milliseconds=41), latency_ms=12.5, outcome="up",
                          values=None, error="")
    Result.objects.create(probe=probe, location="eu", slot=T0, started_at=T0, latency_ms=1.0, outcome="up")
    old.get_model("probes", "ProbeRollup").objects.create(
        probe=probe, location="default", period="h", bucket=T0, count=120, down=3, degraded=1, latency_p50=12.5,
        latency_p95=450.5, last_outcome="up", last_values={"status": 200})
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    rows = list(ProbeResult.objects.order_by("slot").values_list("series_id", "slot", "started_ms", "latency_ms",
                                                                  "outcome", "values", "error"))
    assert rows == [(status.id, T0, 3, 480.25, "down", {"status": 503}, "503"),
                    (status.id, T0 + timedelta(seconds=30), 41, 12.5, "up", {}, None)]  # "eu" had no status
    rollup = ProbeRollup.objects.get()
    assert (rollup.series_id, rollup.period, rollup.bucket, rollup.count, rollup.down, rollup.degraded,
            rollup.latency_p50, rollup.latency_p95, rollup.last_values) == (
        status.id, "h", T0, 120, 3, 1, 12.5, 450.5, {"status": 200})


def test_it_handles_a_late_result_between_unchanged_ones_without_changing_what_they_read(series):
    record(series, T0, status=200)
    record(series, T0 + timedelta(minutes=1), status=200)  # stored as "unchanged"
    record(series, T0 + timedelta(seconds=30), status=503)  # late, and different
    page = probe_result_page(probe=series.probe, location=None, before=None, limit=10)
    shown = {row["slot"]: row["values"] for row in page}
    assert shown[T0 + timedelta(minutes=1)] == {"status": 200}
    assert shown[T0 + timedelta(seconds=30)] == {"status": 503}
    assert shown[T0] == {"status": 200}
