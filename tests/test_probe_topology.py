"""Probe state in the topology: nodes filled by health, chains measured, caches refreshed on a flip."""
from datetime import timedelta

import pytest
from django.utils import timezone

from probes.models import Probe
from probes.rollups import probe_rollups_update
from probes.services import probe_results_record
from probes.engine.spec import Outcome, ProbeResult


def record(probe: Probe, outcome: Outcome, at) -> None:
    probe_results_record(location="default", slot=at, results=[ProbeResult(
        key=str(probe.id), outcome=outcome, latency_ms=4.0, started_at=at, finished_at=at)])


def node(body: dict, name: str) -> dict:
    return next(item for item in body["nodes"] if item["name"] == name)


def test_it_fills_nodes_by_health_and_redraws_when_it_flips(admin):
    probe = Probe.objects.get(service__name="storefront-web")
    now = timezone.now()
    record(probe, Outcome.UP, now - timedelta(seconds=30))
    assert node(admin.get("/api/v1/topology/?format=json").json(), "storefront-web")["health"] == "up"
    dot = admin.get("/api/v1/topology/?format=dot").content.decode()
    assert '"storefront-web"' in dot and "#e3f4e8" in dot
    record(probe, Outcome.DOWN, now)
    assert node(admin.get("/api/v1/topology/?format=json").json(), "storefront-web")["health"] == "down"
    assert "#fbdcdc" in admin.get("/api/v1/topology/?format=dot").content.decode()


def test_it_uses_measured_uptime_for_chain_availability(admin):
    probe = Probe.objects.get(service__name="storefront-web")
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    for index in range(240):  # two hours at 30 s, one run in ten down
        record(probe, Outcome.DOWN if index % 10 == 0 else Outcome.UP, start + timedelta(seconds=30 * index))
    probe_rollups_update(now=start + timedelta(hours=2, minutes=5))
    body = admin.get("/api/v1/topology/?format=json").json()
    storefront = node(body, "storefront-web")
    assert storefront["availability"] == pytest.approx(0.9)
    assert storefront["availability_source"] == "measured"
    chains = [f for f in admin.get("/api/v1/topology/findings/?kind=chain-availability").json()["results"]
              if f["kind"] == "chain-availability" and f["services"][0] == "storefront-web"]
    assert chains and chains[0]["text"].startswith("90% ×")
