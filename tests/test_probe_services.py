"""Probes on the database side: declarations become rows, dispatch, slot claims, state flips, rollups."""
from datetime import UTC, datetime, timedelta

import pytest

from core.actors import actor_for_cli
from topology.manifest import ServiceSpec
from probes.models import Probe, ProbeResult, ProbeRollup, ProbeStatus, RollupMark
from probes.rollups import percentile, probe_retention_apply, probe_rollups_update
from probes.selectors import probe_uptimes, service_health_map, service_uptime_map
from probes.services import (RECOVER_AFTER, probe_claims_recover, probe_results_receive, probe_results_record,
                             probes_dispatch)
from probes.engine.spec import Kind, Outcome, ProbeResult as RunResult
from probes.engine.wire import result_encode, runs_decode
from topology.registration import RegistrationInvalid, registration_apply

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def probe(name="api", **extra):
    return {"name": name, "type": "tcp", "target": "127.0.0.1:9", "interval": "30s", "timeout": "2s", **extra}


def register(name="orders", probes=(), team="commerce"):
    spec = ServiceSpec(name=name, team=team, probes=[_normalised(item) for item in probes])
    return registration_apply(specs=[spec], actor=actor_for_cli())


def _normalised(item):
    from probes.engine.spec import probe_declaration_check

    declaration, errors = probe_declaration_check(item)
    assert not errors, errors
    return declaration.as_manifest()


def result(probe_id, outcome=Outcome.UP, latency=5.0, at=T0, **values):
    return RunResult(key=str(probe_id), outcome=outcome, latency_ms=latency, started_at=at,
                     finished_at=at + timedelta(milliseconds=latency), values=values, error="")


def test_it_materialises_declared_probes_with_a_status_per_location(team, settings):
    settings.PROBE_LOCATIONS = ["default", "eu"]
    register(probes=[probe(), probe("queue", locations=["default", "eu"])])
    rows = {row.name: row for row in Probe.objects.all()}
    assert set(rows) == {"api", "queue"}
    assert set(ProbeStatus.objects.filter(probe=rows["queue"]).values_list("location", flat=True)) == {"default", "eu"}
    assert rows["api"].interval == 30 and rows["api"].timeout == 2


def test_it_keeps_rows_when_the_same_manifest_comes_again(team):
    register(probes=[probe()])
    first = Probe.objects.get()
    report = register(probes=[probe()])
    assert report["services"][0]["result"] == "unchanged"
    assert Probe.objects.get().pk == first.pk


def test_it_updates_and_removes_probes_with_the_declaration(team, settings):
    settings.PROBE_LOCATIONS = ["default", "eu"]
    register(probes=[probe(), probe("old")])
    register(probes=[probe(target="127.0.0.1:10", locations=["eu"])])
    row = Probe.objects.get()
    assert (row.name, row.target) == ("api", "127.0.0.1:10")
    assert list(row.statuses.values_list("location", flat=True)) == ["eu"]


def test_it_rejects_a_location_no_worker_serves(team):
    with pytest.raises(RegistrationInvalid) as caught:
        register(probes=[probe(locations=["default", "mars"])])
    assert caught.value.errors[0]["pointer"] == "/0/spec/probes/0/locations/1"
    assert not Probe.objects.exists()


