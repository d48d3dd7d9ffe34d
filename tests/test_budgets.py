"""Latency budgets along sync chains: the pure analysis, the finding, and the interaction page."""
from datetime import timedelta

import pytest
from django.utils import timezone

from probes.models import Probe, ProbeRollup, ProbeStatus
from tests.factories import register, rest, service_doc
from topology import budgets, graph
from topology.graph_selectors import findings_current

CHAIN = graph.Topology(
    nodes={name: graph.Node(name) for name in ("checkout", "orders", "payment", "fraud", "stock", "mail")},
    links=[graph.Link("checkout", "orders", "place-order", style="rest"),
           graph.Link("orders", "payment", "pay", style="rest"),
           graph.Link("payment", "fraud", "screen", style="grpc"),
           graph.Link("orders", "stock", "reserve", style="rest"),
           graph.Link("orders", "mail", "order-placed", style="pubsub")])
BUDGET = {("checkout", "place-order"): 300.0}


def test_it_sums_the_slowest_sync_path_below_a_budgeted_call():
    latency = {"orders": {"default": 120}, "payment": {"default": 95}, "fraud": {"default": 140},
               "stock": {"default": 30}, "mail": {"default": 900}}
    [check] = budgets.budget_checks(CHAIN, BUDGET, latency)
    assert [hop.service for hop in check.hops] == ["orders", "payment", "fraud"]  # async mail is not waited for
    assert (check.total_ms, check.fits) == (355, False)
    assert check.text() == ("checkout's 300 ms budget for place-order < 120 + 95 + 140 = 355 ms p95 along "
                            "orders → payment → fraud at default (§3.5)")
    [finding] = budgets.budget_findings([check])
    assert (finding.kind, finding.severity, finding.services) == ("latency-budget", "warning",
                                                                  ("checkout", "orders", "payment", "fraud"))


def test_it_checks_each_location_on_its_own_and_counts_unmeasured_hops_as_zero():
    latency = {"orders": {"default": 100, "eu": 250}, "payment": {"default": 90}, "stock": {"eu": 80}}
    checks = {check.location: check for check in budgets.budget_checks(CHAIN, BUDGET, latency)}
    assert checks["default"].fits and checks["default"].total_ms == 190
    assert not checks["eu"].fits and [h.service for h in checks["eu"].hops] == ["orders", "stock"]
    assert checks["eu"].total_ms == 330 and checks["eu"].unmeasured == []
    assert checks["default"].unmeasured == ["fraud"]


def test_it_leaves_out_interactions_without_a_budget_or_without_measurements():
    assert budgets.budget_checks(CHAIN, {}, {"orders": {"default": 999}}) == []
    assert budgets.budget_checks(CHAIN, BUDGET, {"nobody": {"default": 5}}) == []


def test_it_handles_a_cycle_below_the_call():
    looped = graph.Topology(nodes=CHAIN.nodes, links=[*CHAIN.links, graph.Link("fraud", "orders", "back", style="rest")])
    [check] = budgets.budget_checks(looped, BUDGET, {"orders": {"default": 400}})
    assert not check.fits  # cycles are findings of their own; the path below stays finite


def rollups(probe: Probe, p95: float, *, location: str = "default", minutes: int = 30) -> None:
    now = timezone.now().replace(second=0, microsecond=0)
    series = ProbeStatus.objects.get_or_create(probe=probe, location=location)[0]
    ProbeRollup.objects.bulk_create([
        ProbeRollup(series=series, period="m", bucket=now - timedelta(minutes=n), count=2, down=0,
                    degraded=0, latency_p50=p95 / 2, latency_p95=p95, last_outcome="up") for n in range(minutes)])


@pytest.fixture
def measured_chain(team):
    health = [{"name": "health", "type": "http", "target": "http://127.0.0.1:9/health"}]
    register(service_doc("checkout", interactions=[rest("place-order", "orders", criteria={"latency_budget_ms": 300})]),
             service_doc("orders", interactions=[rest("pay", "payment")], probes=health),
             service_doc("payment", interactions=[rest("screen", "fraud")], probes=health),
             service_doc("fraud", probes=health))
    for name, p95 in (("orders", 120), ("payment", 95), ("fraud", 140)):
        rollups(Probe.objects.get(service__name=name), p95)


def test_it_lists_a_budget_that_cannot_fit_with_the_findings(measured_chain, client, maintainer):
    found = [f for f in findings_current() if f.kind == "latency-budget"]
    assert [f.text for f in found] == ["checkout's 300 ms budget for place-order < 120 + 95 + 140 = 355 ms p95 along "
                                       "orders → payment → fraud at default (§3.5)"]
    client.force_login(maintainer)
    listed = client.get("/api/v1/topology/findings/").json()
    rows = listed if isinstance(listed, list) else listed.get("results", listed.get("findings", []))
    assert any(row["kind"] == "latency-budget" for row in rows)


def test_it_draws_the_budget_and_each_hops_share_on_the_interaction_page(measured_chain, client, maintainer):
    client.force_login(maintainer)
    page = client.get("/services/checkout/interactions/place-order/").content.decode()
    assert 'id="latency-budget"' in page and "cannot fit" in page and "355 ms p95 along" in page
    assert page.count('class="budget-hop ') == 3 and 'x1="84.51"' in page  # 300 / 355 of the bar


def test_it_shows_no_budget_card_without_a_budget(measured_chain, client, maintainer):
    client.force_login(maintainer)
    page = client.get("/services/orders/interactions/pay/").content.decode()
    assert 'id="latency-budget"' not in page