def test_it_dispatches_due_probes_once_per_location(team, settings, django_capture_on_commit_callbacks, monkeypatch):
    settings.PROBE_LOCATIONS = ["default", "eu"]
    register(probes=[probe(), probe("two", locations=["default", "eu"])])
    Probe.objects.update(next_due_at=T0)
    sent = []
    monkeypatch.setattr("probes.services.runs_send", lambda **kw: sent.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        assert probes_dispatch(now=T0 + timedelta(seconds=1)) == 3
    assert sorted(len(items) for items in sent[0]["batches"].values()) == [1, 2]
    assert set(Probe.objects.values_list("next_due_at", flat=True)) == {T0 + timedelta(seconds=30)}
    assert probes_dispatch(now=T0 + timedelta(seconds=2)) == 0


def test_it_restarts_the_schedule_of_a_probe_that_fell_behind(team):
    register(probes=[probe()])
    Probe.objects.update(next_due_at=T0)
    later = T0 + timedelta(hours=1)
    probes_dispatch(now=later)
    assert Probe.objects.get().next_due_at == later + timedelta(seconds=30)


def test_it_dispatches_the_spec_and_marks_each_location_claimed(team, settings, django_capture_on_commit_callbacks,
                                                                  monkeypatch):
    settings.PROBE_LOCATIONS = ["default", "eu"]
    register(probes=[probe(locations=["default", "eu"], expect={"max_latency_ms": 50})])
    Probe.objects.update(next_due_at=T0)
    sent = []
    monkeypatch.setattr("probes.services.runs_send", lambda **kw: sent.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        probes_dispatch(now=T0 + timedelta(milliseconds=300))
    row = Probe.objects.get()
    for location in ("default", "eu"):
        [spec], [due] = runs_decode(sent[0]["batches"][location])
        assert (spec.key, spec.kind, spec.target, spec.timeout) == (str(row.id), Kind.TCP, "127.0.0.1:9", 2.0)
        assert spec.expect == {"max_latency_ms": 50} and due == T0
    claims = set(ProbeStatus.objects.values_list("location", "claimed_slot"))
    assert claims == {("default", T0), ("eu", T0)}
    assert ProbeStatus.objects.values("claim_token").distinct().count() == 1  # one UPDATE for the dispatch


def test_it_sends_again_once_the_runs_with_no_result(team, settings, django_capture_on_commit_callbacks, monkeypatch):
    settings.PROBE_LOCATIONS = ["default", "eu"]
    register(probes=[probe(locations=["default", "eu"]), probe("two")])
    Probe.objects.update(next_due_at=T0)
    sent = []
    monkeypatch.setattr("probes.services.runs_send", lambda **kw: sent.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        probes_dispatch(now=T0)
    api, two = Probe.objects.get(name="api"), Probe.objects.get(name="two")
    probe_results_record(location="eu", slot=T0, results=[result(api.id)])  # only the eu run came back
    sent.clear()
    assert probe_claims_recover(now=T0 + RECOVER_AFTER) == 0  # not before the timeout has passed too
    later = T0 + RECOVER_AFTER + timedelta(seconds=3)
    assert probe_claims_recover(now=later) == 2
    resent = {(location, spec.key, spec.target) for call in sent for location, items in call["batches"].items()
              for spec in runs_decode(items)[0]}
    assert resent == {("default", str(api.id), "127.0.0.1:9"), ("default", str(two.id), "127.0.0.1:9")}
    assert {call["slot"] for call in sent} == {T0}
    assert probe_claims_recover(now=later) == 0  # sent again once, not at every look


def test_it_stores_a_late_result_and_skips_one_for_a_probe_gone_from_the_location(team, settings):
    settings.PROBE_LOCATIONS = ["default", "eu"]
    register(probes=[probe()])
    row = Probe.objects.get()
    newer = T0 + timedelta(seconds=30)
    probe_results_record(location="default", slot=newer, results=[result(row.id, Outcome.DOWN, at=newer)])
    items = [result_encode(result(row.id, at=T0))]
    assert probe_results_receive(location="default", slot=T0, items=items) == 1  # late: stored
    assert probe_results_receive(location="eu", slot=T0, items=items) == 0  # the probe does not run in eu
    assert probe_results_receive(location="default", slot=T0, items=[result_encode(result(row.id + 99))]) == 0
    assert ProbeStatus.objects.get().outcome == "down"  # the late result moved nothing back
    assert ProbeResult.objects.count() == 2


def test_it_flips_state_and_keeps_since_while_it_holds(team):
    register(probes=[probe()])
    row = Probe.objects.get()
    probe_results_record(location="default", slot=T0, results=[result(row.id, at=T0)])
    status = ProbeStatus.objects.get()
    assert (status.outcome, status.since) == ("up", T0 + timedelta(milliseconds=5))
    later = T0 + timedelta(seconds=30)
    probe_results_record(location="default", slot=later, results=[result(row.id, Outcome.DOWN, at=later)])
    probe_results_record(location="default", slot=later + timedelta(seconds=30),
                         results=[result(row.id, Outcome.DOWN, at=later + timedelta(seconds=30))])
    status.refresh_from_db()
    assert (status.outcome, status.since) == ("down", later + timedelta(milliseconds=5))


def test_it_ignores_a_late_result_for_an_older_slot(team):
    register(probes=[probe()])
    row = Probe.objects.get()
    newer = T0 + timedelta(seconds=30)
    probe_results_record(location="default", slot=newer, results=[result(row.id, Outcome.DOWN, at=newer)])
    probe_results_record(location="default", slot=T0, results=[result(row.id, Outcome.UP, at=T0)])
    assert ProbeStatus.objects.get().outcome == "down"
    assert ProbeResult.objects.count() == 2


def test_it_stores_one_result_per_slot_when_a_batch_is_recorded_twice(team):
    register(probes=[probe()])
    row = Probe.objects.get()
    for _ in range(2):
        probe_results_record(location="default", slot=T0, results=[result(row.id, status=200)])
    assert ProbeResult.objects.count() == 1
    assert ProbeResult.objects.get().values == {"status": 200}


def _history(probe_id, minutes, down_every=0, start=T0):
    for index in range(minutes * 2):
        at = start + timedelta(seconds=30 * index)
        outcome = Outcome.DOWN if down_every and index % down_every == 0 else Outcome.UP
        probe_results_record(location="default", slot=at, results=[result(probe_id, outcome, latency=index % 10 + 1, at=at)])


def test_it_rolls_up_closed_minutes_and_hours(team):
    register(probes=[probe()])
    row = Probe.objects.get()
    _history(row.id, minutes=120, down_every=4)
    written = probe_rollups_update(now=T0 + timedelta(hours=2, minutes=5))
    assert written == {"m": 120, "h": 2}
    hour = ProbeRollup.objects.get(period="h", bucket=T0)
    assert (hour.count, hour.down, hour.latency_p50) == (120, 30, 5.0)
    assert hour.latency_p95 == 10.0
    assert probe_rollups_update(now=T0 + timedelta(hours=2, minutes=5)) == {"m": 0, "h": 0}
    assert RollupMark.objects.get(period="m").through == T0 + timedelta(hours=2, minutes=3)


def test_it_reads_uptime_from_hours_and_the_minutes_after_them(team):
    register(probes=[probe()])
    row = Probe.objects.get()
    _history(row.id, minutes=90, down_every=4)
    now = T0 + timedelta(hours=1, minutes=40)
    probe_rollups_update(now=now)
    uptime = probe_uptimes(probe_ids=[row.id], now=now)[row.id]
    assert uptime["24h"] == pytest.approx(0.75, abs=0.01)
    assert service_uptime_map() == {"orders": 0.75}


def test_it_shows_the_worst_state_of_a_service(team, settings):
    settings.PROBE_LOCATIONS = ["default", "eu"]
    register(probes=[probe(locations=["default", "eu"]), probe("b")])
    ids = dict(Probe.objects.values_list("name", "id"))
    probe_results_record(location="default", slot=T0, results=[result(ids["api"]), result(ids["b"], Outcome.DEGRADED)])
    assert service_health_map() == {"orders": "degraded"}
    probe_results_record(location="eu", slot=T0, results=[result(ids["api"], Outcome.DOWN)])
    assert service_health_map() == {"orders": "down"}


def test_it_prunes_by_retention(team, settings):
    register(probes=[probe()])
    row = Probe.objects.get()
    _history(row.id, minutes=5, start=T0 - timedelta(minutes=2))
    probe_rollups_update(now=T0 + timedelta(minutes=10))
    settings.PROBE_RAW_RETENTION_HOURS = 1
    deleted = probe_retention_apply(now=T0 + timedelta(hours=1, minutes=3))  # raw results go by whole hours
    assert deleted["raw"] == 4 and ProbeResult.objects.count() == 6
    assert probe_retention_apply(now=T0 + timedelta(days=4))["minute"] == 5


def test_it_takes_nearest_rank_percentiles():
    values = sorted(range(1, 101))
    assert (percentile(values, 0.5), percentile(values, 0.95), percentile([7], 0.95)) == (50, 95, 7)


def test_it_builds_both_charts_from_real_series(team):
    import json

    from probes.charts import latency_figure, uptime_heatmap
    from probes.selectors import probe_latency_series, probe_uptime_grid

    register(probes=[probe()])
    row = Probe.objects.get()
    _history(row.id, minutes=150, down_every=5)
    now = T0 + timedelta(hours=2, minutes=40)
    probe_rollups_update(now=now)
    series = probe_latency_series(probe=row, now=now)
    assert len(series["default"]) >= 150
    latency = json.loads(latency_figure(series))
    assert latency["data"][1]["fillcolor"].startswith("rgba(")
    grid = probe_uptime_grid(probe=row, days=2, now=now)
    assert grid["grid"][-1][12] == pytest.approx(0.8)
    assert json.loads(uptime_heatmap(grid))["data"][0]["z"][-1][12] == 80.0


def test_it_reads_uptime_from_minutes_before_any_hour_has_closed(team):
    register(probes=[probe()])
    row = Probe.objects.get()
    _history(row.id, minutes=20, down_every=2)
    now = T0 + timedelta(minutes=25)
    assert probe_rollups_update(now=now) == {"m": 20, "h": 0}
    assert probe_uptimes(probe_ids=[row.id], now=now)[row.id]["24h"] == pytest.approx(0.5)
